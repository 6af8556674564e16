package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SeverityWeights weigh findings in the posture score: one critical finding counts as
// much as ten low ones; info findings do not count.
var SeverityWeights = map[string]int{"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}

// CountRow is the number of findings with one combination of attributes.
type CountRow struct {
	Severity  string
	State     string
	Status    string
	Provider  string
	AccountID uuid.UUID
	// Live is false for findings of deleted resources.
	Live  bool
	Count int
}

// FindingCountRows groups the tenant's findings by severity, state, status, provider,
// account and whether their resource still exists, in one pass.
func FindingCountRows(ctx context.Context, tx pgx.Tx) ([]CountRow, error) {
	rows, err := tx.Query(ctx, `SELECT f.severity, f.state, f.status, f.provider, f.account_id, r.deleted_at IS NULL, count(*)`+findingFrom+`
		WHERE f.tenant_id = vigil_current_tenant() GROUP BY 1, 2, 3, 4, 5, 6`)
	if err != nil {
		return nil, fmt.Errorf("count findings: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CountRow, error) {
		var c CountRow
		err := r.Scan(&c.Severity, &c.State, &c.Status, &c.Provider, &c.AccountID, &c.Live, &c.Count)
		return c, err
	})
}

// CheckCount is a check and a number of findings.
type CheckCount struct {
	CheckID  string `json:"check_id"`
	Severity string `json:"severity"`
	Count    int    `json:"count"`
}

// TopFailingChecks returns the checks with the most open failing findings.
func TopFailingChecks(ctx context.Context, tx pgx.Tx, limit int) ([]CheckCount, error) {
	rows, err := tx.Query(ctx, `SELECT check_id, max(severity), count(*) FROM findings
		WHERE tenant_id = vigil_current_tenant() AND state = 'open' AND status = 'fail'
		GROUP BY check_id ORDER BY 3 DESC, 1 LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("top failing checks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CheckCount, error) {
		var c CheckCount
		err := r.Scan(&c.CheckID, &c.Severity, &c.Count)
		return c, err
	})
}

// TrendPoint is the tenant's posture at the end of one UTC day: for each account, its
// latest snapshot at or before the day's end, summed over accounts.
type TrendPoint struct {
	Day time.Time `json:"day"`
	// Open counts open findings by severity.
	Open map[string]int `json:"open"`
	// Muted counts muted findings.
	Muted int `json:"muted"`
	// ByStatus counts every finding by its last status (pass, fail, unknown).
	ByStatus map[string]int `json:"by_status"`
	// Accounts is the number of accounts with a snapshot so far.
	Accounts int `json:"accounts"`
}

// PostureTrend returns one point per day for the days up to and including the day of
// `until`. An account not scanned on a day carries its previous snapshot forward.
func PostureTrend(ctx context.Context, tx pgx.Tx, until time.Time, days int) ([]TrendPoint, error) {
	end := until.UTC().Truncate(24 * time.Hour)
	start := end.AddDate(0, 0, -(days - 1))
	rows, err := tx.Query(ctx, `WITH days AS (SELECT generate_series($1::timestamptz, $2::timestamptz, interval '1 day') AS day),
		accts AS (SELECT DISTINCT account_id FROM posture_snapshots WHERE tenant_id = vigil_current_tenant())
		SELECT d.day, s.counts FROM days d CROSS JOIN accts a
		CROSS JOIN LATERAL (SELECT p.counts FROM posture_snapshots p
			WHERE p.tenant_id = vigil_current_tenant() AND p.account_id = a.account_id AND p.at < d.day + interval '1 day'
			ORDER BY p.at DESC LIMIT 1) s
		ORDER BY d.day`, start, end)
	if err != nil {
		return nil, fmt.Errorf("posture trend: %w", err)
	}
	defer rows.Close()
	points := make([]TrendPoint, days)
	index := map[time.Time]int{}
	for i := range points {
		d := start.AddDate(0, 0, i)
		points[i] = TrendPoint{Day: d, Open: map[string]int{}, ByStatus: map[string]int{}}
		index[d] = i
	}
	for rows.Next() {
		var day time.Time
		var counts struct {
			BySeverity map[string]map[string]int `json:"by_severity"`
			ByStatus   map[string]int            `json:"by_status"`
		}
		if err := rows.Scan(&day, &counts); err != nil {
			return nil, fmt.Errorf("posture trend: %w", err)
		}
		i, ok := index[day.UTC()]
		if !ok {
			continue
		}
		p := &points[i]
		p.Accounts++
		for sev, states := range counts.BySeverity {
			p.Open[sev] += states["open"]
			p.Muted += states["muted"]
		}
		for st, n := range counts.ByStatus {
			p.ByStatus[st] += n
		}
	}
	return points, rows.Err()
}

// CheckPosture counts one check's findings in one account, over resources that still
// exist: Failing (open fails), Muted (accepted fails), Passing, and Unknown (the last
// result could not be decided). Findings resolved because the check stopped applying
// count nowhere.
type CheckPosture struct {
	CheckID   string
	AccountID uuid.UUID
	Failing   int
	Muted     int
	Passing   int
	Unknown   int
}

// CheckPostureRows returns the posture of every check with findings, per account.
func CheckPostureRows(ctx context.Context, tx pgx.Tx) ([]CheckPosture, error) {
	rows, err := tx.Query(ctx, `SELECT f.check_id, f.account_id,
			count(*) FILTER (WHERE f.state = 'open' AND f.status = 'fail'),
			count(*) FILTER (WHERE f.state = 'muted'),
			count(*) FILTER (WHERE f.status = 'pass'),
			count(*) FILTER (WHERE f.status = 'unknown' AND f.state <> 'muted')`+findingFrom+`
		WHERE f.tenant_id = vigil_current_tenant() AND r.deleted_at IS NULL GROUP BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("check posture: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CheckPosture, error) {
		var c CheckPosture
		err := r.Scan(&c.CheckID, &c.AccountID, &c.Failing, &c.Muted, &c.Passing, &c.Unknown)
		return c, err
	})
}
