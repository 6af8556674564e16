package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

// findingParams are the explorer's parsed query parameters. framework, control and q
// are resolved against the tenant's catalog inside the transaction (resolve).
type findingParams struct {
	f                  store.FindingFilter
	framework, control string
	sort               store.FindingSort
	after              *store.Cursor
	limit              int
}

// findingFilterParams are the filters shared by the list, the facets and the export.
var findingFilterParams = []string{"severity", "status", "state", "check_id", "provider", "account_id", "region", "resource_type",
	"framework", "control", "first_seen_since", "resolved_since", "q"}

// parseFindingParams validates the explorer's parameters; extra names the parameters
// the endpoint accepts on top of the filters.
func parseFindingParams(c echo.Context, extra ...string) (*findingParams, *query, error) {
	q, err := parseQuery(c, append(extra, findingFilterParams...)...)
	if err != nil {
		return nil, nil, err
	}
	p := &findingParams{}
	f := &p.f
	f.Severities = q.enumList("severity", severityValues)
	f.Statuses = q.enumList("status", statusValues)
	switch st := q.get("state"); st {
	case "":
		f.States = []string{store.StateOpen}
	case "all":
	default:
		f.States = q.enumList("state", stateValues)
		if f.States == nil {
			q.v.errs[len(q.v.errs)-1].Message = "each value must be one of open, resolved, muted (or the single value all)"
		}
	}
	f.CheckID = q.text("check_id", 200)
	f.Provider = q.enum("provider", providerValues)
	f.AccountID = q.uuidParam("account_id")
	f.Region = q.text("region", 50)
	f.ResourceType = q.text("resource_type", 100)
	f.FirstSeenSince = q.time("first_seen_since")
	f.ResolvedSince = q.time("resolved_since")
	f.Q = strings.TrimSpace(q.text("q", 200))
	p.framework, p.control = q.text("framework", 100), q.text("control", 100)
	if p.control != "" && p.framework == "" {
		q.v.add("query", "control", "needs framework")
	}
	return p, q, nil
}

// parseSort reads the sort parameter (allow-listed, "-" for descending).
func (p *findingParams) parseSort(q *query) {
	s := q.get("sort")
	if s == "" {
		s = "-severity"
	}
	p.sort = store.FindingSort{Field: strings.TrimPrefix(s, "-"), Desc: strings.HasPrefix(s, "-")}
	ok := false
	for _, f := range store.FindingSortFields {
		ok = ok || f == p.sort.Field
	}
	if !ok {
		q.v.add("query", "sort", "must be one of severity, first_seen, last_seen, check_id, each optionally prefixed with - (descending)")
		return
	}
	p.after = q.cursor(p.sort.String())
}

// resolve turns framework/control and q into check ids through the tenant's catalog.
func (p *findingParams) resolve(r *reader, entries []catalogEntry) error {
	if p.framework != "" {
		ids, ok := frameworkChecks(entries, r.cfg.Checks, p.framework, p.control)
		if !ok {
			if p.control != "" {
				return badQuery("control", "names no control of that framework")
			}
			return badQuery("framework", "names no framework; see GET /api/v1/compliance/frameworks")
		}
		p.f.CheckIn = ids
	}
	if p.f.Q != "" {
		text := strings.ToLower(p.f.Q)
		for _, e := range entries {
			if strings.Contains(strings.ToLower(e.Title), text) || strings.Contains(e.ID, text) {
				p.f.QCheckIDs = append(p.f.QCheckIDs, e.ID)
			}
		}
	}
	return nil
}

// withTitles fills each item's title from the catalog.
func withTitles(items []store.FindingItem, byID map[string]*catalogEntry) []store.FindingItem {
	for i := range items {
		if e, ok := byID[items[i].CheckID]; ok {
			items[i].Title = e.Title
		}
	}
	return orEmpty(items)
}

