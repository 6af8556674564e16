package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/wI2L/jsondiff"

	"github.com/vigilsec/vigil/providers"
)

// ChangeCounts summarises what applying a unit changed.
type ChangeCounts struct {
	Created   int `json:"created"`
	Modified  int `json:"modified"`
	Deleted   int `json:"deleted"`
	Unchanged int `json:"unchanged"`
}

// ApplyUnitParams describes one unit's documents to store.
type ApplyUnitParams struct {
	AccountID  uuid.UUID
	ScanID     uuid.UUID
	ObservedAt time.Time
	Unit       providers.Unit
	Docs       []providers.Resource
	// Complete means the unit finished: resources of its types in its region that it
	// did not emit are gone. A failed unit never deletes anything.
	Complete bool
}

// hashedDoc is a document ready for storage. Only its hash is computed up front; the
// decoded comparable form and the full encoding are made for changed documents only.
type hashedDoc struct {
	doc        *providers.Resource
	comparable []byte // canonical JSON of what drift compares
	hash       []byte
}

// comparable is the part of a document whose change is drift.
type comparable struct {
	Type       string               `json:"type"`
	Region     string               `json:"region"`
	Name       string               `json:"name"`
	Tags       map[string]string    `json:"tags"`
	Properties map[string]any       `json:"properties"`
	Relations  []providers.Relation `json:"relations"`
}

func prepare(d *providers.Resource) (hashedDoc, error) {
	if d.Tags == nil {
		d.Tags = map[string]string{}
	}
	if d.Properties == nil {
		d.Properties = map[string]any{}
	}
	c := comparable{Type: d.Type, Region: d.Region, Name: d.Name, Tags: d.Tags,
		Properties: providers.StableProperties(d.Type, d.Properties), Relations: d.Relations}
	cb, err := json.Marshal(c) // map keys are sorted: the encoding is canonical
	if err != nil {
		return hashedDoc{}, fmt.Errorf("encode %s: %w", d.NativeID, err)
	}
	h := sha256.Sum256(cb)
	return hashedDoc{doc: d, comparable: cb, hash: h[:]}, nil
}

// stable decodes the comparable form, for diffing.
func (h *hashedDoc) stable() (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal(h.comparable, &m)
	return m, err
}

