package api

import (
	"math"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/store"
)

// summaryResponse is the dashboard: counts, posture score, trend, top failing checks,
// newest critical findings and recent drift.
type summaryResponse struct {
	Counts           summaryCounts       `json:"counts"`
	Score            postureScore        `json:"score"`
	Trend            []store.TrendPoint  `json:"trend"`
	TopFailingChecks []topCheck          `json:"top_failing_checks"`
	NewestCritical   []store.FindingItem `json:"newest_critical"`
	Drift            driftSummary        `json:"drift"`
}

type summaryCounts struct {
	Total      int                       `json:"total"`
	BySeverity map[string]map[string]int `json:"by_severity"` // severity -> state -> n
	ByState    map[string]int            `json:"by_state"`
	ByStatus   map[string]int            `json:"by_status"`
	ByProvider map[string]map[string]int `json:"by_provider"` // provider -> state -> n
	ByAccount  map[string]map[string]int `json:"by_account"`  // account id -> state -> n
}

// postureScore: Value = 100 x passed / (passed + failed), each finding weighted by
// store.SeverityWeights. Passed: the last result passed, or the failure is muted
// (accepted risk). Failed: open failures. Unknown results, findings resolved because
// the check stopped applying, and findings of deleted resources count in neither.
// Value is null when nothing counts.
type postureScore struct {
	Value   *float64       `json:"value"`
	Passed  int            `json:"passed_weight"`
	Failed  int            `json:"failed_weight"`
	Weights map[string]int `json:"weights"`
}

type topCheck struct {
	store.CheckCount
	Title string `json:"title"`
}

type driftSummary struct {
	Since  time.Time      `json:"since"`
	Counts map[string]int `json:"counts"`
}

func (r *handlers) GetSummary(c echo.Context, params apigen.GetSummaryParams) error {
	days := int(val(params.Days, 30)) // 30 or 90: an enum of the document
	now := time.Now().UTC()
	out := summaryResponse{Counts: summaryCounts{BySeverity: map[string]map[string]int{}, ByState: map[string]int{},
		ByStatus: map[string]int{}, ByProvider: map[string]map[string]int{}, ByAccount: map[string]map[string]int{}},
		Score: postureScore{Weights: store.SeverityWeights}, TopFailingChecks: []topCheck{}}
	err := r.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		rows, err := store.FindingCountRows(ctx, tx)
		if err != nil {
			return err
		}
		add := func(m map[string]map[string]int, k, state string, n int) {
			if m[k] == nil {
				m[k] = map[string]int{}
			}
			m[k][state] += n
		}
		cnt := &out.Counts
		for _, row := range rows {
			cnt.Total += row.Count
			add(cnt.BySeverity, row.Severity, row.State, row.Count)
			add(cnt.ByProvider, row.Provider, row.State, row.Count)
			add(cnt.ByAccount, row.AccountID.String(), row.State, row.Count)
			cnt.ByState[row.State] += row.Count
			cnt.ByStatus[row.Status] += row.Count
			if !row.Live {
				continue
			}
			w := store.SeverityWeights[row.Severity] * row.Count
			switch {
			case row.State == store.StateMuted || row.Status == store.StatusPass:
				out.Score.Passed += w
			case row.State == store.StateOpen && row.Status == store.StatusFail:
				out.Score.Failed += w
			}
		}
		if total := out.Score.Passed + out.Score.Failed; total > 0 {
			v := math.Round(1000*float64(out.Score.Passed)/float64(total)) / 10
			out.Score.Value = &v
		}
		if out.Trend, err = store.PostureTrend(ctx, tx, now, days); err != nil {
			return err
		}
		_, byID, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		top, err := store.TopFailingChecks(ctx, tx, 10)
		if err != nil {
			return err
		}
		for _, t := range top {
			out.TopFailingChecks = append(out.TopFailingChecks, topCheck{CheckCount: t, Title: title(byID, t.CheckID)})
		}
		page, err := store.FindingList(ctx, tx, store.FindingFilter{Severities: []string{"critical"}, States: []string{store.StateOpen}},
			store.FindingSort{Field: "first_seen", Desc: true}, nil, 10)
		if err != nil {
			return err
		}
		out.NewestCritical = withTitles(page.Items, byID)
		out.Drift.Since = now.AddDate(0, 0, -7)
		out.Drift.Counts, err = store.DriftCounts(ctx, tx, out.Drift.Since)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
