package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Finding states and statuses.
const (
	StateOpen     = "open"
	StateResolved = "resolved"
	StateMuted    = "muted"

	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusUnknown = "unknown"
)

// CheckResult is one check's result on one stored resource, as the evaluation job
// produces it.
type CheckResult struct {
	ResourceID   uuid.UUID
	NativeID     string
	ResourceType string
	Region       string
	Tags         map[string]string
	Provider     string
	CheckID      string
	Status       string // pass | fail | unknown
	Severity     string
	Message      string
	Reason       string
	// Evidence is the values the check read, stored as a JSON object: a
	// map[string]any or a checks.Evidence (the engine's results, encoded without
	// building a map); nil for none.
	Evidence any
}

// ApplyFindingsParams is one evaluation of an account.
type ApplyFindingsParams struct {
	AccountID uuid.UUID
	ScanID    uuid.UUID
	At        time.Time
	Results   []CheckResult
	// Failed lists the coverage of units that did not complete: findings of resources
	// there keep their state (never resolved by absence).
	Failed map[TypeRegion]bool
	// KeepChecks names checks that did not run in this evaluation (an analysis skipped
	// for a collection gap): their findings without a result keep their state.
	KeepChecks map[string]bool
}

// FindingCounts says what an evaluation changed.
type FindingCounts struct {
	Opened   int `json:"opened"`
	Reopened int `json:"reopened"`
	Resolved int `json:"resolved"`
	Muted    int `json:"muted"`
	Unmuted  int `json:"unmuted"`
	Total    int `json:"total"`
}

type existingFinding struct {
	id            uuid.UUID
	checkID       string
	resourceID    uuid.UUID
	state, status string
	severity      string
	muteRule      *uuid.UUID
	resourceType  string
	region        string
	deleted       bool
	everFailed    bool // resolved_at is set: it was open once
}

// findingKey identifies a finding: a check on a resource.
type findingKey struct {
	checkID    string
	resourceID uuid.UUID
}

type findingRow struct {
	id                  uuid.UUID
	r                   CheckResult
	state               string
	resolvedAt          *time.Time
	reopened            int
	muteRule            *uuid.UUID
	firstSeen, lastSeen time.Time
}

type findingEvent struct {
	findingID uuid.UUID
	kind      string
	details   map[string]any
}

// FindingsApply turns an account's evaluation into findings and their events:
//   - fail: opened (new), reopened (was resolved), or muted when a mute rule matches;
//   - pass: resolved when it was open or muted;
//   - unknown: the state stays as it was (a gap proves nothing);
//   - a finding with no result is resolved when its resource was evaluated (the check
//     no longer applies) or deleted by a complete unit, and left alone when its
//     resource lies in the coverage of a failed unit.
func FindingsApply(ctx context.Context, tx pgx.Tx, p ApplyFindingsParams) (FindingCounts, error) {
	a, err := FindingsBegin(ctx, tx, p)
	if err != nil {
		return FindingCounts{}, err
	}
	if err := a.Add(ctx, tx, p.Results); err != nil {
		return a.counts, err
	}
	return a.Finish(ctx, tx)
}

// FindingsApplier applies one evaluation in batches of results, so an account of any
// size is evaluated in bounded memory: each batch reads the existing findings of its
// resources only, and Finish settles the findings that had no result.
type FindingsApplier struct {
	p         ApplyFindingsParams
	rules     []MuteRule
	evaluated map[uuid.UUID]bool
	counts    FindingCounts
}

// FindingsBegin starts applying an evaluation (p.Results is ignored: see Add).
func FindingsBegin(ctx context.Context, tx pgx.Tx, p ApplyFindingsParams) (*FindingsApplier, error) {
	rules, err := MuteRuleActive(ctx, tx, p.At)
	if err != nil {
		return nil, err
	}
	return &FindingsApplier{p: p, rules: rules, evaluated: map[uuid.UUID]bool{}}, nil
}

// Evaluated records that resources were evaluated, even without any result: their
// findings that got no result are resolved (the checks no longer apply).
func (a *FindingsApplier) Evaluated(ids ...uuid.UUID) {
	for _, id := range ids {
		a.evaluated[id] = true
	}
}

