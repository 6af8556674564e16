package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/wI2L/jsondiff"

	"github.com/vigilsec/vigil/providers"
)

// PreparedResource is a collected document encoded for storage: its properties as
// JSON and its two hashes. The drift hash (content_hash) covers what drift compares:
// type, region, name, tags, relations and the properties without their volatile
// fields. The raw hash covers everything stored, so an unchanged document whose
// last-used dates or gaps moved is still refreshed (without a new version).
type PreparedResource struct {
	Provider, AccountID, NativeID, Type, Region, Name string

	Tags      map[string]string
	Gaps      []providers.Gap
	Relations []providers.Relation

	// props is kept, unencoded, only for a document with gaps until the last known
	// values of its missing properties are filled in.
	props     map[string]any
	propsJSON []byte
	hash      []byte
	rawHash   []byte
}

// PrepareResource encodes r for ResourceApplyUnit. A document with gaps keeps its
// properties as a map until it is stored (a missing property takes its last known
// value first); any other document is encoded now and its maps may be released.
func PrepareResource(r providers.Resource) (PreparedResource, error) {
	p := PreparedResource{Provider: r.Provider, AccountID: r.AccountID, NativeID: r.NativeID, Type: r.Type,
		Region: r.Region, Name: r.Name, Tags: r.Tags, Gaps: r.Gaps, Relations: r.Relations}
	if p.Tags == nil {
		p.Tags = map[string]string{}
	}
	props := r.Properties
	if props == nil {
		props = map[string]any{}
	}
	if len(r.Gaps) > 0 {
		p.props = props
		return p, nil
	}
	return p, p.encode(props)
}

