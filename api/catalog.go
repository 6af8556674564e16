package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/iamgraph"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// Kinds of catalog entries.
const (
	kindCheck    = "check"    // a built-in YAML check
	kindAnalyzer = "analyzer" // a whole-estate analysis in Go (IAM graph)
	kindCustom   = "custom"   // a tenant-authored check
)

// catalogEntry is one check of the catalog, whatever its kind.
type catalogEntry struct {
	ID            string              `json:"id"`
	Kind          string              `json:"kind"`
	Title         string              `json:"title"`
	Severity      string              `json:"severity"`
	Provider      string              `json:"provider"`
	Service       string              `json:"service"`
	ResourceTypes []string            `json:"resource_types"`
	Compliance    map[string][]string `json:"compliance"`
	CustomCheckID *uuid.UUID          `json:"custom_check_id,omitempty"`

	check *checks.Check // YAML checks (built-in and custom)
	an    *iamgraph.Analyzer
}

// checkDetail is an entry with everything a reader needs to act on it.
type checkDetail struct {
	catalogEntry
	Description string             `json:"description"`
	Risk        string             `json:"risk"`
	Remediation checks.Remediation `json:"remediation"`
	References  []string           `json:"references"`
	When        string             `json:"when,omitempty"`
	Assert      string             `json:"assert,omitempty"`
	Message     string             `json:"message,omitempty"`
}

func (e *catalogEntry) detail() checkDetail {
	d := checkDetail{catalogEntry: *e, References: []string{}}
	switch {
	case e.check != nil:
		c := e.check
		d.Description, d.Risk, d.Remediation = c.Description, c.Risk, c.Remediation
		d.When, d.Assert, d.Message = c.When, c.Assert, c.Message
		if c.References != nil {
			d.References = c.References
		}
	case e.an != nil:
		d.Description, d.Risk, d.Remediation = e.an.Description, e.an.Risk, checks.Remediation{Text: e.an.Remediation}
		if e.an.References != nil {
			d.References = e.an.References
		}
	}
	return d
}

// catalog is the built-in part of the checks catalog, built once when the routes are.
type catalog struct {
	entries []catalogEntry
	byID    map[string]*catalogEntry
	reg     *checks.Registry
}

func newCatalog(reg *checks.Registry) *catalog {
	c := &catalog{byID: map[string]*catalogEntry{}, reg: reg}
	for _, ch := range reg.Checks() {
		c.entries = append(c.entries, yamlEntry(ch.ID, kindCheck, ch))
	}
	for _, an := range iamgraph.Analyzers() {
		provider, service := splitCheckID(an.ID)
		c.entries = append(c.entries, catalogEntry{ID: an.ID, Kind: kindAnalyzer, Title: an.Title, Severity: an.Severity,
			Provider: provider, Service: service, ResourceTypes: an.ResourceTypes, Compliance: orEmptyMap(an.Compliance), an: &an})
	}
	slices.SortFunc(c.entries, func(a, b catalogEntry) int { return strings.Compare(a.ID, b.ID) })
	for i := range c.entries {
		e := &c.entries[i]
		if _, dup := c.byID[e.ID]; dup {
			// Analyzer and check ids share one namespace; a clash is a programming error.
			panic("check id " + e.ID + " is both a YAML check and an analyzer")
		}
		c.byID[e.ID] = e
	}
	return c
}

func yamlEntry(id, kind string, ch *checks.Check) catalogEntry {
	provider, service := splitCheckID(id)
	return catalogEntry{ID: id, Kind: kind, Title: ch.Title, Severity: string(ch.Severity), Provider: provider, Service: service,
		ResourceTypes: []string{ch.Resource}, Compliance: orEmptyMap(ch.Compliance), check: ch}
}

// splitCheckID returns the cloud and service of "<cloud>.<service>.<name>" (custom
// checks: "custom.<cloud>.<service>.<name>").
func splitCheckID(id string) (provider, service string) {
	parts := strings.Split(strings.TrimPrefix(id, store.CustomCheckPrefix), ".")
	if len(parts) < 3 {
		return "", ""
	}
	return parts[0], parts[1]
}

