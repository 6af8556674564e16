package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
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

// findingFilterParams are the filters shared by the list, the facets and the export
// (the generated parameter structs of the three operations, without their extras).
type findingFilterParams struct {
	Severity, Status, State, CheckID         *string
	Provider                                 *apigen.Provider
	AccountID                                *uuid.UUID
	Region, ResourceType, Framework, Control *string
	FirstSeenSince, ResolvedSince            *time.Time
	Q                                        *string
}

// parseFindingParams reads the explorer's filters; the document has checked each value.
func parseFindingParams(in findingFilterParams) (*findingParams, error) {
	p := &findingParams{}
	f := &p.f
	f.Severities = commaList(in.Severity)
	f.Statuses = commaList(in.Status)
	switch val(in.State, "") {
	case "":
		f.States = []string{store.StateOpen}
	case "all":
	default:
		f.States = commaList(in.State)
	}
	f.CheckID = val(in.CheckID, "")
	f.Provider = string(val(in.Provider, ""))
	f.AccountID = in.AccountID
	f.Region = val(in.Region, "")
	f.ResourceType = val(in.ResourceType, "")
	f.FirstSeenSince, f.ResolvedSince = in.FirstSeenSince, in.ResolvedSince
	f.Q = strings.TrimSpace(val(in.Q, ""))
	p.framework, p.control = val(in.Framework, ""), val(in.Control, "")
	if p.control != "" && p.framework == "" {
		return nil, badQuery("control", "needs framework")
	}
	return p, nil
}

// parseSort reads the sort parameter (an enum of the document; "-" for descending).
func (p *findingParams) parseSort(sort string) {
	if sort == "" {
		sort = "-severity"
	}
	p.sort = store.FindingSort{Field: strings.TrimPrefix(sort, "-"), Desc: strings.HasPrefix(sort, "-")}
}

// resolve turns framework/control and q into check ids through the tenant's catalog.
func (p *findingParams) resolve(r *handlers, entries []catalogEntry) error {
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

func (r *handlers) ListFindings(c echo.Context, params apigen.ListFindingsParams) error {
	p, err := parseFindingParams(findingFilterParams{params.Severity, params.Status, params.State, params.CheckID,
		params.Provider, params.AccountID, params.Region, params.ResourceType, params.Framework, params.Control,
		params.FirstSeenSince, params.ResolvedSince, params.Q})
	if err != nil {
		return err
	}
	p.parseSort(string(val(params.Sort, "")))
	if p.after, err = cursorParam(params.Cursor, p.sort.String()); err != nil {
		return err
	}
	p.limit = val(params.Limit, 50)
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

func (r *handlers) GetFindingFacets(c echo.Context, params apigen.GetFindingFacetsParams) error {
	p, err := parseFindingParams(findingFilterParams(params))
	if err != nil {
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

func (r *handlers) GetFinding(c echo.Context, id uuid.UUID) error {
	var out findingDetail
	err := r.tx(c, func(tx pgx.Tx) error {
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
func (r *handlers) MuteFindings(c echo.Context) error {
	var req apigen.MuteFindingsRequest
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
