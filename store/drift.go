package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DriftFilter selects entries of the estate-wide change feed. Since and Until bound
// observed_at (since inclusive, until exclusive): "what changed between T1 and T2".
type DriftFilter struct {
	Changes      []string // created | modified | deleted | restored
	ResourceType string
	AccountID    *uuid.UUID
	Region       string
	Since        *time.Time
	Until        *time.Time
}

// DriftItem is one observed change of one resource.
type DriftItem struct {
	Resource   FindingResource  `json:"resource"`
	Version    int              `json:"version"`
	Change     string           `json:"change"`
	ObservedAt time.Time        `json:"observed_at"`
	ScanID     *uuid.UUID       `json:"scan_id"`
	Patch      []map[string]any `json:"patch"`
}

// DriftPage is one page of the feed.
type DriftPage struct {
	Items      []DriftItem
	NextCursor string
}

func driftWhere(f DriftFilter) *builder {
	b := &builder{}
	b.add("v.tenant_id = vigil_current_tenant()")
	if len(f.Changes) > 0 {
		b.in("v.change", f.Changes)
	}
	if f.ResourceType != "" {
		b.add("r.type = " + b.arg(f.ResourceType))
	}
	if f.AccountID != nil {
		b.add("r.account_id = " + b.arg(*f.AccountID))
	}
	if f.Region != "" {
		b.add("r.region = " + b.arg(f.Region))
	}
	if f.Since != nil {
		b.add("v.observed_at >= " + b.arg(*f.Since))
	}
	if f.Until != nil {
		b.add("v.observed_at < " + b.arg(*f.Until))
	}
	return b
}

const driftFrom = ` FROM resource_versions v JOIN resources r ON r.tenant_id = v.tenant_id AND r.id = v.resource_id`

// DriftList returns a page of changes, newest first. The cursor holds the last
// entry's (observed_at, resource id, version).
func DriftList(ctx context.Context, tx pgx.Tx, f DriftFilter, after *Cursor, limit int) (DriftPage, error) {
	b := driftWhere(f)
	if after != nil {
		at, version, ok := strings.Cut(after.Value, "|")
		t, err := time.Parse(time.RFC3339Nano, at)
		n, err2 := strconv.Atoi(version)
		if !ok || err != nil || err2 != nil {
			return DriftPage{}, ErrBadCursor
		}
		b.add("(v.observed_at, v.resource_id, v.version) < (" + b.arg(t) + ", " + b.arg(after.ID) + ", " + b.arg(n) + ")")
	}
	rows, err := tx.Query(ctx, `SELECT r.id, r.native_id, r.type, r.name, r.region, r.account_id, v.version, v.change, v.observed_at,
		v.scan_id, v.patch`+driftFrom+" WHERE "+b.sql()+
		" ORDER BY v.observed_at DESC, v.resource_id DESC, v.version DESC LIMIT "+b.arg(limit+1), b.args...)
	if err != nil {
		return DriftPage{}, fmt.Errorf("drift feed: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DriftItem, error) {
		var d DriftItem
		err := r.Scan(&d.Resource.ID, &d.Resource.NativeID, &d.Resource.Type, &d.Resource.Name, &d.Resource.Region, &d.Resource.AccountID,
			&d.Version, &d.Change, &d.ObservedAt, &d.ScanID, &d.Patch)
		if d.Patch == nil {
			d.Patch = []map[string]any{}
		}
		return d, err
	})
	if err != nil {
		return DriftPage{}, fmt.Errorf("drift feed: %w", err)
	}
	page := DriftPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = Cursor{Sort: "drift", Value: last.ObservedAt.UTC().Format(time.RFC3339Nano) + "|" + strconv.Itoa(last.Version),
			ID: last.Resource.ID}.Encode()
	}
	return page, nil
}

// DriftCounts counts changes since t by kind.
func DriftCounts(ctx context.Context, tx pgx.Tx, since time.Time) (map[string]int, error) {
	rows, err := tx.Query(ctx, `SELECT change, count(*) FROM resource_versions
		WHERE tenant_id = vigil_current_tenant() AND observed_at >= $1 GROUP BY change`, since)
	if err != nil {
		return nil, fmt.Errorf("drift counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{"created": 0, "modified": 0, "deleted": 0, "restored": 0}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