func orEmptyMap(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

// customEntry is the catalog entry of a stored custom check. The YAML was validated
// when stored; it is decoded (not compiled) for its metadata.
func customEntry(cc store.CustomCheck) catalogEntry {
	var ch checks.Check
	_ = yaml.Unmarshal([]byte(cc.YAML), &ch) // validated on write; a decode error leaves metadata empty
	ch.ID, ch.Title, ch.Severity, ch.Resource = cc.CheckID, cc.Title, checks.Severity(cc.Severity), cc.ResourceType
	e := yamlEntry(cc.CheckID, kindCustom, &ch)
	id := cc.ID
	e.CustomCheckID = &id
	return e
}

// tenantCatalog is the built-in catalog plus the tenant's custom checks.
func (r *handlers) tenantCatalog(c echo.Context, tx pgx.Tx) ([]catalogEntry, map[string]*catalogEntry, error) {
	custom, err := store.CustomCheckList(c.Request().Context(), tx)
	if err != nil {
		return nil, nil, err
	}
	if len(custom) == 0 {
		return r.cat.entries, r.cat.byID, nil
	}
	all := slices.Clone(r.cat.entries)
	for _, cc := range custom {
		all = append(all, customEntry(cc))
	}
	slices.SortFunc(all, func(a, b catalogEntry) int { return strings.Compare(a.ID, b.ID) })
	byID := make(map[string]*catalogEntry, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	return all, byID, nil
}

// frameworkChecks returns the check ids of a framework (or of one of its controls):
// those its controls list and those whose compliance mapping names it. ok is false
// when the framework or control does not exist.
func frameworkChecks(entries []catalogEntry, reg *checks.Registry, fwID, controlID string) ([]string, bool) {
	fw, ok := reg.Framework(fwID)
	if !ok {
		return nil, false
	}
	set := map[string]bool{}
	if controlID != "" {
		ctl := fw.Control(controlID)
		if ctl == nil {
			return nil, false
		}
		for _, id := range ctl.Checks {
			set[id] = true
		}
	} else {
		for _, ctl := range fw.Controls {
			for _, id := range ctl.Checks {
				set[id] = true
			}
		}
	}
	for _, e := range entries {
		for _, ctl := range e.Compliance[fwID] {
			if controlID == "" || ctl == controlID {
				set[e.ID] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, true
}

func (r *handlers) ListChecks(c echo.Context, params apigen.ListChecksParams) error {
	provider, service, kind := val(params.Provider, ""), val(params.Service, ""), string(val(params.Kind, ""))
	severities := commaList(params.Severity)
	text := strings.ToLower(val(params.Q, ""))
	fw := val(params.Framework, "")
	var out []catalogEntry
	err := r.tx(c, func(tx pgx.Tx) error {
		entries, _, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		var inFramework map[string]bool
		if fw != "" {
			ids, ok := frameworkChecks(entries, r.cfg.Checks, fw, "")
			if !ok {
				return badQuery("framework", "names no framework; see GET /api/v1/compliance/frameworks")
			}
			inFramework = map[string]bool{}
			for _, id := range ids {
				inFramework[id] = true
			}
		}
		for _, e := range entries {
			switch {
			case provider != "" && e.Provider != provider,
				service != "" && e.Service != service,
				kind != "" && e.Kind != kind,
				len(severities) > 0 && !slices.Contains(severities, e.Severity),
				inFramework != nil && !inFramework[e.ID],
				text != "" && !strings.Contains(strings.ToLower(e.ID+" "+e.Title), text):
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[catalogEntry]{Items: orEmpty(out)})
}

func (r *handlers) GetCheck(c echo.Context, id string) error {
	var out checkDetail
	err := r.tx(c, func(tx pgx.Tx) error {
		if e, ok := r.cat.byID[id]; ok {
			out = e.detail()
			return nil
		}
		if !strings.HasPrefix(id, store.CustomCheckPrefix) {
			return store.ErrNotFound
		}
		cc, err := store.CustomCheckByCheckID(c.Request().Context(), tx, id)
		if err != nil {
			return err
		}
		e := customEntry(cc)
		out = e.detail()
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// badQuery is a 422 about one query parameter.
func badQuery(field, msg string) error { return invalidField("query", field, msg) }

// invalidField is a 422 naming one invalid input.
func invalidField(location, field, msg string) error {
	var v validator
	v.add(location, field, msg)
	return v.problem()
}

// checkProblem is one problem of a check file: Field is the path inside the check
// ("assert", "tests[0].expect"), Line the line in the YAML text, and for expression
// errors ExprLine and Column the position inside the CEL expression.
type checkProblem struct {
	Location string `json:"location"`
	Field    string `json:"field"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	ExprLine int    `json:"expr_line,omitempty"`
	Message  string `json:"message"`
}

// checkProblems answers 422 with every problem of the YAML, in problem+json.
func checkProblems(c echo.Context, ps []checks.Problem) error {
	body := struct {
		*Problem
		Errors []checkProblem `json:"errors"`
	}{Problem: NewProblem(http.StatusUnprocessableEntity, CodeValidation, "the check is not valid; see errors")}
	body.Instance = c.Request().URL.Path
	for _, p := range ps {
		body.Errors = append(body.Errors, checkProblem{Location: "yaml", Field: p.Field, Line: p.Line, Column: p.ExprColumn,
			ExprLine: p.ExprLine, Message: p.Message})
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	return c.JSON(http.StatusUnprocessableEntity, body)
}

// parseCustomCheck binds and validates a custom check body. A nil check with a nil
// error means the 422 was already written.
func (r *handlers) parseCustomCheck(c echo.Context) (*checks.Check, string, error) {
	var req apigen.CustomCheckRequest
	if err := bindJSON(c, &req); err != nil {
		return nil, "", err
	}
	var v validator
	v.text("yaml", req.YAML, true, 65536)
	if err := v.problem(); err != nil {
		return nil, "", err
	}
	ch, ps := store.CustomCheckParse(c.Request().Context(), r.compiler, []byte(req.YAML))
	if len(ps) > 0 {
		return nil, "", checkProblems(c, ps)
	}
	return ch, req.YAML, nil
}

func customRow(ch *checks.Check, src string) store.CustomCheck {
	return store.CustomCheck{CheckID: store.CustomCheckPrefix + ch.ID, Title: ch.Title, Severity: string(ch.Severity),
		ResourceType: ch.Resource, YAML: src}
}

func (r *handlers) ListCustomChecks(c echo.Context) error {
	var out []store.CustomCheck
	err := r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.CustomCheckList(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.CustomCheck]{Items: orEmpty(out)})
}

func (r *handlers) GetCustomCheck(c echo.Context, id uuid.UUID) error {
	var out store.CustomCheck
	err := r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.CustomCheckGet(c.Request().Context(), tx, id)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func conflictCheckID(checkID string) error {
	return NewProblem(http.StatusConflict, CodeConflict, "a custom check with id "+checkID+" exists; change the id or update that check")
}

func (r *handlers) CreateCustomCheck(c echo.Context) error {
	ch, src, err := r.parseCustomCheck(c)
	if ch == nil {
		return err
	}
	p := principalOf(c)
	row := customRow(ch, src)
	row.CreatedBy = p.Kind + ":" + p.ActorID()
	var out store.CustomCheck
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.CustomCheckCreate(c.Request().Context(), tx, row)
		if errors.Is(err, store.ErrConflict) {
			return conflictCheckID(row.CheckID)
		}
		if err != nil {
			return err
		}
		return r.audit(c, tx, "custom_check.created", "custom_check", out.ID.String(), map[string]any{"check_id": out.CheckID})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (r *handlers) UpdateCustomCheck(c echo.Context, id uuid.UUID) error {
	var err error
	ch, src, err := r.parseCustomCheck(c)
	if ch == nil {
		return err
	}
	row := customRow(ch, src)
	row.ID = id
	var out store.CustomCheck
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.CustomCheckUpdate(c.Request().Context(), tx, row)
		if errors.Is(err, store.ErrConflict) {
			return conflictCheckID(row.CheckID)
		}
		if err != nil {
			return err
		}
		return r.audit(c, tx, "custom_check.updated", "custom_check", out.ID.String(), map[string]any{"check_id": out.CheckID})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (r *handlers) DeleteCustomCheck(c echo.Context, id uuid.UUID) error {
	err := r.tx(c, func(tx pgx.Tx) error {
		cc, err := store.CustomCheckDelete(c.Request().Context(), tx, id)
		if err != nil {
			return err
		}
		return r.audit(c, tx, "custom_check.deleted", "custom_check", id.String(), map[string]any{"check_id": cc.CheckID})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Dry-run bounds.
const (
	dryRunMaxResources = 10_000
	dryRunMaxResults   = 100
)

type dryRunResult struct {
	ResourceID uuid.UUID      `json:"resource_id"`
	NativeID   string         `json:"native_id"`
	Name       string         `json:"name"`
	Region     string         `json:"region"`
	Status     string         `json:"status"`
	Message    string         `json:"message,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Evidence   map[string]any `json:"evidence,omitempty"`
}

type dryRunResponse struct {
	CheckID      string         `json:"check_id"`
	ResourceType string         `json:"resource_type"`
	Evaluated    int            `json:"evaluated"`
	Counts       map[string]int `json:"counts"` // pass, fail, unknown, skip (does not apply)
	// Truncated says the tenant has more resources of the type than were evaluated.
	Truncated bool           `json:"truncated"`
	Results   []dryRunResult `json:"results"` // the first results that are not skip
}

// dryRunCustomCheck compiles a draft and evaluates it over the tenant's current
// resources of its type (at most 10,000), without storing anything.
func (r *handlers) DryRunCustomCheck(c echo.Context) error {
	ch, _, err := r.parseCustomCheck(c)
	if ch == nil {
		return err
	}
	out := dryRunResponse{CheckID: store.CustomCheckPrefix + ch.ID, ResourceType: ch.Resource,
		Counts: map[string]int{"pass": 0, "fail": 0, "unknown": 0, "skip": 0}, Results: []dryRunResult{}}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	err = r.tx(c, func(tx pgx.Tx) error {
		set, err := store.ResourceDocs(ctx, tx, ch.Resource, dryRunMaxResources)
		if err != nil {
			return err
		}
		out.Truncated = set.Truncated
		now := time.Now()
		for i := range set.Docs {
			d := &set.Docs[i]
			doc := checks.Document{Resource: d.Doc, Account: set.Accounts[set.AccountOf[i]], Now: now}
			for _, rel := range d.Doc.Relations {
				if t, ok := set.Related[rel.TargetID]; ok {
					if doc.Related == nil {
						doc.Related = map[string][]providers.Resource{}
					}
					doc.Related[rel.Kind] = append(doc.Related[rel.Kind], t)
				}
			}
			res := ch.Evaluate(ctx, doc)
			if ctx.Err() != nil {
				return invalidField("body", "yaml", "the dry run took longer than 30 seconds; simplify the check")
			}
			out.Evaluated++
			out.Counts[string(res.Status)]++
			if res.Status != checks.StatusSkip && len(out.Results) < dryRunMaxResults {
				out.Results = append(out.Results, dryRunResult{ResourceID: d.ID, NativeID: d.Doc.NativeID, Name: d.Doc.Name,
					Region: d.Doc.Region, Status: string(res.Status), Message: res.Message, Reason: res.Reason, Evidence: res.Evidence.Map()})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
