package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ErrBadCursor is returned for a cursor this store did not produce (or produced for
// another sort order).
var ErrBadCursor = errors.New("not a cursor this API returned for this sort")

// FindingFilter selects findings. Zero fields do not filter. Every query built from it
// starts from the transaction's tenant.
type FindingFilter struct {
	Severities   []string
	Statuses     []string
	States       []string // empty: every state
	CheckID      string
	Provider     string
	AccountID    *uuid.UUID
	Region       string
	ResourceType string
	ResourceID   *uuid.UUID
	// CheckIn restricts to these check ids (a framework or control); a non-nil empty
	// slice matches nothing.
	CheckIn        []string
	FirstSeenSince *time.Time
	ResolvedSince  *time.Time
	// Q matches resource names and native ids (case-insensitive substring), or a check
	// whose id is in QCheckIDs (the caller resolves titles through the registry).
	Q         string
	QCheckIDs []string
}

// FindingSort is an allow-listed sort key; Desc reverses it. The id breaks ties.
type FindingSort struct {
	Field string // severity | first_seen | last_seen | check_id
	Desc  bool
}

// FindingSortFields lists the sort keys the explorer accepts.
var FindingSortFields = []string{"severity", "first_seen", "last_seen", "check_id"}

// sortColumn maps an allow-listed sort field to its column; nothing else reaches SQL.
func (s FindingSort) column() (string, bool) {
	switch s.Field {
	case "severity":
		return "f.severity_rank", true
	case "first_seen":
		return "f.first_seen", true
	case "last_seen":
		return "f.last_seen", true
	case "check_id":
		return "f.check_id", true
	}
	return "", false
}

// String is the sort as written in a query string ("-severity").
func (s FindingSort) String() string {
	if s.Desc {
		return "-" + s.Field
	}
	return s.Field
}

// Cursor is a keyset position: the sort key of the last row of a page and its id.
type Cursor struct {
	Sort  string    `json:"s"`
	Value string    `json:"v"`
	ID    uuid.UUID `json:"id"`
}

// Encode makes the cursor opaque (base64url of its JSON).
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor produced by Encode for the sort.
func DecodeCursor(s, sort string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > 1024 {
		return nil, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort || c.ID == uuid.Nil {
		return nil, ErrBadCursor
	}
	return &c, nil
}

// FindingResource is the resource a finding is about.
type FindingResource struct {
	ID        uuid.UUID `json:"id"`
	NativeID  string    `json:"native_id"`
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	Region    string    `json:"region"`
	AccountID uuid.UUID `json:"account_id"`
}

// FindingItem is one row of the explorer. Title is filled by the caller from the check
// catalog (checks live in the registry, not in the database).
type FindingItem struct {
	ID            uuid.UUID       `json:"id"`
	CheckID       string          `json:"check_id"`
	Title         string          `json:"title"`
	Severity      string          `json:"severity"`
	Status        string          `json:"status"`
	State         string          `json:"state"`
	Provider      string          `json:"provider"`
	Message       string          `json:"message"`
	Resource      FindingResource `json:"resource"`
	FirstSeen     time.Time       `json:"first_seen"`
	LastSeen      time.Time       `json:"last_seen"`
	ResolvedAt    *time.Time      `json:"resolved_at"`
	TimesReopened int             `json:"times_reopened"`

	sortValue string
}

// builder assembles a WHERE clause with numbered arguments. Values only ever travel as
// arguments; column names come from allow-lists in this file.
type builder struct {
	where []string
	args  []any
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) add(cond string) { b.where = append(b.where, cond) }

// in adds "col IN list". One value is an equality: Postgres (before 17) cannot use an
// index's order past a column compared with = ANY(array), so the default page
// (state = 'open', by severity) would sort instead of reading one index range.
func (b *builder) in(col string, values []string) {
	if len(values) == 1 {
		b.add(col + " = " + b.arg(values[0]))
		return
	}
	b.add(col + " = ANY(" + b.arg(values) + ")")
}

func (b *builder) sql() string { return strings.Join(b.where, " AND ") }

// likePattern escapes LIKE wildcards in a user's text and wraps it in %...%.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// findingWhere starts from the tenant condition (row-level security applies too; the
// explicit condition also lets the planner use the tenant-leading indexes).
func findingWhere(f FindingFilter) *builder {
	b := &builder{}
	b.add("f.tenant_id = vigil_current_tenant()")
	if len(f.States) > 0 {
		b.in("f.state", f.States)
	}
	if len(f.Severities) > 0 {
		b.in("f.severity", f.Severities)
	}
	if len(f.Statuses) > 0 {
		b.in("f.status", f.Statuses)
	}
	if f.CheckID != "" {
		b.add("f.check_id = " + b.arg(f.CheckID))
	}
	if f.CheckIn != nil {
		if len(f.CheckIn) == 0 {
			b.add("false")
		} else {
			b.in("f.check_id", f.CheckIn)
		}
	}
	if f.Provider != "" {
		b.add("f.provider = " + b.arg(f.Provider))
	}
	if f.AccountID != nil {
		b.add("f.account_id = " + b.arg(*f.AccountID))
	}
	if f.Region != "" {
		b.add("f.region = " + b.arg(f.Region))
	}
	if f.ResourceType != "" {
		b.add("f.resource_type = " + b.arg(f.ResourceType))
	}
	if f.ResourceID != nil {
		b.add("f.resource_id = " + b.arg(*f.ResourceID))
	}
	if f.FirstSeenSince != nil {
		b.add("f.first_seen >= " + b.arg(*f.FirstSeenSince))
	}
	if f.ResolvedSince != nil {
		b.add("f.resolved_at >= " + b.arg(*f.ResolvedSince))
	}
	if f.Q != "" {
		p := b.arg(likePattern(f.Q))
		cond := "r.name ILIKE " + p + " OR r.native_id ILIKE " + p
		if len(f.QCheckIDs) > 0 {
			cond += " OR f.check_id = ANY(" + b.arg(f.QCheckIDs) + ")"
		}
		b.add("(" + cond + ")")
	}
	return b
}

const findingFrom = ` FROM findings f JOIN resources r ON r.tenant_id = f.tenant_id AND r.id = f.resource_id`

const findingItemColumns = `f.id, f.check_id, f.severity, f.status, f.state, f.provider, f.message, f.first_seen, f.last_seen,
	f.resolved_at, f.times_reopened, r.id, r.native_id, r.type, r.name, r.region, f.account_id`

func scanFindingItem(row pgx.Row, extra ...any) (FindingItem, error) {
	var it FindingItem
	dst := []any{&it.ID, &it.CheckID, &it.Severity, &it.Status, &it.State, &it.Provider, &it.Message, &it.FirstSeen, &it.LastSeen,
		&it.ResolvedAt, &it.TimesReopened, &it.Resource.ID, &it.Resource.NativeID, &it.Resource.Type, &it.Resource.Name,
		&it.Resource.Region, &it.Resource.AccountID}
	err := row.Scan(append(dst, extra...)...)
	return it, err
}

// sortKeyText renders the sort column as text for the cursor.
func sortKeyText(col string) string {
	switch col {
	case "f.severity_rank":
		return "f.severity_rank::text"
	case "f.check_id":
		return "f.check_id"
	}
	// Microsecond precision round-trips exactly through timestamptz.
	return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
}

func sortKeyArg(col, v string) (any, error) {
	switch col {
	case "f.severity_rank":
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, ErrBadCursor
		}
		return int16(n), nil
	case "f.check_id":
		return v, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, ErrBadCursor
	}
	return t, nil
}

// tiebreak is the column that makes the order total; a cursor carries its value. For
// check_id it is the resource: (check_id, resource_id) is unique, and its unique index
// then serves the whole order.
func (s FindingSort) tiebreak() string {
	if s.Field == "check_id" {
		return "f.resource_id"
	}
	return "f.id"
}

// findingQuery builds the page query. The keyset condition compares (sort key,
// tiebreak) as a row, in the index's order, so a page is one index range scan.
//
// Severity and time sorts are served by indexes that lead with the state. For a page
// over several states (or all), Postgres before 17 cannot merge an index's order across
// the values of state = ANY(...); the query then reads one ordered page per state and
// merges them (UNION ALL of LIMITed branches), instead of sorting every finding of the
// tenant.
func findingQuery(f FindingFilter, sort FindingSort, after *Cursor, limit int) (string, []any, error) {
	col, ok := sort.column()
	if !ok {
		return "", nil, fmt.Errorf("sort by %q: %w", sort.Field, ErrBadCursor)
	}
	tie := sort.tiebreak()
	dir := ""
	if sort.Desc {
		dir = " DESC"
	}
	order := " ORDER BY " + col + dir + ", " + tie + dir
	perState := limit > 0 && tie == "f.id" && len(f.States) != 1
	states := f.States
	if perState {
		if len(states) == 0 {
			states = []string{StateOpen, StateResolved, StateMuted}
		}
		f.States = nil
	}
	b := findingWhere(f)
	if after != nil {
		v, err := sortKeyArg(col, after.Value)
		if err != nil {
			return "", nil, err
		}
		op := ">"
		if sort.Desc {
			op = "<"
		}
		b.add("(" + col + ", " + tie + ") " + op + " (" + b.arg(v) + ", " + b.arg(after.ID) + ")")
	}
	sel := "SELECT " + findingItemColumns + ", " + sortKeyText(col) + findingFrom
	if !perState {
		q := sel + " WHERE " + b.sql() + order
		if limit > 0 {
			q += " LIMIT " + b.arg(limit)
		}
		return q, b.args, nil
	}
	from := " FROM findings f"
	if f.Q != "" {
		from = findingFrom // the text filter reads the resource
	}
	lim := b.arg(limit)
	branches := make([]string, len(states))
	for i, st := range states {
		branches[i] = "(SELECT f.id, " + col + " AS k" + from + " WHERE " + b.sql() + " AND f.state = " + b.arg(st) + order + " LIMIT " + lim + ")"
	}
	q := sel + " WHERE f.tenant_id = vigil_current_tenant() AND f.id IN (SELECT id FROM (" + strings.Join(branches, " UNION ALL ") +
		") u ORDER BY k" + dir + ", id" + dir + " LIMIT " + lim + ")" + order
	return q, b.args, nil
}

// FindingPage is one page of the explorer and the cursor of the next (empty at the end).
type FindingPage struct {
	Items      []FindingItem
	NextCursor string
}

// FindingList returns one page of findings in the sort order, after the cursor.
func FindingList(ctx context.Context, tx pgx.Tx, f FindingFilter, sort FindingSort, after *Cursor, limit int) (FindingPage, error) {
	q, args, err := findingQuery(f, sort, after, limit+1)
	if err != nil {
		return FindingPage{}, err
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return FindingPage{}, fmt.Errorf("list findings: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FindingItem, error) {
		var key string
		it, err := scanFindingItem(r, &key)
		it.sortValue = key
		return it, err
	})
	if err != nil {
		return FindingPage{}, fmt.Errorf("list findings: %w", err)
	}
	page := FindingPage{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		id := last.ID
		if sort.tiebreak() == "f.resource_id" {
			id = last.Resource.ID
		}
		page.NextCursor = Cursor{Sort: sort.String(), Value: last.sortValue, ID: id}.Encode()
	}
	return page, nil
}

// FindingExportRow is one finding of an export: the explorer's row plus its reason and
// evidence.
type FindingExportRow struct {
	FindingItem
	Reason   string         `json:"reason"`
	Evidence map[string]any `json:"evidence"`
}

// FindingEach streams every finding matching the filter, in the sort order, to fn,
// row by row from the database cursor: nothing is accumulated, so an export of a
// million findings holds one row in memory. fn's error stops the iteration.
func FindingEach(ctx context.Context, tx pgx.Tx, f FindingFilter, sort FindingSort, fn func(*FindingExportRow) error) error {
	q, args, err := findingQuery(f, sort, nil, 0)
	if err != nil {
		return err
	}
	q = strings.Replace(q, findingFrom, ", f.reason, f.evidence"+findingFrom, 1)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("export findings: %w", err)
	}
	defer rows.Close()
	var row FindingExportRow
	for rows.Next() {
		var key string
		row.Evidence = nil
		it, err := scanFindingItem(rows, &key, &row.Reason, &row.Evidence)
		if err != nil {
			return fmt.Errorf("export findings: %w", err)
		}
		row.FindingItem = it
		if err := fn(&row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FacetCount is one value of a facet and how many findings have it.
type FacetCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// FindingFacets counts the findings matching the filter by severity, state, status,
// resource type, account and region, in one pass (GROUPING SETS).
func FindingFacets(ctx context.Context, tx pgx.Tx, f FindingFilter) (map[string][]FacetCount, error) {
	b := findingWhere(f)
	from := " FROM findings f"
	if f.Q != "" {
		from = findingFrom // only the text filter reads the resource
	}
	rows, err := tx.Query(ctx, `SELECT f.severity, f.state, f.status, f.resource_type, f.account_id::text, f.region, count(*)`+
		from+" WHERE "+b.sql()+`
		GROUP BY GROUPING SETS ((f.severity), (f.state), (f.status), (f.resource_type), (f.account_id), (f.region))
		ORDER BY 7 DESC`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("finding facets: %w", err)
	}
	defer rows.Close()
	names := []string{"severity", "state", "status", "resource_type", "account_id", "region"}
	out := map[string][]FacetCount{}
	for _, n := range names {
		out[n] = []FacetCount{}
	}
	for rows.Next() {
		vals := make([]*string, 6)
		var n int
		if err := rows.Scan(&vals[0], &vals[1], &vals[2], &vals[3], &vals[4], &vals[5], &n); err != nil {
			return nil, fmt.Errorf("finding facets: %w", err)
		}
		// Exactly one column is set per grouping set: the columns are NOT NULL.
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

// sortFacets orders each facet by count, most first, then by value.
func sortFacets(m map[string][]FacetCount) {
	for _, list := range m {
		slices.SortFunc(list, func(a, b FacetCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Value, b.Value)
		})
	}
}

// FindingEvent is one entry of a finding's history.
type FindingEvent struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	ScanID  *uuid.UUID     `json:"scan_id"`
	Details map[string]any `json:"details"`
}

// FindingDetail is a finding with its evidence and history.
type FindingDetail struct {
	FindingItem
	Reason     string         `json:"reason"`
	Evidence   map[string]any `json:"evidence"`
	MuteRuleID *uuid.UUID     `json:"mute_rule_id"`
	LastScanID *uuid.UUID     `json:"last_scan_id"`
	Events     []FindingEvent `json:"events"`
}

// FindingGet reads one finding of the tenant with its events (oldest first).
func FindingGet(ctx context.Context, tx pgx.Tx, id uuid.UUID) (FindingDetail, error) {
	var d FindingDetail
	it, err := scanFindingItem(tx.QueryRow(ctx, "SELECT "+findingItemColumns+", f.reason, f.evidence, f.mute_rule_id, f.last_scan_id"+
		findingFrom+" WHERE f.tenant_id = vigil_current_tenant() AND f.id = $1", id), &d.Reason, &d.Evidence, &d.MuteRuleID, &d.LastScanID)
	if err != nil {
		return d, translate(err)
	}
	d.FindingItem = it
	rows, err := tx.Query(ctx, `SELECT id, at, kind, scan_id, details FROM finding_events
		WHERE tenant_id = vigil_current_tenant() AND finding_id = $1 ORDER BY id LIMIT 1000`, id)
	if err != nil {
		return d, fmt.Errorf("finding events: %w", err)
	}
	d.Events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (FindingEvent, error) {
		var e FindingEvent
		err := r.Scan(&e.ID, &e.At, &e.Kind, &e.ScanID, &e.Details)
		return e, err
	})
	if err != nil {
		return d, fmt.Errorf("finding events: %w", err)
	}
	if d.Events == nil {
		d.Events = []FindingEvent{}
	}
	return d, nil
}

// MuteTarget is what a bulk mute needs to know about one finding.
type MuteTarget struct {
	ID        uuid.UUID
	CheckID   string
	NativeID  string
	AccountID uuid.UUID
}

// FindingMuteTargets reads the check, resource native id and account of the tenant's
// findings among ids; ids of no finding of the tenant are left out.
func FindingMuteTargets(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) ([]MuteTarget, error) {
	rows, err := tx.Query(ctx, `SELECT f.id, f.check_id, r.native_id, f.account_id`+findingFrom+`
		WHERE f.tenant_id = vigil_current_tenant() AND f.id = ANY($1) ORDER BY f.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("read findings to mute: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (MuteTarget, error) {
		var m MuteTarget
		err := r.Scan(&m.ID, &m.CheckID, &m.NativeID, &m.AccountID)
		return m, err
	})
}