// Keep names checks that did not run in this evaluation: their findings without a
// result keep their state (see ApplyFindingsParams.KeepChecks).
func (a *FindingsApplier) Keep(checkIDs map[string]bool) {
	if a.p.KeepChecks == nil {
		a.p.KeepChecks = map[string]bool{}
	}
	for id := range checkIDs {
		a.p.KeepChecks[id] = true
	}
}

// Add applies a batch of results. Every result of one resource must be in the same
// batch or the results of a resource may be split by check; a (check, resource) pair
// appears once in the whole evaluation.
func (a *FindingsApplier) Add(ctx context.Context, tx pgx.Tx, results []CheckResult) error {
	if len(results) == 0 {
		return nil
	}
	p := a.p
	counts := &a.counts
	rules := a.rules
	ids := make([]uuid.UUID, 0, len(results)/4+1)
	inBatch := map[uuid.UUID]bool{}
	for _, r := range results {
		if !inBatch[r.ResourceID] {
			inBatch[r.ResourceID] = true
			a.evaluated[r.ResourceID] = true
			ids = append(ids, r.ResourceID)
		}
	}
	existing := map[findingKey]*existingFinding{}
	// The findings table grows inside this transaction, batch by batch, while its
	// statistics still describe it as it was (empty, on a first scan): the planner would
	// choose a sequential scan per batch, quadratic over the evaluation. The lookup is by
	// resource ids, which findings_resource_idx answers at any size.
	err := withIndexScans(ctx, tx, func() error {
		// One lookup per resource id (see ResourcesWhere for why it is spelled out).
		rows, err := tx.Query(ctx, `SELECT f.id, f.check_id, f.resource_id, f.state, f.status, f.severity, f.mute_rule_id,
			f.resolved_at IS NOT NULL
		FROM unnest($1::uuid[]) AS k(resource_id)
		CROSS JOIN LATERAL (SELECT * FROM findings f
			WHERE f.tenant_id = vigil_current_tenant() AND f.resource_id = k.resource_id OFFSET 0) f`, ids)
		if err != nil {
			return fmt.Errorf("read findings: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e existingFinding
			if err := rows.Scan(&e.id, &e.checkID, &e.resourceID, &e.state, &e.status, &e.severity, &e.muteRule, &e.everFailed); err != nil {
				return err
			}
			existing[findingKey{e.checkID, e.resourceID}] = &e
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}

	out := make([]findingRow, 0, len(results))
	var events []findingEvent
	for _, r := range results {
		e := existing[findingKey{r.CheckID, r.ResourceID}]
		rule := matchMute(rules, r, p.AccountID)
		row := findingRow{r: r, lastSeen: p.At, firstSeen: p.At}
		if e == nil {
			// Time-ordered ids: an evaluation's new findings land together at the end of
			// the indexes that end in the id, instead of on random pages.
			row.id = uuid.Must(uuid.NewV7())
			switch r.Status {
			case StatusFail:
				row.state = StateOpen
				events = append(events, findingEvent{row.id, "opened", nil})
				counts.Opened++
				if rule != nil {
					row.state, row.muteRule = StateMuted, &rule.ID
					events = append(events, findingEvent{row.id, "muted", map[string]any{"mute_rule_id": rule.ID}})
					counts.Muted++
				}
			case StatusUnknown:
				// Never evaluated before and unreadable now: open, so the gap is seen.
				row.state = StateOpen
				events = append(events, findingEvent{row.id, "opened", map[string]any{"status": "unknown"}})
				counts.Opened++
			default:
				row.state = StateResolved
			}
			out = append(out, row)
			continue
		}
		row.id = e.id
		row.state, row.muteRule = e.state, e.muteRule
		switch r.Status {
		case StatusFail:
			switch e.state {
			case StateResolved:
				row.state = StateOpen
				if e.everFailed {
					row.reopened = 1
					events = append(events, findingEvent{row.id, "reopened", nil})
					counts.Reopened++
				} else {
					// It passed until now: this is its first failure.
					events = append(events, findingEvent{row.id, "opened", nil})
					counts.Opened++
				}
				if rule != nil {
					row.state, row.muteRule = StateMuted, &rule.ID
					events = append(events, findingEvent{row.id, "muted", map[string]any{"mute_rule_id": rule.ID}})
					counts.Muted++
				}
			case StateOpen:
				if rule != nil {
					row.state, row.muteRule = StateMuted, &rule.ID
					events = append(events, findingEvent{row.id, "muted", map[string]any{"mute_rule_id": rule.ID}})
					counts.Muted++
				}
			case StateMuted:
				if rule == nil {
					row.state, row.muteRule = StateOpen, nil
					events = append(events, findingEvent{row.id, "unmuted", nil})
					counts.Unmuted++
				}
			}
			if e.severity != r.Severity {
				events = append(events, findingEvent{row.id, "severity_changed", map[string]any{"from": e.severity, "to": r.Severity}})
			}
		case StatusPass:
			if e.state != StateResolved {
				row.state, row.muteRule = StateResolved, nil
				now := p.At
				row.resolvedAt = &now
				events = append(events, findingEvent{row.id, "resolved", nil})
				counts.Resolved++
			}
		case StatusUnknown:
			// Keep the state; the status and reason say why nothing is known.
		}
		out = append(out, row)
	}

	if err := writeFindings(ctx, tx, p, out); err != nil {
		return err
	}
	counts.Total += len(out)
	return writeEvents(ctx, tx, p.ScanID, p.At, events)
}

// Finish settles the findings that got no result in this evaluation and returns what
// the whole evaluation changed.
func (a *FindingsApplier) Finish(ctx context.Context, tx pgx.Tx) (FindingCounts, error) {
	p := a.p
	counts := &a.counts
	rows, err := tx.Query(ctx, `SELECT f.id, f.check_id, f.resource_id, r.type, r.region, r.deleted_at IS NOT NULL
		FROM findings f JOIN resources r ON r.tenant_id = f.tenant_id AND r.id = f.resource_id
		WHERE f.tenant_id = vigil_current_tenant() AND f.account_id = $1 AND f.state <> 'resolved'
		  AND f.last_scan_id IS DISTINCT FROM $2`, p.AccountID, p.ScanID)
	if err != nil {
		return *counts, fmt.Errorf("read findings without a result: %w", err)
	}
	var unseen []existingFinding
	for rows.Next() {
		var e existingFinding
		if err := rows.Scan(&e.id, &e.checkID, &e.resourceID, &e.resourceType, &e.region, &e.deleted); err != nil {
			rows.Close()
			return *counts, err
		}
		unseen = append(unseen, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return *counts, err
	}
	var resolveIDs []uuid.UUID
	var events []findingEvent
	for _, e := range unseen {
		switch {
		case p.Failed[TypeRegion{e.resourceType, e.region}] || p.Failed[TypeRegion{e.resourceType, "global"}]:
			continue // collection gap: nothing may be concluded
		case p.KeepChecks[e.checkID]:
			continue // the check did not run this time (its analysis was skipped)
		case e.deleted:
			resolveIDs = append(resolveIDs, e.id)
			events = append(events, findingEvent{e.id, "resolved", map[string]any{"reason": "resource_deleted"}})
		case a.evaluated[e.resourceID]:
			resolveIDs = append(resolveIDs, e.id)
			events = append(events, findingEvent{e.id, "resolved", map[string]any{"reason": "not_applicable"}})
		default:
			continue // resource not evaluated this time (e.g. outside the scan's regions)
		}
		counts.Resolved++
	}
	if len(resolveIDs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE findings SET state = 'resolved', resolved_at = $2, mute_rule_id = NULL, last_scan_id = $3
			WHERE tenant_id = vigil_current_tenant() AND id = ANY($1)`, resolveIDs, p.At, p.ScanID); err != nil {
			return *counts, fmt.Errorf("resolve findings: %w", err)
		}
	}
	if err := writeEvents(ctx, tx, p.ScanID, p.At, events); err != nil {
		return *counts, err
	}
	return *counts, nil
}

func writeFindings(ctx context.Context, tx pgx.Tx, p ApplyFindingsParams, rows []findingRow) error {
	if err := stage(ctx, tx, "incoming_findings", `id uuid, resource_id uuid, check_id text, provider text,
			resource_type text, region text, status text, state text, severity text, message text, reason text,
			evidence jsonb, resolved_at timestamptz, reopened integer, mute_rule_id uuid`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_findings"},
		[]string{"id", "resource_id", "check_id", "provider", "resource_type", "region", "status", "state", "severity",
			"message", "reason", "evidence", "resolved_at", "reopened", "mute_rule_id"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			f := rows[i]
			ev := f.r.Evidence
			if m, isMap := ev.(map[string]any); ev == nil || isMap && m == nil {
				ev = map[string]any{}
			}
			return []any{f.id, f.r.ResourceID, f.r.CheckID, f.r.Provider, f.r.ResourceType, f.r.Region, f.r.Status, f.state,
				f.r.Severity, f.r.Message, f.r.Reason, ev, f.resolvedAt, f.reopened, f.muteRule}, nil
		}))
	if err != nil {
		return fmt.Errorf("copy findings: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO findings AS f (tenant_id, id, account_id, resource_id, check_id, provider, resource_type,
			region, status, state, severity, message, reason, evidence, first_seen, last_seen, resolved_at, times_reopened,
			mute_rule_id, last_scan_id)
		SELECT vigil_current_tenant(), i.id, $1, i.resource_id, i.check_id, i.provider, i.resource_type, i.region, i.status,
			i.state, i.severity, i.message, i.reason, i.evidence, $2, $2, i.resolved_at, i.reopened, i.mute_rule_id, $3
		FROM incoming_findings i
		ON CONFLICT (tenant_id, check_id, resource_id) DO UPDATE SET
			status = excluded.status, state = excluded.state, severity = excluded.severity,
			message = CASE WHEN excluded.status = 'unknown' THEN f.message ELSE excluded.message END,
			reason = excluded.reason,
			evidence = CASE WHEN excluded.status = 'unknown' THEN f.evidence ELSE excluded.evidence END,
			region = excluded.region, last_seen = excluded.last_seen,
			resolved_at = CASE WHEN excluded.state = 'resolved' THEN coalesce(excluded.resolved_at, f.resolved_at) ELSE NULL END,
			times_reopened = f.times_reopened + excluded.times_reopened,
			mute_rule_id = excluded.mute_rule_id, last_scan_id = excluded.last_scan_id`, p.AccountID, p.At, p.ScanID)
	if err != nil {
		return fmt.Errorf("upsert findings: %w", err)
	}
	return nil
}

func writeEvents(ctx context.Context, tx pgx.Tx, scanID uuid.UUID, at time.Time, events []findingEvent) error {
	if len(events) == 0 {
		return nil
	}
	var scan *uuid.UUID
	if scanID != uuid.Nil {
		scan = &scanID
	}
	rows := make([][]any, len(events))
	for i, e := range events {
		d := e.details
		if d == nil {
			d = map[string]any{}
		}
		rows[i] = []any{e.findingID, scan, at, e.kind, d}
	}
	if err := stage(ctx, tx, "incoming_events", `seq serial, finding_id uuid, scan_id uuid, at timestamptz, kind text,
			details jsonb`); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incoming_events"}, []string{"finding_id", "scan_id", "at", "kind", "details"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy finding events: %w", err)
	}
	// Events keep their order (opened before muted) through the identity column.
	_, err := tx.Exec(ctx, `INSERT INTO finding_events (tenant_id, finding_id, scan_id, at, kind, details)
		SELECT vigil_current_tenant(), finding_id, scan_id, at, kind, details FROM incoming_events ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("write finding events: %w", err)
	}
	return nil
}

// MuteRule silences matching failing findings, with a justification and an optional
// expiry. Empty fields match everything.
type MuteRule struct {
	ID              uuid.UUID         `json:"id"`
	CheckPattern    string            `json:"check_pattern"`
	AccountID       *uuid.UUID        `json:"account_id"`
	Region          string            `json:"region"`
	ResourcePattern string            `json:"resource_pattern"`
	Tags            map[string]string `json:"tags"`
	Justification   string            `json:"justification"`
	ExpiresAt       *time.Time        `json:"expires_at"`
	CreatedBy       string            `json:"created_by"`
	CreatedAt       time.Time         `json:"created_at"`
}

const muteColumns = "id, check_pattern, account_id, region, resource_pattern, tags, justification, expires_at, created_by, created_at"

func scanMute(r pgx.CollectableRow) (MuteRule, error) {
	var m MuteRule
	err := r.Scan(&m.ID, &m.CheckPattern, &m.AccountID, &m.Region, &m.ResourcePattern, &m.Tags, &m.Justification, &m.ExpiresAt, &m.CreatedBy, &m.CreatedAt)
	return m, err
}

// MuteRuleCreate stores a rule; callers then apply it with FindingsRemute.
func MuteRuleCreate(ctx context.Context, tx pgx.Tx, m MuteRule) (MuteRule, error) {
	if m.Tags == nil {
		m.Tags = map[string]string{}
	}
	rows, err := tx.Query(ctx, `INSERT INTO mute_rules (tenant_id, id, check_pattern, account_id, region, resource_pattern, tags,
		justification, expires_at, created_by) VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+muteColumns,
		uuid.New(), m.CheckPattern, m.AccountID, m.Region, m.ResourcePattern, m.Tags, m.Justification, m.ExpiresAt, m.CreatedBy)
	if err != nil {
		return MuteRule{}, fmt.Errorf("create mute rule: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanMute)
	return out, translate(err)
}

// MuteRuleList lists the tenant's rules, including expired ones.
func MuteRuleList(ctx context.Context, tx pgx.Tx) ([]MuteRule, error) {
	rows, err := tx.Query(ctx, "SELECT "+muteColumns+" FROM mute_rules WHERE tenant_id = vigil_current_tenant() ORDER BY created_at DESC, id")
	if err != nil {
		return nil, fmt.Errorf("list mute rules: %w", err)
	}
	return pgx.CollectRows(rows, scanMute)
}

// MuteRuleActive lists the rules in force at t.
func MuteRuleActive(ctx context.Context, tx pgx.Tx, t time.Time) ([]MuteRule, error) {
	rows, err := tx.Query(ctx, "SELECT "+muteColumns+` FROM mute_rules WHERE tenant_id = vigil_current_tenant()
		AND (expires_at IS NULL OR expires_at > $1) ORDER BY created_at, id`, t)
	if err != nil {
		return nil, fmt.Errorf("active mute rules: %w", err)
	}
	return pgx.CollectRows(rows, scanMute)
}

// MuteRuleDelete removes a rule; callers then lift it with FindingsRemute.
func MuteRuleDelete(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM mute_rules WHERE tenant_id = vigil_current_tenant() AND id = $1", id)
	if err != nil {
		return fmt.Errorf("delete mute rule: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Matches reports whether the rule covers a result of account.
func (m *MuteRule) Matches(r CheckResult, account uuid.UUID) bool {
	if m.AccountID != nil && *m.AccountID != account {
		return false
	}
	if m.Region != "" && m.Region != r.Region {
		return false
	}
	if m.CheckPattern != "" {
		if ok, _ := path.Match(m.CheckPattern, r.CheckID); !ok {
			return false
		}
	}
	if m.ResourcePattern != "" {
		if ok, _ := path.Match(m.ResourcePattern, r.NativeID); !ok {
			return false
		}
	}
	for k, v := range m.Tags {
		if r.Tags[k] != v {
			return false
		}
	}
	return true
}

func matchMute(rules []MuteRule, r CheckResult, account uuid.UUID) *MuteRule {
	for i := range rules {
		if rules[i].Matches(r, account) {
			return &rules[i]
		}
	}
	return nil
}

// FindingsRemute applies the rules in force at t to every failing finding of the
// tenant, outside any scan: a new rule mutes retroactively; a deleted or expired one
// lifts. Each change is an event.
func FindingsRemute(ctx context.Context, tx pgx.Tx, t time.Time) (FindingCounts, error) {
	var counts FindingCounts
	rules, err := MuteRuleActive(ctx, tx, t)
	if err != nil {
		return counts, err
	}
	rows, err := tx.Query(ctx, `SELECT f.id, f.account_id, f.check_id, f.region, f.state, f.mute_rule_id, r.native_id, r.tags
		FROM findings f JOIN resources r ON r.tenant_id = f.tenant_id AND r.id = f.resource_id
		WHERE f.tenant_id = vigil_current_tenant() AND f.state IN ('open', 'muted') AND f.status = 'fail'`)
	if err != nil {
		return counts, fmt.Errorf("read failing findings: %w", err)
	}
	type change struct {
		id    uuid.UUID
		state string
		rule  *uuid.UUID
	}
	var changes []change
	var events []findingEvent
	for rows.Next() {
		var id, account uuid.UUID
		var r CheckResult
		var state string
		var cur *uuid.UUID
		if err := rows.Scan(&id, &account, &r.CheckID, &r.Region, &state, &cur, &r.NativeID, &r.Tags); err != nil {
			rows.Close()
			return counts, err
		}
		rule := matchMute(rules, r, account)
		switch {
		case rule != nil && state == StateOpen:
			changes = append(changes, change{id, StateMuted, &rule.ID})
			events = append(events, findingEvent{id, "muted", map[string]any{"mute_rule_id": rule.ID}})
			counts.Muted++
		case rule == nil && state == StateMuted:
			changes = append(changes, change{id, StateOpen, nil})
			details := map[string]any{}
			if cur != nil {
				details["mute_rule_id"] = *cur
			}
			events = append(events, findingEvent{id, "unmuted", details})
			counts.Unmuted++
		case rule != nil && state == StateMuted && (cur == nil || *cur != rule.ID):
			changes = append(changes, change{id, StateMuted, &rule.ID})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return counts, err
	}
	for _, c := range changes {
		if _, err := tx.Exec(ctx, "UPDATE findings SET state = $2, mute_rule_id = $3 WHERE tenant_id = vigil_current_tenant() AND id = $1",
			c.id, c.state, c.rule); err != nil {
			return counts, fmt.Errorf("update finding state: %w", err)
		}
	}
	return counts, writeEvents(ctx, tx, uuid.Nil, t, events)
}

// PostureSnapshot stores the account's posture after an evaluation: counts of findings
// by severity and state, and by status.
func PostureSnapshot(ctx context.Context, tx pgx.Tx, accountID, scanID uuid.UUID, at time.Time) (map[string]any, error) {
	rows, err := tx.Query(ctx, `SELECT severity, state, status, count(*) FROM findings
		WHERE tenant_id = vigil_current_tenant() AND account_id = $1 GROUP BY 1, 2, 3`, accountID)
	if err != nil {
		return nil, fmt.Errorf("posture counts: %w", err)
	}
	bySeverity := map[string]map[string]int{}
	byStatus := map[string]int{}
	for rows.Next() {
		var sev, state, status string
		var n int
		if err := rows.Scan(&sev, &state, &status, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if bySeverity[sev] == nil {
			bySeverity[sev] = map[string]int{}
		}
		bySeverity[sev][state] += n
		byStatus[status] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	counts := map[string]any{"by_severity": bySeverity, "by_status": byStatus}
	b, _ := json.Marshal(counts)
	_, err = tx.Exec(ctx, `INSERT INTO posture_snapshots (tenant_id, scan_id, account_id, at, counts)
		VALUES (vigil_current_tenant(), $1, $2, $3, $4) ON CONFLICT (tenant_id, scan_id) DO UPDATE SET counts = excluded.counts, at = excluded.at`,
		scanID, accountID, at, json.RawMessage(b))
	if err != nil {
		return nil, fmt.Errorf("store posture snapshot: %w", err)
	}
	return counts, nil
}
