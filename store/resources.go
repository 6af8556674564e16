package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	// Prepared are documents already encoded with PrepareResource (the collection job
	// encodes each as it arrives, so a unit's output is held as compact JSON rather
	// than as maps); they are stored after Docs.
	Prepared []PreparedResource
	// Complete means the unit finished: resources of its types in its region that it
	// did not emit are gone. A failed unit never deletes anything.
	Complete bool
}

// fillGapsFromCurrent copies, for documents with gaps, the stored value of each gap
// property that the document lacks.
func fillGapsFromCurrent(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, docs []*PreparedResource) error {
	natives := make([]string, len(docs))
	for i, d := range docs {
		natives[i] = d.NativeID
	}
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
	for _, d := range docs {
		cur, ok := current[d.NativeID]
		if !ok {
			continue
		}
		for _, g := range d.Gaps {
			if _, have := d.props[g.Property]; have {
				continue
			}
			if v, ok := cur[g.Property]; ok {
				d.props[g.Property] = v
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
	return pgx.CollectRows(rows, scanStoredResource)
}

// ResourceStream calls fn with the account's current resources in batches of at most
// batch, read through a cursor so that memory stays bounded whatever the account's
// size. fn may run other statements in tx between batches. Resources of the given
// types (account documents, say) are left out; read them with ResourcesOfTypes.
func ResourceStream(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, batch int, fn func([]StoredResource) error) error {
	if _, err := tx.Exec(ctx, `DECLARE vigil_resource_stream NO SCROLL CURSOR FOR
		SELECT r.id, a.provider, a.native_id, r.native_id, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations
		FROM resources r JOIN cloud_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
		WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.deleted_at IS NULL`, accountID); err != nil {
		return fmt.Errorf("open resource cursor: %w", err)
	}
	for {
		rows, err := tx.Query(ctx, fmt.Sprintf("FETCH %d FROM vigil_resource_stream", batch))
		if err != nil {
			return fmt.Errorf("read resources: %w", err)
		}
		got, err := pgx.CollectRows(rows, scanStoredResource)
		if err != nil {
			return fmt.Errorf("read resources: %w", err)
		}
		if len(got) == 0 {
			break
		}
		if err := fn(got); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, "CLOSE vigil_resource_stream")
	return err
}

// ResourcesWhere reads the account's current resources of the given native ids, or,
// with natives nil, of the types with one of the given prefixes (e.g. "aws.iam.").
func ResourcesWhere(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, natives []string, typePrefixes []string) ([]StoredResource, error) {
	const columns = `r.id, a.provider, a.native_id, r.native_id, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations`
	// Two shapes, each answerable by an index. An OR of both would scan the account's
	// resources for every call.
	query := `SELECT ` + columns + `
		FROM resources r JOIN cloud_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
		WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.deleted_at IS NULL
		  AND EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE starts_with(r.type, p))`
	arg := any(typePrefixes)
	if natives != nil {
		// One lookup of the unique key per native id (the OFFSET keeps the planner from
		// flattening the lookup into a join it could plan otherwise). Evaluation runs
		// right after collection wrote the account's resources, before autovacuum has
		// analyzed them: on statistics that still describe a small table, the planner
		// chose to walk an index of the whole tenant testing every row against the list,
		// seconds per batch of related documents at 30,000 resources.
		query = `SELECT ` + columns + `
		FROM unnest($2::text[]) AS n(native_id)
		CROSS JOIN LATERAL (SELECT * FROM resources r
			WHERE r.tenant_id = vigil_current_tenant() AND r.account_id = $1 AND r.native_id = n.native_id AND r.deleted_at IS NULL
			OFFSET 0) r
		JOIN cloud_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id`
		arg = natives
	}
	var out []StoredResource
	err := withIndexScans(ctx, tx, func() error {
		rows, err := tx.Query(ctx, query, accountID, arg)
		if err != nil {
			return fmt.Errorf("read resources: %w", err)
		}
		out, err = pgx.CollectRows(rows, scanStoredResource)
		return err
	})
	return out, err
}

// withIndexScans runs fn with sequential scans disabled for the transaction, for a
// lookup by key on a table whose statistics may lag its size (it grew in this or a
// recent transaction), then enables them again.
func withIndexScans(ctx context.Context, tx pgx.Tx, fn func() error) error {
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = on")
	return err
}

func scanStoredResource(r pgx.CollectableRow) (StoredResource, error) {
	var s StoredResource
	d := &s.Doc
	err := r.Scan(&s.ID, &d.Provider, &d.AccountID, &d.NativeID, &d.Type, &d.Region, &d.Name, &d.Tags, &d.Properties, &d.Gaps, &d.Relations)
	return s, err
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
			r.properties, r.gaps, r.relations`+resourceFrom+`
		WHERE r.tenant_id = vigil_current_tenant() AND r.deleted_at IS NULL AND (r.id = $1 OR ($1 IS NULL AND r.native_id = $2))
		ORDER BY `+ResourceLastSeenSQL+` DESC LIMIT 1`, id, nativeID).
		Scan(&s.ID, &account, &d.Provider, &d.AccountID, &d.NativeID, &d.Type, &d.Region, &d.Name, &d.Tags, &d.Properties, &d.Gaps, &d.Relations)
	return s, account, translate(err)
}