// prepareAll prepares documents on every core: encoding and hashing are pure CPU work,
// and the database waits for them.
func prepareAll(docs []providers.Resource) ([]PreparedResource, error) {
	out := make([]PreparedResource, len(docs))
	workers := min(runtime.GOMAXPROCS(0), (len(docs)+999)/1000)
	if workers <= 1 {
		for i := range docs {
			var err error
			if out[i], err = PrepareResource(docs[i]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(docs); i += workers {
				var err error
				if out[i], err = PrepareResource(docs[i]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// encode computes the properties' JSON and the hashes. The drift hash is the SHA-256
// of the canonical JSON of {type, region, name, tags, properties, relations} with the
// volatile properties left out, written piece by piece: the same bytes (and so the
// same hash) encoding/json gives for that object.
func (p *PreparedResource) encode(props map[string]any) error {
	// Encoding goes through a reused scratch buffer, and only the stored JSON is kept,
	// copied to its exact size: growing a buffer per document, or keeping the stable
	// form that is only hashed, would allocate several times a unit's size.
	scratch := encodeScratch.Get().(*[]byte)
	defer encodeScratch.Put(scratch)
	enc, err := appendJSON((*scratch)[:0], props)
	*scratch = enc
	if err != nil {
		return fmt.Errorf("encode %s: %w", p.NativeID, err)
	}
	raw := bytes.Clone(enc)
	stable := raw
	if providers.HasVolatile(p.Type) {
		if enc, err = appendJSON((*scratch)[:0], providers.StableProperties(p.Type, props)); err != nil {
			return fmt.Errorf("encode %s: %w", p.NativeID, err)
		}
		*scratch = enc
		stable = enc
	}
	head := make([]byte, 0, 128)
	head = append(head, `{"type":`...)
	head = appendJSONString(head, p.Type)
	head = append(head, `,"region":`...)
	head = appendJSONString(head, p.Region)
	head = append(head, `,"name":`...)
	head = appendJSONString(head, p.Name)
	head = append(head, `,"tags":`...)
	head, _ = appendJSON(head, p.Tags)
	head = append(head, `,"properties":`...)
	tail := append([]byte(`,"relations":`), relationsJSON(p.Relations)...)
	tail = append(tail, '}')

	h := sha256.New()
	h.Write(head)
	h.Write(stable)
	h.Write(tail)
	p.hash = h.Sum(nil)

	// The raw hash: the drift hash, then everything else that is stored.
	h.Reset()
	h.Write(p.hash)
	h.Write(raw)
	h.Write(gapsJSON(p.Gaps))
	p.rawHash = h.Sum(nil)
	p.propsJSON = raw
	p.props = nil
	return nil
}

// encodeScratch holds the buffers PrepareResource encodes into.
var encodeScratch = sync.Pool{New: func() any { return new([]byte) }}

// relationsJSON encodes relations as encoding/json does ([]providers.Relation).
func relationsJSON(rels []providers.Relation) []byte {
	if rels == nil {
		return []byte("null")
	}
	b := []byte{'['}
	for i, r := range rels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":`...)
		b = appendJSONString(b, r.Kind)
		b = append(b, `,"target_id":`...)
		b = appendJSONString(b, r.TargetID)
		if r.TargetType != "" {
			b = append(b, `,"target_type":`...)
			b = appendJSONString(b, r.TargetType)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// gapsJSON encodes gaps as stored: an empty list when there are none.
func gapsJSON(gaps []providers.Gap) []byte {
	if len(gaps) == 0 {
		return []byte("[]")
	}
	b, _ := json.Marshal(gaps) // strings only: cannot fail
	return b
}

// comparableMap is the decoded form drift patches are computed on.
func comparableMap(typ, region, name string, tags map[string]string, props map[string]any, rels []providers.Relation) (map[string]any, error) {
	if tags == nil {
		tags = map[string]string{}
	}
	if props == nil {
		props = map[string]any{}
	}
	if rels == nil {
		rels = []providers.Relation{} // stored as []: no relations is not a change
	}
	b, err := json.Marshal(struct {
		Type       string               `json:"type"`
		Region     string               `json:"region"`
		Name       string               `json:"name"`
		Tags       map[string]string    `json:"tags"`
		Properties map[string]any       `json:"properties"`
		Relations  []providers.Relation `json:"relations"`
	}{typ, region, name, tags, providers.StableProperties(typ, props), rels})
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// ResourceApplyUnit stores one unit's documents. It writes only what changed:
//
//   - the keys of every document (native id and both hashes) are copied into a
//     temporary table and compared with the stored resources in one query;
//   - new and changed documents (and unchanged ones whose volatile fields or gaps
//     moved) are copied in full and written: a new version with the RFC 6902 patch
//     from the previous one, or a refresh without a version;
//   - with Complete, resources of the unit's coverage that were not seen are marked
//     deleted (also a version), and the unit's observation is recorded: every
//     resource it wrote that is still present was seen then (last_seen, read with
//     the observation, see ResourceLastSeenSQL). An unchanged resource's row is not
//     written at all.
//
// A unit that did not complete deletes nothing and moves last_seen row by row.
func ResourceApplyUnit(ctx context.Context, tx pgx.Tx, p ApplyUnitParams) (ChangeCounts, error) {
	var counts ChangeCounts
	unitKey := p.Unit.String()

	// A collector may list one resource twice (overlapping pages): keep the first.
	docs := make([]*PreparedResource, 0, len(p.Docs)+len(p.Prepared))
	seen := make(map[string]bool, cap(docs))
	var withGaps []*PreparedResource
	add := func(d *PreparedResource) {
		if seen[d.NativeID] {
			return
		}
		seen[d.NativeID] = true
		docs = append(docs, d)
		if d.propsJSON == nil {
			withGaps = append(withGaps, d)
		}
	}
	prepared, err := prepareAll(p.Docs)
	if err != nil {
		return counts, err
	}
	for i := range prepared {
		add(&prepared[i])
	}
	for i := range p.Prepared {
		add(&p.Prepared[i])
	}
	seen = nil
	// A property that could not be read keeps its last known value for comparison, so
	// an AccessDenied does not read as "the bucket policy was removed". The gap stays
	// listed and makes checks that need it unknown.
	if len(withGaps) > 0 {
		if err := fillGapsFromCurrent(ctx, tx, p.AccountID, withGaps); err != nil {
			return counts, err
		}
		for _, d := range withGaps {
			if err := d.encode(d.props); err != nil {
				return counts, err
			}
		}
	}

	// The first scan of these types in this account (onboarding): every document is
	// new and nothing can be deleted, so there is nothing to classify.
	types := map[string]bool{}
	for _, t := range p.Unit.Types {
		types[t] = true
	}
	for _, d := range docs {
		types[d.Type] = true
	}
	var fresh bool
	if err := tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM resources
		WHERE tenant_id = vigil_current_tenant() AND account_id = $1 AND type = ANY($2))`, p.AccountID, slices.Sorted(maps.Keys(types))).Scan(&fresh); err != nil {
		return counts, fmt.Errorf("look for stored resources: %w", err)
	}
	counts.Unchanged = len(docs)
	if fresh {
		inserted, err := insertNew(ctx, tx, p, unitKey, docs)
		if err != nil {
			return counts, err
		}
		if inserted {
			counts = ChangeCounts{Created: len(docs)}
		} else {
			// A native id is stored under another type: take the general path.
			fresh = false
		}
	}
	if !fresh {
		todo, err := classify(ctx, tx, p.AccountID, unitKey, docs)
		if err != nil {
			return counts, err
		}
		if err := writeDocs(ctx, tx, p, unitKey, todo, &counts); err != nil {
			return counts, err
		}
	}

	switch {
	case p.Complete:
		if !fresh {
			n, err := markDeleted(ctx, tx, p)
			if err != nil {
				return counts, err
			}
			counts.Deleted = n
		}
		if _, err := tx.Exec(ctx, `INSERT INTO unit_observations AS u (tenant_id, account_id, unit_key, scan_id, observed_at)
			VALUES (vigil_current_tenant(), $1, $2, $3, $4)
			ON CONFLICT (tenant_id, account_id, unit_key) DO UPDATE
			SET scan_id = excluded.scan_id, observed_at = excluded.observed_at WHERE u.observed_at <= excluded.observed_at`,
			p.AccountID, unitKey, p.ScanID, p.ObservedAt); err != nil {
			return counts, fmt.Errorf("record unit observation: %w", err)
		}
	case !fresh:
		if _, err := tx.Exec(ctx, `UPDATE resources r SET last_seen = $2, last_scan_id = $3
		FROM incoming_keys k
		WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.native_id = k.native_id
		  AND r.deleted_at IS NULL AND r.last_seen < $2`, p.AccountID, p.ObservedAt, p.ScanID); err != nil {
			return counts, fmt.Errorf("touch seen resources: %w", err)
		}
	}
	return counts, nil
}

// classify stages the keys of every document (native id and both hashes) and compares
// them with the stored resources in one query: it returns the documents that need
// writing, with the previous version of the changed ones. The staged keys stay for
// markDeleted.
func classify(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, unitKey string, docs []*PreparedResource) ([]changedDoc, error) {
	if err := stage(ctx, tx, "incoming_keys", `ord integer, native_id text, content_hash bytea, raw_hash bytea`); err != nil {
		return nil, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_keys"}, []string{"ord", "native_id", "content_hash", "raw_hash"},
		pgx.CopyFromSlice(len(docs), func(i int) ([]any, error) {
			return []any{int32(i), docs[i].NativeID, docs[i].hash, docs[i].rawHash}, nil
		})); err != nil {
		return nil, fmt.Errorf("copy resource keys: %w", err)
	}
	// Staged rows need an index and statistics: without them the planner may join
	// 100,000 staged rows against resources with nested sequential scans.
	if _, err := tx.Exec(ctx, "CREATE INDEX IF NOT EXISTS incoming_keys_native ON incoming_keys (native_id)"); err != nil {
		return nil, fmt.Errorf("index staged keys: %w", err)
	}
	if _, err := tx.Exec(ctx, "ANALYZE incoming_keys"); err != nil {
		return nil, fmt.Errorf("analyze staged keys: %w", err)
	}

	var todo []changedDoc
	rows, err := tx.Query(ctx, `SELECT k.ord, r.id IS NOT NULL AND r.deleted_at IS NULL AND r.content_hash = k.content_hash,
			r.id IS NOT NULL, r.type, r.region, r.name, r.tags, r.properties, r.relations
		FROM incoming_keys k LEFT JOIN resources r
			ON r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.native_id = k.native_id
		WHERE r.id IS NULL OR r.deleted_at IS NOT NULL OR r.content_hash <> k.content_hash
		   OR r.raw_hash IS DISTINCT FROM k.raw_hash OR r.unit_key IS DISTINCT FROM $2`, accountID, unitKey)
	if err != nil {
		return nil, fmt.Errorf("classify resources: %w", err)
	}
	for rows.Next() {
		var ord int32
		var same, existed bool
		var typ, region, name *string
		var tags map[string]string
		var props map[string]any
		var rels []providers.Relation
		if err := rows.Scan(&ord, &same, &existed, &typ, &region, &name, &tags, &props, &rels); err != nil {
			rows.Close()
			return nil, err
		}
		w := changedDoc{doc: docs[ord], refresh: same}
		if existed && !same {
			if w.prev, err = comparableMap(*typ, *region, *name, tags, props, rels); err != nil {
				rows.Close()
				return nil, err
			}
		}
		todo = append(todo, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	return todo, nil
}

// writeDocs stages the documents to write in full and writes them (writeChanged).
func writeDocs(ctx context.Context, tx pgx.Tx, p ApplyUnitParams, unitKey string, todo []changedDoc, counts *ChangeCounts) error {
	if len(todo) == 0 {
		return nil
	}
	// The patch from the previous version of each changed document, computed before
	// the write so that the statement that bumps a resource also writes its version.
	patches := make([]json.RawMessage, len(todo))
	for i := range todo {
		if todo[i].refresh || todo[i].prev == nil {
			continue
		}
		patch, err := driftPatch(&todo[i])
		if err != nil {
			return err
		}
		patches[i] = patch
	}
	if err := stage(ctx, tx, "incoming_resources", `id uuid, native_id text, type text, region text, name text, tags jsonb,
			properties jsonb, gaps jsonb, relations jsonb, content_hash bytea, raw_hash bytea, refresh boolean, patch jsonb`); err != nil {
		return err
	}
	ids, err := newResourceIDs(len(todo))
	if err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_resources"},
		[]string{"id", "native_id", "type", "region", "name", "tags", "properties", "gaps", "relations", "content_hash", "raw_hash",
			"refresh", "patch"},
		pgx.CopyFromSlice(len(todo), func(i int) ([]any, error) {
			d := todo[i].doc
			tags, rels := d.storedTagsRelations()
			var patch any // NULL: no previous version to compare with
			if patches[i] != nil {
				patch = patches[i]
			}
			return []any{ids[i], d.NativeID, d.Type, d.Region, d.Name, json.RawMessage(tags), json.RawMessage(d.propsJSON),
				json.RawMessage(gapsJSON(d.Gaps)), json.RawMessage(rels), d.hash, d.rawHash, todo[i].refresh, patch}, nil
		})); err != nil {
		return fmt.Errorf("copy resources: %w", err)
	}
	// Statistics, so the joins with resources are planned for the real row count. No
	// index: the staged rows are only read in sequence.
	if _, err := tx.Exec(ctx, "ANALYZE incoming_resources"); err != nil {
		return fmt.Errorf("analyze staged resources: %w", err)
	}
	return writeChanged(ctx, tx, p, unitKey, todo, counts)
}

// storedTagsRelations encodes the tags and relations as stored (no relations is []).
func (d *PreparedResource) storedTagsRelations() (tags, rels []byte) {
	tags, _ = appendJSON(nil, d.Tags) // strings only: cannot fail
	r := d.Relations
	if r == nil {
		r = []providers.Relation{}
	}
	return tags, relationsJSON(r)
}

// newResourceIDs returns n ids for new resources: UUIDv7, ordered by creation time,
// so that a scan's new rows land together at the end of the id indexes (resources'
// primary key and list index, resource_versions' keys) instead of on random pages.
// Only the ids of rows actually inserted are used.
// They are [16]byte, which pgx sends in binary (uuid.UUID would go through its text
// form).
func newResourceIDs(n int) ([][16]byte, error) {
	ids := make([][16]byte, n)
	for i := range ids {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("resource id: %w", err)
		}
		ids[i] = id
	}
	return ids, nil
}

// insertChunk is how many new documents insertNew stages and writes at a time: few
// enough that the staged rows stay in the session's temporary buffers and the rows
// returned for their first versions in memory (work_mem), instead of spilling to
// temporary files.
const insertChunk = 2000

// changedDoc is a document that needs writing.
type changedDoc struct {
	doc     *PreparedResource
	prev    map[string]any // comparable form of the previous version, when one exists
	refresh bool           // drift hash equal: no version, only stored values move
}

// stage creates (or empties) a transaction-scoped temporary table.
func stage(ctx context.Context, tx pgx.Tx, name, columns string) error {
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+name+" ("+columns+") ON COMMIT DROP"); err != nil {
		return fmt.Errorf("temp table %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+name); err != nil {
		return fmt.Errorf("truncate %s: %w", name, err)
	}
	return nil
}

// writeChanged writes the staged documents (incoming_resources): refreshes in place,
// inserts the new ones with their first version, bumps the changed ones and records
// their versions with patches.
func writeChanged(ctx context.Context, tx pgx.Tx, p ApplyUnitParams, unitKey string, todo []changedDoc, counts *ChangeCounts) error {
	// Unchanged for drift, but a volatile value or the gaps moved (or the row predates
	// the raw hash): the stored values follow, no version.
	if _, err := tx.Exec(ctx, `UPDATE resources r SET properties = i.properties, gaps = i.gaps, raw_hash = i.raw_hash,
			unit_key = $4, last_seen = $2, last_scan_id = $3
		FROM incoming_resources i
		WHERE i.refresh AND r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.native_id = i.native_id`,
		p.AccountID, p.ObservedAt, p.ScanID, unitKey); err != nil {
		return fmt.Errorf("refresh resources: %w", err)
	}

	provider, cloudAccount := todo[0].doc.Provider, todo[0].doc.AccountID
	// New and changed: insert or bump the version. A new resource's first version is
	// written by the same statement (its document is the staged row; no patch); changed
	// ones come back for their patches.
	rows, err := tx.Query(ctx, `WITH up AS (INSERT INTO resources AS r (tenant_id, id, account_id, native_id, type, region, name, tags,
			properties, gaps, relations, content_hash, raw_hash, unit_key, version, first_seen, last_seen, last_scan_id)
		SELECT vigil_current_tenant(), i.id, $1, i.native_id, i.type, i.region, i.name, i.tags, i.properties,
			i.gaps, i.relations, i.content_hash, i.raw_hash, $6, 1, $2, $2, $3
		FROM incoming_resources i WHERE NOT i.refresh
		ON CONFLICT (tenant_id, account_id, native_id) DO UPDATE SET
			type = excluded.type, region = excluded.region, name = excluded.name, tags = excluded.tags,
			properties = excluded.properties, gaps = excluded.gaps, relations = excluded.relations,
			content_hash = excluded.content_hash, raw_hash = excluded.raw_hash, unit_key = excluded.unit_key,
			version = r.version + 1, last_seen = excluded.last_seen, last_scan_id = excluded.last_scan_id, deleted_at = NULL
		WHERE r.content_hash <> excluded.content_hash OR r.deleted_at IS NOT NULL
		RETURNING r.id, r.native_id, r.version, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations, r.content_hash),
	created AS (INSERT INTO resource_versions (tenant_id, resource_id, version, scan_id, observed_at, change, document, patch, content_hash)
		SELECT vigil_current_tenant(), i.id, 1, $3, $2, 'created', `+versionDocumentSQL("$4", "$5")+`, '[]', i.content_hash
		FROM up i
		WHERE i.version = 1),
	bumped AS (INSERT INTO resource_versions (tenant_id, resource_id, version, scan_id, observed_at, change, document, patch, content_hash)
		SELECT vigil_current_tenant(), i.id, i.version, $3, $2, CASE WHEN s.patch IS NULL THEN 'created' ELSE 'modified' END,
			`+versionDocumentSQL("$4", "$5")+`, coalesce(s.patch, '[]'), i.content_hash
		FROM up i JOIN incoming_resources s ON s.native_id = i.native_id AND NOT s.refresh
		WHERE i.version > 1)
	SELECT id, native_id, version FROM up`, p.AccountID, p.ObservedAt, p.ScanID, provider, cloudAccount, unitKey)
	if err != nil {
		return fmt.Errorf("upsert resources: %w", err)
	}
	type bumped struct {
		id      uuid.UUID
		native  string
		version int
	}
	var changes []bumped
	for rows.Next() {
		var c bumped
		if err := rows.Scan(&c.id, &c.native, &c.version); err != nil {
			rows.Close()
			return err
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	modified := make(map[string]bool, len(todo))
	for i := range todo {
		if !todo[i].refresh && todo[i].prev != nil {
			modified[todo[i].doc.NativeID] = true
		}
	}
	for _, c := range changes {
		counts.Unchanged--
		if c.version > 1 && modified[c.native] {
			counts.Modified++
		} else {
			// New (its first version), or stored after the comparison by a concurrent
			// write, which leaves nothing to compare with: its version is "created".
			counts.Created++
		}
	}
	return nil
}

// driftPatch is the RFC 6902 patch from a changed document's previous version.
func driftPatch(d *changedDoc) (json.RawMessage, error) {
	var props map[string]any
	if err := json.Unmarshal(d.doc.propsJSON, &props); err != nil {
		return nil, err
	}
	after, err := comparableMap(d.doc.Type, d.doc.Region, d.doc.Name, d.doc.Tags, props, d.doc.Relations)
	if err != nil {
		return nil, err
	}
	ops, err := jsondiff.Compare(d.prev, after)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", d.doc.NativeID, err)
	}
	if len(ops) == 0 {
		return json.RawMessage("[]"), nil
	}
	return json.Marshal(ops)
}

// versionDocumentSQL builds a version's document from a resource row i, in the shape of
// providers.Resource's JSON (gaps and relations only when present), with the
// statement's parameters for the provider and the cloud account. It is one
// jsonb_build_object per row, chosen by which optional keys are present: building the
// object and then concatenating the optional keys would encode the properties three
// times.
func versionDocumentSQL(provider, account string) string {
	build := func(optional string) string {
		return `jsonb_build_object('provider', ` + provider + `::text, 'account_id', ` + account + `::text, 'native_id', i.native_id,
				'type', i.type, 'region', i.region, 'name', i.name, 'tags', i.tags, 'properties', i.properties` + optional + `)`
	}
	return `CASE WHEN i.gaps = '[]'::jsonb AND i.relations = '[]'::jsonb THEN ` + build("") + `
			WHEN i.gaps = '[]'::jsonb THEN ` + build(", 'relations', i.relations") + `
			WHEN i.relations = '[]'::jsonb THEN ` + build(", 'gaps', i.gaps") + `
			ELSE ` + build(", 'gaps', i.gaps, 'relations', i.relations") + ` END`
}

// markDeleted records the resources of a completed unit's coverage that were not seen.
// A global unit covers its types in every region (an S3 bucket lives in a region but
// is listed once). A deleted resource's last_seen becomes its unit's previous
// observation, the last time it was seen, before the unit records this one.
func markDeleted(ctx context.Context, tx pgx.Tx, p ApplyUnitParams) (int, error) {
	tag, err := tx.Exec(ctx, `WITH gone AS (
			UPDATE resources r SET deleted_at = $3, version = r.version + 1, last_scan_id = $4,
				last_seen = GREATEST(r.last_seen, (SELECT u.observed_at FROM unit_observations u
					WHERE u.tenant_id = r.tenant_id AND u.account_id = r.account_id AND u.unit_key = r.unit_key))
			WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.deleted_at IS NULL
			  AND r.type = ANY($2) AND ($5 = 'global' OR r.region = $5)
			  AND NOT EXISTS (SELECT 1 FROM incoming_keys i WHERE i.native_id = r.native_id)
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

// ResourceLastSeenSQL is the expression for a resource's last sighting, for a query
// with resources as r LEFT JOINed to unit_observations as uo (resourceFrom): its own
// column, moved when it changes, or its unit's last completed observation while it is
// present.
const ResourceLastSeenSQL = `GREATEST(r.last_seen, CASE WHEN r.deleted_at IS NULL THEN uo.observed_at END)`

// resourceLastScanSQL is the scan of that sighting.
const resourceLastScanSQL = `CASE WHEN r.deleted_at IS NULL AND uo.observed_at > r.last_seen THEN uo.scan_id ELSE r.last_scan_id END`

// insertNew writes the documents of a unit's first scan of its types: every one is
// new. Chunk by chunk, the documents are COPYed into a temporary table (COPY streams
// them through a small reused buffer; array parameters made the client copy each
// statement's megabytes several times over) and one statement inserts them with their
// first versions, without conflict handling (no speculative insertion) and without
// statistics to gather (the staged rows are only read in sequence). It runs in a
// savepoint: if a native id is already stored after all (under another type), it
// writes nothing and returns false, and the caller takes the general path.
func insertNew(ctx context.Context, tx pgx.Tx, p ApplyUnitParams, unitKey string, docs []*PreparedResource) (bool, error) {
	if len(docs) == 0 {
		return true, nil
	}
	ids, err := newResourceIDs(len(docs))
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT vigil_insert_new"); err != nil {
		return false, err
	}
	provider, cloudAccount := docs[0].Provider, docs[0].AccountID
	for start := 0; start < len(docs); start += insertChunk {
		chunk := docs[start:min(start+insertChunk, len(docs))]
		if err := stage(ctx, tx, "incoming_new", `id uuid, native_id text, type text, region text, name text, tags jsonb,
			properties jsonb, gaps jsonb, relations jsonb, content_hash bytea, raw_hash bytea`); err != nil {
			return false, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_new"},
			[]string{"id", "native_id", "type", "region", "name", "tags", "properties", "gaps", "relations", "content_hash", "raw_hash"},
			pgx.CopyFromSlice(len(chunk), func(i int) ([]any, error) {
				d := chunk[i]
				tags, rels := d.storedTagsRelations()
				return []any{ids[start+i], d.NativeID, d.Type, d.Region, d.Name, json.RawMessage(tags), json.RawMessage(d.propsJSON),
					json.RawMessage(gapsJSON(d.Gaps)), json.RawMessage(rels), d.hash, d.rawHash}, nil
			})); err != nil {
			return false, fmt.Errorf("copy new resources: %w", err)
		}
		_, err := tx.Exec(ctx, `WITH up AS (INSERT INTO resources AS r (tenant_id, id, account_id, native_id, type, region, name, tags,
				properties, gaps, relations, content_hash, raw_hash, unit_key, version, first_seen, last_seen, last_scan_id)
			SELECT vigil_current_tenant(), u.id, $1, u.native_id, u.type, u.region, u.name, u.tags, u.properties,
				u.gaps, u.relations, u.content_hash, u.raw_hash, $6, 1, $2, $2, $3
			FROM incoming_new u
			RETURNING r.id, r.native_id, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations, r.content_hash)
		INSERT INTO resource_versions (tenant_id, resource_id, version, scan_id, observed_at, change, document, patch, content_hash)
		SELECT vigil_current_tenant(), i.id, 1, $3, $2, 'created', `+versionDocumentSQL("$4", "$5")+`, '[]', i.content_hash
		FROM up i`, p.AccountID, p.ObservedAt, p.ScanID, provider, cloudAccount, unitKey)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
				_, rerr := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT vigil_insert_new")
				return false, rerr
			}
			return false, fmt.Errorf("insert new resources: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT vigil_insert_new"); err != nil {
		return false, err
	}
	return true, nil
}
