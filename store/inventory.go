package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/wI2L/jsondiff"

	"github.com/vigilsec/vigil/providers"
)

// ResourceFilter selects resources of the inventory.
type ResourceFilter struct {
	// Q matches the name or native id (case-insensitive substring).
	Q              string
	Type           string
	Region         string
	AccountID      *uuid.UUID
	TagKey         string
	TagValue       string
	IncludeDeleted bool
}

// ResourceItem is one row of the inventory.
type ResourceItem struct {
	ID        uuid.UUID         `json:"id"`
	AccountID uuid.UUID         `json:"account_id"`
	Provider  string            `json:"provider"`
	NativeID  string            `json:"native_id"`
	Type      string            `json:"type"`
	Region    string            `json:"region"`
	Name      string            `json:"name"`
	Tags      map[string]string `json:"tags"`
	Version   int               `json:"version"`
	FirstSeen time.Time         `json:"first_seen"`
	LastSeen  time.Time         `json:"last_seen"`
	DeletedAt *time.Time        `json:"deleted_at"`
}

const resourceFrom = ` FROM resources r JOIN cloud_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
	LEFT JOIN unit_observations uo ON uo.tenant_id = r.tenant_id AND uo.account_id = r.account_id AND uo.unit_key = r.unit_key`

const resourceItemColumns = `r.id, r.account_id, a.provider, r.native_id, r.type, r.region, r.name, r.tags, r.version,
	r.first_seen, ` + ResourceLastSeenSQL + `, r.deleted_at`

func scanResourceItem(row pgx.Row, extra ...any) (ResourceItem, error) {
	var it ResourceItem
	dst := []any{&it.ID, &it.AccountID, &it.Provider, &it.NativeID, &it.Type, &it.Region, &it.Name, &it.Tags, &it.Version,
		&it.FirstSeen, &it.LastSeen, &it.DeletedAt}
	err := row.Scan(append(dst, extra...)...)
	return it, err
}

func resourceWhere(f ResourceFilter) *builder {
	b := &builder{}
	b.add("r.tenant_id = vigil_current_tenant()")
	if !f.IncludeDeleted {
		b.add("r.deleted_at IS NULL")
	}
	if f.Type != "" {
		b.add("r.type = " + b.arg(f.Type))
	}
	if f.Region != "" {
		b.add("r.region = " + b.arg(f.Region))
	}
	if f.AccountID != nil {
		b.add("r.account_id = " + b.arg(*f.AccountID))
	}
	if f.TagKey != "" {
		// Containment uses the GIN index on tags.
		b.add("r.tags @> " + b.arg(map[string]string{f.TagKey: f.TagValue}))
	}
	if f.Q != "" {
		p := b.arg(likePattern(f.Q))
		b.add("(r.name ILIKE " + p + " OR r.native_id ILIKE " + p + ")")
	}
	return b
}

// ResourcePage is one page of the inventory.
type ResourcePage struct {
	Items      []ResourceItem
	NextCursor string
}