func (r *reader) listFindings(c echo.Context) error {
	p, q, err := parseFindingParams(c, "sort", "cursor", "limit")
	if err != nil {
		return err
	}
	p.parseSort(q)
	p.limit = q.limit(50, 500)
	if err := q.v.problem(); err != nil {
		return err
	}
	var resp listResponse[store.FindingItem]
	err = r.tx(c, func(tx pgx.Tx) error {
		entries, byID, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		if err := p.resolve(r, entries); err != nil {
			return err
		}
		page, err := store.FindingList(c.Request().Context(), tx, p.f, p.sort, p.after, p.limit)
		if err != nil {
			return storeErr(err)
		}
		resp = listResponse[store.FindingItem]{Items: withTitles(page.Items, byID), NextCursor: page.NextCursor}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

func (r *reader) findingFacets(c echo.Context) error {
	p, q, err := parseFindingParams(c)
	if err != nil {
		return err
	}
	if err := q.v.problem(); err != nil {
		return err
	}
	var out map[string][]store.FacetCount
	err = r.tx(c, func(tx pgx.Tx) error {
		entries, _, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		if err := p.resolve(r, entries); err != nil {
			return err
		}
		out, err = store.FindingFacets(c.Request().Context(), tx, p.f)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// findingDetail is a finding with its check's metadata, the remediation rendered for
// its resource, and its history.
type findingDetail struct {
	store.FindingDetail
	// Check is nil when the check no longer exists (a deleted custom check).
	Check *checkDetail `json:"check"`
}

func (r *reader) getFinding(c echo.Context) error {
	id, err := pathID(c, "finding_id")
	if err != nil {
		return err
	}
	var out findingDetail
	err = r.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		d, err := store.FindingGet(ctx, tx, id)
		if err != nil {
			return err
		}
		out.FindingDetail = d
		_, byID, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		e, ok := byID[d.CheckID]
		if !ok {
			return nil
		}
		out.Title = e.Title
		det := e.detail()
		out.Check = &det
		res, err := store.ResourceGet(ctx, tx, d.Resource.ID)
		if err != nil {
			return err
		}
		// A template that does not fit this resource keeps its placeholders: better
		// than no remediation at all.
		if rendered, err := det.Remediation.Render(res.Document()); err == nil {
			out.Check.Remediation = rendered
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type muteFindingsRequest struct {
	FindingIDs    []uuid.UUID `json:"finding_ids"`
	Justification string      `json:"justification"`
	ExpiresAt     *time.Time  `json:"expires_at"`
}

type muteFindingsResponse struct {
	MuteRuleIDs []uuid.UUID `json:"mute_rule_ids"`
	Muted       int         `json:"muted"`
}

// globEscape quotes a native id for a mute rule's glob pattern (path.Match syntax).
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}

// muteFindings mutes findings by id: one mute rule per finding (exact check id,
// exact resource, its account), applied at once in the same transaction.
func (r *reader) muteFindings(c echo.Context) error {
	var req muteFindingsRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var v validator
	v.text("justification", req.Justification, true, 2000)
	ids := map[uuid.UUID]bool{}
	for _, id := range req.FindingIDs {
		ids[id] = true
	}
	switch {
	case len(req.FindingIDs) == 0:
		v.add("body", "finding_ids", "is required")
	case len(req.FindingIDs) > 1000:
		v.add("body", "finding_ids", "at most 1000 findings at once; use a mute rule with patterns for more")
	case len(ids) != len(req.FindingIDs):
		v.add("body", "finding_ids", "lists a finding twice")
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(time.Now()) {
		v.add("body", "expires_at", "must be in the future")
	}
	if err := v.problem(); err != nil {
		return err
	}
	p := principalOf(c)
	out := muteFindingsResponse{MuteRuleIDs: []uuid.UUID{}}
	err := r.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		targets, err := store.FindingMuteTargets(ctx, tx, req.FindingIDs)
		if err != nil {
			return err
		}
		if len(targets) != len(req.FindingIDs) {
			return notFound("some finding_ids name no finding of yours; nothing was muted")
		}
		for _, t := range targets {
			acct := t.AccountID
			rule, err := store.MuteRuleCreate(ctx, tx, store.MuteRule{CheckPattern: t.CheckID, AccountID: &acct,
				ResourcePattern: globEscape(t.NativeID), Justification: req.Justification, ExpiresAt: req.ExpiresAt,
				CreatedBy: p.Kind + ":" + p.ActorID()})
			if err != nil {
				return err
			}
			out.MuteRuleIDs = append(out.MuteRuleIDs, rule.ID)
		}
		counts, err := store.FindingsRemute(ctx, tx, time.Now())
		if err != nil {
			return err
		}
		out.Muted = counts.Muted
		return r.audit(c, tx, "findings.muted", "finding", "", map[string]any{"findings": len(targets),
			"mute_rule_ids": out.MuteRuleIDs, "justification": req.Justification, "muted": counts.Muted})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}