// ResourceApplyUnit stores one unit's documents: unchanged documents only move
// last_seen; new and changed ones get a new version with the RFC 6902 patch from the
// previous one; with Complete, resources of the unit's coverage that were not seen are
// marked deleted (also a version). Bulk: one COPY into a temporary table, then
// set-based statements.
func ResourceApplyUnit(ctx context.Context, tx pgx.Tx, p ApplyUnitParams) (ChangeCounts, error) {
	var counts ChangeCounts
	docs := make([]hashedDoc, 0, len(p.Docs))
	var withGaps []string
	for i := range p.Docs {
		if len(p.Docs[i].Gaps) > 0 {
			withGaps = append(withGaps, p.Docs[i].NativeID)
		}
	}
	// A property that could not be read keeps its last known value for comparison, so
	// an AccessDenied does not read as "the bucket policy was removed". The gap stays
	// listed and makes checks that need it unknown.
	if len(withGaps) > 0 {
		if err := fillGapsFromCurrent(ctx, tx, p.AccountID, withGaps, p.Docs); err != nil {
			return counts, err
		}
	}
	// A collector may list one resource twice (overlapping pages): keep the first.
	seen := make(map[string]bool, len(p.Docs))
	for i := range p.Docs {
		d := &p.Docs[i]
		if seen[d.NativeID] {
			continue
		}
		seen[d.NativeID] = true
		hd, err := prepare(d)
		if err != nil {
			return counts, err
		}
		docs = append(docs, hd)
	}

	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS incoming_resources (
			native_id text, type text, region text, name text, tags jsonb, properties jsonb, gaps jsonb,
			relations jsonb, content_hash bytea) ON COMMIT DROP`); err != nil {
		return counts, fmt.Errorf("temp table: %w", err)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE incoming_resources"); err != nil {
		return counts, err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_resources"},
		[]string{"native_id", "type", "region", "name", "tags", "properties", "gaps", "relations", "content_hash"},
		pgx.CopyFromSlice(len(docs), func(i int) ([]any, error) {
			d := docs[i].doc
			gaps := d.Gaps
			if gaps == nil {
				gaps = []providers.Gap{}
			}
			rels := d.Relations
			if rels == nil {
				rels = []providers.Relation{}
			}
			return []any{d.NativeID, d.Type, d.Region, d.Name, d.Tags, d.Properties, gaps, rels, docs[i].hash}, nil
		}))
	if err != nil {
		return counts, fmt.Errorf("copy resources: %w", err)
	}
	// Staged rows need an index and statistics: without them the planner may join
	// 100,000 staged rows against resources (themselves fresh, unanalysed) with nested
	// sequential scans, minutes instead of a second.
	if _, err := tx.Exec(ctx, "CREATE INDEX IF NOT EXISTS incoming_resources_native ON incoming_resources (native_id)"); err != nil {
		return counts, fmt.Errorf("index staged resources: %w", err)
	}
	if _, err := tx.Exec(ctx, "ANALYZE incoming_resources"); err != nil {
		return counts, fmt.Errorf("analyze staged resources: %w", err)
	}

	// Unchanged: only last_seen moves (and volatile fields, which are not drift).
	// Identical properties keep the stored value, so a large (TOASTed) document is not
	// written again; only the volatile fields, which are not drift, are refreshed.
	tag, err := tx.Exec(ctx, `UPDATE resources r SET last_seen = $2, last_scan_id = $3,
			properties = CASE WHEN r.properties = i.properties THEN r.properties ELSE i.properties END,
			gaps = CASE WHEN r.gaps = i.gaps THEN r.gaps ELSE i.gaps END
		FROM incoming_resources i
		WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.native_id = i.native_id
		  AND r.content_hash = i.content_hash AND r.deleted_at IS NULL`, p.AccountID, p.ObservedAt, p.ScanID)
	if err != nil {
		return counts, fmt.Errorf("touch unchanged resources: %w", err)
	}
	counts.Unchanged = int(tag.RowsAffected())

	// The previous documents of changed resources, to compute their patches.
	prev := map[string]map[string]any{}
	rows, err := tx.Query(ctx, `SELECT r.native_id, r.type, r.region, r.name, r.tags, r.properties, r.relations
		FROM resources r JOIN incoming_resources i ON i.native_id = r.native_id
		WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1
		  AND (r.content_hash <> i.content_hash OR r.deleted_at IS NOT NULL)`, p.AccountID)
	if err != nil {
		return counts, fmt.Errorf("read previous versions: %w", err)
	}
	for rows.Next() {
		var native string
		var d providers.Resource
		if err := rows.Scan(&native, &d.Type, &d.Region, &d.Name, &d.Tags, &d.Properties, &d.Relations); err != nil {
			rows.Close()
			return counts, err
		}
		h, err := prepare(&d)
		if err != nil {
			rows.Close()
			return counts, err
		}
		if prev[native], err = h.stable(); err != nil {
			rows.Close()
			return counts, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return counts, err
	}

	// New and changed: insert or bump the version. A new resource's first version is
	// written by the same statement (its document is the staged row; no patch); changed
	// ones come back for their patches.
	provider, cloudAccount := "", ""
	if len(docs) > 0 {
		provider, cloudAccount = docs[0].doc.Provider, docs[0].doc.AccountID
	}
	rows, err = tx.Query(ctx, `WITH up AS (INSERT INTO resources AS r (tenant_id, id, account_id, native_id, type, region, name, tags,
			properties, gaps, relations, content_hash, version, first_seen, last_seen, last_scan_id)
		SELECT vigil_current_tenant(), gen_random_uuid(), $1, i.native_id, i.type, i.region, i.name, i.tags, i.properties,
			i.gaps, i.relations, i.content_hash, 1, $2, $2, $3
		FROM incoming_resources i
		-- Only new and changed rows: an unchanged one was handled above, and attempting it
		-- here would cost a speculative insertion each.
		WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1
			AND r.native_id = i.native_id AND r.content_hash = i.content_hash AND r.deleted_at IS NULL)
		ON CONFLICT (tenant_id, account_id, native_id) DO UPDATE SET
			type = excluded.type, region = excluded.region, name = excluded.name, tags = excluded.tags,
			properties = excluded.properties, gaps = excluded.gaps, relations = excluded.relations,
			content_hash = excluded.content_hash, version = r.version + 1, last_seen = excluded.last_seen,
			last_scan_id = excluded.last_scan_id, deleted_at = NULL
		WHERE r.content_hash <> excluded.content_hash OR r.deleted_at IS NOT NULL
		RETURNING r.id, r.native_id, r.version),
	created AS (INSERT INTO resource_versions (tenant_id, resource_id, version, scan_id, observed_at, change, document, patch, content_hash)
		SELECT vigil_current_tenant(), up.id, 1, $3, $2, 'created',
			-- The same shape as providers.Resource's JSON: gaps and relations only when present.
			jsonb_build_object('provider', $4::text, 'account_id', $5::text, 'native_id', i.native_id, 'type', i.type,
				'region', i.region, 'name', i.name, 'tags', i.tags, 'properties', i.properties)
				|| CASE WHEN i.gaps = '[]'::jsonb THEN '{}'::jsonb ELSE jsonb_build_object('gaps', i.gaps) END
				|| CASE WHEN i.relations = '[]'::jsonb THEN '{}'::jsonb ELSE jsonb_build_object('relations', i.relations) END,
			'[]', i.content_hash
		FROM up JOIN incoming_resources i ON i.native_id = up.native_id
		WHERE up.version = 1)
	SELECT id, native_id, version FROM up`, p.AccountID, p.ObservedAt, p.ScanID, provider, cloudAccount)
	if err != nil {
		return counts, fmt.Errorf("upsert resources: %w", err)
	}
	type changed struct {
		id      uuid.UUID
		native  string
		version int
	}
	var changes []changed
	for rows.Next() {
		var c changed
		if err := rows.Scan(&c.id, &c.native, &c.version); err != nil {
			rows.Close()
			return counts, err
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return counts, err
	}

	byNative := make(map[string]*hashedDoc, len(docs))
	for i := range docs {
		byNative[docs[i].doc.NativeID] = &docs[i]
	}
	versionRows := make([][]any, 0, len(changes))
	for _, c := range changes {
		if c.version == 1 {
			counts.Created++ // its version was written with the row
			continue
		}
		d := byNative[c.native]
		kind := "created"
		patch := []byte("[]")
		if before, ok := prev[c.native]; ok {
			kind = "modified"
			after, err := d.stable()
			if err != nil {
				return counts, err
			}
			ops, err := jsondiff.Compare(before, after)
			if err != nil {
				return counts, fmt.Errorf("diff %s: %w", c.native, err)
			}
			if patch, err = json.Marshal(ops); err != nil {
				return counts, err
			}
			if string(patch) == "null" {
				patch = []byte("[]")
			}
			counts.Modified++
		} else {
			counts.Created++
		}
		full, err := json.Marshal(d.doc)
		if err != nil {
			return counts, fmt.Errorf("encode %s: %w", c.native, err)
		}
		versionRows = append(versionRows, []any{c.id, c.version, p.ScanID, p.ObservedAt, kind, json.RawMessage(full), json.RawMessage(patch), d.hash})
	}
	// COPY cannot write into a table under row-level security: stage in a temporary
	// table, then one INSERT ... SELECT, which the policy checks.
	if len(versionRows) > 0 {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS incoming_versions (resource_id uuid, version integer,
				scan_id uuid, observed_at timestamptz, change text, document jsonb, patch jsonb, content_hash bytea) ON COMMIT DROP`); err != nil {
			return counts, fmt.Errorf("temp versions: %w", err)
		}
		if _, err := tx.Exec(ctx, "TRUNCATE incoming_versions"); err != nil {
			return counts, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_versions"},
			[]string{"resource_id", "version", "scan_id", "observed_at", "change", "document", "patch", "content_hash"},
			pgx.CopyFromRows(versionRows)); err != nil {
			return counts, fmt.Errorf("copy versions: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO resource_versions (tenant_id, resource_id, version, scan_id, observed_at, change, document, patch, content_hash)
			SELECT vigil_current_tenant(), resource_id, version, scan_id, observed_at, change, document, patch, content_hash FROM incoming_versions`); err != nil {
			return counts, fmt.Errorf("write versions: %w", err)
		}
	}

	if p.Complete {
		n, err := markDeleted(ctx, tx, p)
		if err != nil {
			return counts, err
		}
		counts.Deleted = n
	}
	return counts, nil
}

// markDeleted records the resources of a completed unit's coverage that were not seen.
// A global unit covers its types in every region (an S3 bucket lives in a region but
// is listed once).
func markDeleted(ctx context.Context, tx pgx.Tx, p ApplyUnitParams) (int, error) {
	tag, err := tx.Exec(ctx, `WITH gone AS (
			UPDATE resources r SET deleted_at = $3, version = r.version + 1, last_scan_id = $4
			WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.deleted_at IS NULL
			  AND r.type = ANY($2) AND ($5 = 'global' OR r.region = $5)
			  AND NOT EXISTS (SELECT 1 FROM incoming_resources i WHERE i.native_id = r.native_id)
			RETURNING r.id, r.version, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations, r.native_id, r.content_hash)
		INSERT INTO resource_versions (tenant_id, resource_id, version, scan_id, observed_at, change, document, patch, content_hash)
		SELECT vigil_current_tenant(), g.id, g.version, $4, $3, 'deleted',
			jsonb_build_object('native_id', g.native_id, 'type', g.type, 'region', g.region, 'name', g.name, 'tags', g.tags,
				'properties', g.properties, 'gaps', g.gaps, 'relations', g.relations),
			'[]', g.content_hash
		FROM gone g`, p.AccountID, p.Unit.Types, p.ObservedAt, p.ScanID, p.Unit.Region)
	if err != nil {
		return 0, fmt.Errorf("mark deleted resources: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// fillGapsFromCurrent copies, for documents with gaps, the stored value of each gap
// property that the document lacks.
func fillGapsFromCurrent(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, natives []string, docs []providers.Resource) error {
	rows, err := tx.Query(ctx, `SELECT native_id, properties FROM resources
		WHERE tenant_id = vigil_current_tenant() AND account_id = $1 AND native_id = ANY($2)`, accountID, natives)
	if err != nil {
		return fmt.Errorf("read last known values: %w", err)
	}
	current := map[string]map[string]any{}
	for rows.Next() {
		var n string
		var props map[string]any
		if err := rows.Scan(&n, &props); err != nil {
			rows.Close()
			return err
		}
		current[n] = props
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range docs {
		d := &docs[i]
		cur, ok := current[d.NativeID]
		if !ok || len(d.Gaps) == 0 {
			continue
		}
		for _, g := range d.Gaps {
			if _, have := d.Properties[g.Property]; have {
				continue
			}
			if v, ok := cur[g.Property]; ok {
				if d.Properties == nil {
					d.Properties = map[string]any{}
				}
				d.Properties[g.Property] = v
			}
		}
	}
	return nil
}

// StoredResource is a current resource with its row id.
type StoredResource struct {
	ID  uuid.UUID
	Doc providers.Resource
}

// ResourceCurrent reads every resource of an account that is not deleted.
func ResourceCurrent(ctx context.Context, tx pgx.Tx, accountID uuid.UUID) ([]StoredResource, error) {
	rows, err := tx.Query(ctx, `SELECT r.id, a.provider, a.native_id, r.native_id, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations
		FROM resources r JOIN cloud_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
		WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.deleted_at IS NULL`, accountID)
	if err != nil {
		return nil, fmt.Errorf("read resources: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StoredResource, error) {
		var s StoredResource
		d := &s.Doc
		err := r.Scan(&s.ID, &d.Provider, &d.AccountID, &d.NativeID, &d.Type, &d.Region, &d.Name, &d.Tags, &d.Properties, &d.Gaps, &d.Relations)
		return s, err
	})
}

// HistoryPrune deletes drift versions and finding events older than the cutoff, keeping
// each resource's latest version (the base of the next patch).
func HistoryPrune(ctx context.Context, tx pgx.Tx, cutoff time.Time) (versions, events int64, err error) {
	tag, err := tx.Exec(ctx, `DELETE FROM resource_versions v USING resources r
		WHERE v.tenant_id = vigil_current_tenant() AND r.tenant_id = v.tenant_id AND r.id = v.resource_id
		  AND v.observed_at < $1 AND v.version < r.version`, cutoff)
	if err != nil {
		return 0, 0, fmt.Errorf("prune versions: %w", err)
	}
	versions = tag.RowsAffected()
	tag, err = tx.Exec(ctx, "DELETE FROM finding_events WHERE tenant_id = vigil_current_tenant() AND at < $1", cutoff)
	if err != nil {
		return versions, 0, fmt.Errorf("prune finding events: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM posture_snapshots WHERE tenant_id = vigil_current_tenant() AND at < $1", cutoff); err != nil {
		return versions, tag.RowsAffected(), fmt.Errorf("prune posture snapshots: %w", err)
	}
	return versions, tag.RowsAffected(), nil
}

// TenantRetention lists every tenant with its retention in days.
func (db *DB) TenantRetention(ctx context.Context) (map[uuid.UUID]int, error) {
	rows, err := db.Pool.Query(ctx, "SELECT tenant_id, retention_days FROM vigil_tenant_retention()")
	if err != nil {
		return nil, fmt.Errorf("tenant retention: %w", err)
	}
	out := map[uuid.UUID]int{}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var days int
		if err := rows.Scan(&id, &days); err != nil {
			return nil, err
		}
		out[id] = days
	}
	return out, rows.Err()
}

// ResourceLocate finds a current (not deleted) resource by row id or native id.
func ResourceLocate(ctx context.Context, tx pgx.Tx, id *uuid.UUID, nativeID string) (StoredResource, uuid.UUID, error) {
	var s StoredResource
	var account uuid.UUID
	d := &s.Doc
	err := tx.QueryRow(ctx, `SELECT r.id, r.account_id, a.provider, a.native_id, r.native_id, r.type, r.region, r.name, r.tags,
			r.properties, r.gaps, r.relations
		FROM resources r JOIN cloud_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
		WHERE r.tenant_id = vigil_current_tenant() AND r.deleted_at IS NULL AND (r.id = $1 OR ($1 IS NULL AND r.native_id = $2))
		ORDER BY r.last_seen DESC LIMIT 1`, id, nativeID).
		Scan(&s.ID, &account, &d.Provider, &d.AccountID, &d.NativeID, &d.Type, &d.Region, &d.Name, &d.Tags, &d.Properties, &d.Gaps, &d.Relations)
	return s, account, translate(err)
}