// ResourceList returns a page of resources ordered by type then id, after the cursor.
func ResourceList(ctx context.Context, tx pgx.Tx, f ResourceFilter, after *Cursor, limit int) (ResourcePage, error) {
	b := resourceWhere(f)
	if after != nil {
		b.add("(r.type, r.id) > (" + b.arg(after.Value) + ", " + b.arg(after.ID) + ")")
	}
	rows, err := tx.Query(ctx, "SELECT "+resourceItemColumns+resourceFrom+" WHERE "+b.sql()+
		" ORDER BY r.type, r.id LIMIT "+b.arg(limit+1), b.args...)
	if err != nil {
		return ResourcePage{}, fmt.Errorf("list resources: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ResourceItem, error) { return scanResourceItem(r) })
	if err != nil {
		return ResourcePage{}, fmt.Errorf("list resources: %w", err)
	}
	page := ResourcePage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = Cursor{Sort: "type", Value: last.Type, ID: last.ID}.Encode()
	}
	return page, nil
}

// ResourceFacets counts the resources matching the filter by type, region and account.
func ResourceFacets(ctx context.Context, tx pgx.Tx, f ResourceFilter) (map[string][]FacetCount, error) {
	b := resourceWhere(f)
	rows, err := tx.Query(ctx, `SELECT r.type, r.region, r.account_id::text, count(*)`+resourceFrom+" WHERE "+b.sql()+`
		GROUP BY GROUPING SETS ((r.type), (r.region), (r.account_id)) ORDER BY 4 DESC`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("resource facets: %w", err)
	}
	defer rows.Close()
	names := []string{"type", "region", "account_id"}
	out := map[string][]FacetCount{}
	for _, n := range names {
		out[n] = []FacetCount{}
	}
	for rows.Next() {
		vals := make([]*string, 3)
		var n int
		if err := rows.Scan(&vals[0], &vals[1], &vals[2], &n); err != nil {
			return nil, fmt.Errorf("resource facets: %w", err)
		}
		for i, v := range vals {
			if v != nil {
				out[names[i]] = append(out[names[i]], FacetCount{Value: *v, Count: n})
				break
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortFacets(out)
	return out, nil
}

// ResolvedRelation is a relation with the id of its target when the inventory has it.
type ResolvedRelation struct {
	providers.Relation
	ResourceID *uuid.UUID `json:"resource_id"`
}

// ResourceDetail is a resource's current document.
type ResourceDetail struct {
	ResourceItem
	AccountNativeID string             `json:"account_native_id"`
	Properties      map[string]any     `json:"properties"`
	Gaps            []providers.Gap    `json:"gaps"`
	Relations       []ResolvedRelation `json:"relations"`
	LastScanID      *uuid.UUID         `json:"last_scan_id"`
}

// Document is the resource as checks see it.
func (d *ResourceDetail) Document() providers.Resource {
	rels := make([]providers.Relation, len(d.Relations))
	for i, r := range d.Relations {
		rels[i] = r.Relation
	}
	return providers.Resource{Provider: d.Provider, AccountID: d.AccountNativeID, NativeID: d.NativeID, Type: d.Type,
		Region: d.Region, Name: d.Name, Tags: d.Tags, Properties: d.Properties, Gaps: d.Gaps, Relations: rels}
}

// ResourceGet reads one resource of the tenant; relations are resolved to resource ids
// within the same account.
func ResourceGet(ctx context.Context, tx pgx.Tx, id uuid.UUID) (ResourceDetail, error) {
	var d ResourceDetail
	var rels []providers.Relation
	it, err := scanResourceItem(tx.QueryRow(ctx, "SELECT "+resourceItemColumns+", a.native_id, r.properties, r.gaps, r.relations, "+resourceLastScanSQL+
		resourceFrom+" WHERE r.tenant_id = vigil_current_tenant() AND r.id = $1", id),
		&d.AccountNativeID, &d.Properties, &d.Gaps, &rels, &d.LastScanID)
	if err != nil {
		return d, translate(err)
	}
	d.ResourceItem = it
	if d.Gaps == nil {
		d.Gaps = []providers.Gap{}
	}
	d.Relations = make([]ResolvedRelation, len(rels))
	targets := make([]string, len(rels))
	for i, r := range rels {
		d.Relations[i] = ResolvedRelation{Relation: r}
		targets[i] = r.TargetID
	}
	if len(targets) == 0 {
		return d, nil
	}
	rows, err := tx.Query(ctx, `SELECT native_id, id FROM resources
		WHERE tenant_id = vigil_current_tenant() AND account_id = $1 AND native_id = ANY($2)`, d.AccountID, targets)
	if err != nil {
		return d, fmt.Errorf("resolve relations: %w", err)
	}
	byNative := map[string]uuid.UUID{}
	for rows.Next() {
		var n string
		var rid uuid.UUID
		if err := rows.Scan(&n, &rid); err != nil {
			rows.Close()
			return d, err
		}
		byNative[n] = rid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	for i := range d.Relations {
		if rid, ok := byNative[d.Relations[i].TargetID]; ok {
			d.Relations[i].ResourceID = &rid
		}
	}
	return d, nil
}

// ResourceVersion is one entry of a resource's drift history.
type ResourceVersion struct {
	Version    int        `json:"version"`
	Change     string     `json:"change"`
	ObservedAt time.Time  `json:"observed_at"`
	ScanID     *uuid.UUID `json:"scan_id"`
	// PatchOps is the number of RFC 6902 operations from the previous version.
	PatchOps int `json:"patch_ops"`
	// Document and Patch are set when one version is read in full.
	Document map[string]any   `json:"document,omitempty"`
	Patch    []map[string]any `json:"patch,omitempty"`
}

// ResourceVersions lists a resource's versions, newest first, before version `before`
// (0: from the newest). ErrNotFound when the resource is not the tenant's.
func ResourceVersions(ctx context.Context, tx pgx.Tx, resourceID uuid.UUID, before, limit int) ([]ResourceVersion, error) {
	if err := ResourceExists(ctx, tx, resourceID); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT version, change, observed_at, scan_id, jsonb_array_length(patch) FROM resource_versions
		WHERE tenant_id = vigil_current_tenant() AND resource_id = $1 AND ($2 = 0 OR version < $2)
		ORDER BY version DESC LIMIT $3`, resourceID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ResourceVersion, error) {
		var v ResourceVersion
		err := r.Scan(&v.Version, &v.Change, &v.ObservedAt, &v.ScanID, &v.PatchOps)
		return v, err
	})
}

// ResourceExists returns ErrNotFound unless the resource is the tenant's.
func ResourceExists(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	var one int
	err := tx.QueryRow(ctx, "SELECT 1 FROM resources WHERE tenant_id = vigil_current_tenant() AND id = $1", id).Scan(&one)
	return translate(err)
}

const versionColumns = "version, change, observed_at, scan_id, jsonb_array_length(patch), document, patch"

func scanVersion(row pgx.Row) (ResourceVersion, error) {
	var v ResourceVersion
	err := row.Scan(&v.Version, &v.Change, &v.ObservedAt, &v.ScanID, &v.PatchOps, &v.Document, &v.Patch)
	if v.Document != nil {
		v.Document = normalDoc(v.Document)
	}
	if v.Patch == nil {
		v.Patch = []map[string]any{}
	}
	return v, translate(err)
}

// ResourceVersionGet reads one version in full (document and patch).
func ResourceVersionGet(ctx context.Context, tx pgx.Tx, resourceID uuid.UUID, version int) (ResourceVersion, error) {
	return scanVersion(tx.QueryRow(ctx, "SELECT "+versionColumns+` FROM resource_versions
		WHERE tenant_id = vigil_current_tenant() AND resource_id = $1 AND version = $2`, resourceID, version))
}

// ResourceVersionAt reads the version in force at t: the newest observed at or before
// it. ErrNotFound when the resource did not exist yet (or that history was pruned).
func ResourceVersionAt(ctx context.Context, tx pgx.Tx, resourceID uuid.UUID, t time.Time) (ResourceVersion, error) {
	return scanVersion(tx.QueryRow(ctx, "SELECT "+versionColumns+` FROM resource_versions
		WHERE tenant_id = vigil_current_tenant() AND resource_id = $1 AND observed_at <= $2
		ORDER BY version DESC LIMIT 1`, resourceID, t))
}

// VersionDiff is the RFC 6902 patch between two stored versions of a resource.
type VersionDiff struct {
	From  ResourceVersion  `json:"from"`
	To    ResourceVersion  `json:"to"`
	Patch []map[string]any `json:"patch"`
}

// ResourceDiff computes the patch that turns version from into version to (either
// order), over the stored documents.
func ResourceDiff(ctx context.Context, tx pgx.Tx, resourceID uuid.UUID, from, to int) (VersionDiff, error) {
	var d VersionDiff
	var err error
	if d.From, err = ResourceVersionGet(ctx, tx, resourceID, from); err != nil {
		return d, err
	}
	if d.To, err = ResourceVersionGet(ctx, tx, resourceID, to); err != nil {
		return d, err
	}
	ops, err := jsondiff.Compare(d.From.Document, d.To.Document) // both normalised when read
	if err != nil {
		return d, fmt.Errorf("diff versions %d and %d: %w", from, to, err)
	}
	b, err := json.Marshal(ops)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d.Patch); err != nil {
		return d, err
	}
	if d.Patch == nil {
		d.Patch = []map[string]any{}
	}
	// The versions' own patches (from their predecessors) would only confuse here.
	d.From.Patch, d.To.Patch = nil, nil
	return d, nil
}

// DocSet is a set of current documents with their context, for evaluating a check.
type DocSet struct {
	Docs []StoredResource
	// AccountOf is the cloud account row of each document.
	AccountOf []uuid.UUID
	// Accounts are the account-level documents by account row id.
	Accounts map[uuid.UUID]*providers.Resource
	// Related are the documents the relations point at, by native id.
	Related map[string]providers.Resource
	// Truncated says more documents of the type exist than were read.
	Truncated bool
}

// ResourceDocs reads up to limit current documents of one resource type (for a dry
// run), with the account-level documents of their accounts and the documents their
// relations point at.
func ResourceDocs(ctx context.Context, tx pgx.Tx, resourceType string, limit int) (DocSet, error) {
	var set DocSet
	read := func(q string, args ...any) ([]StoredResource, []uuid.UUID, error) {
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return nil, nil, err
		}
		var out []StoredResource
		var accts []uuid.UUID
		for rows.Next() {
			var s StoredResource
			var acct uuid.UUID
			d := &s.Doc
			if err := rows.Scan(&s.ID, &acct, &d.Provider, &d.AccountID, &d.NativeID, &d.Type, &d.Region, &d.Name, &d.Tags, &d.Properties, &d.Gaps, &d.Relations); err != nil {
				rows.Close()
				return nil, nil, err
			}
			out = append(out, s)
			accts = append(accts, acct)
		}
		rows.Close()
		return out, accts, rows.Err()
	}
	const cols = `SELECT r.id, r.account_id, a.provider, a.native_id, r.native_id, r.type, r.region, r.name, r.tags, r.properties, r.gaps, r.relations`
	docs, acctOf, err := read(cols+resourceFrom+` WHERE r.tenant_id = vigil_current_tenant() AND r.deleted_at IS NULL AND r.type = $1
		ORDER BY r.id LIMIT $2`, resourceType, limit+1)
	if err != nil {
		return set, fmt.Errorf("read %s documents: %w", resourceType, err)
	}
	if len(docs) > limit {
		docs, acctOf, set.Truncated = docs[:limit], acctOf[:limit], true
	}
	set.Docs, set.AccountOf = docs, acctOf
	accountDocs, acctIDs, err := read(cols+resourceFrom+` WHERE r.tenant_id = vigil_current_tenant() AND r.deleted_at IS NULL
		AND r.type LIKE '%.account' AND r.account_id = ANY($1)`, uniqueIDs(acctOf))
	if err != nil {
		return set, fmt.Errorf("read account documents: %w", err)
	}
	set.Accounts = map[uuid.UUID]*providers.Resource{}
	for i := range accountDocs {
		set.Accounts[acctIDs[i]] = &accountDocs[i].Doc
	}
	var targets []string
	for _, d := range docs {
		for _, rel := range d.Doc.Relations {
			targets = append(targets, rel.TargetID)
		}
	}
	set.Related = map[string]providers.Resource{}
	if len(targets) > 0 {
		rel, _, err := read(cols+resourceFrom+` WHERE r.tenant_id = vigil_current_tenant() AND r.deleted_at IS NULL
			AND r.account_id = ANY($1) AND r.native_id = ANY($2)`, uniqueIDs(acctOf), targets)
		if err != nil {
			return set, fmt.Errorf("read related documents: %w", err)
		}
		for _, r := range rel {
			set.Related[r.Doc.NativeID] = r.Doc
		}
	}
	return set, nil
}

// normalDoc drops empty optional lists (gaps, relations) from a stored document, as the
// provider document's JSON omits them: an empty list and a missing one are the same
// document, and versions written by different code paths (a first version staged in
// SQL, later ones encoded in Go) must not differ in that, nor show it as drift.
func normalDoc(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if list, ok := v.([]any); (ok && len(list) == 0) || v == nil {
			if k == "gaps" || k == "relations" {
				continue
			}
		}
		out[k] = v
	}
	return out
}

func uniqueIDs(ids []uuid.UUID) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	out := []uuid.UUID{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
