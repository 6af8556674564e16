package api

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/store"
)

// Control statuses. A control is
//   - manual when an auditor decides it (its checks are supporting evidence);
//   - fail when any of its checks has an open failing finding;
//   - unknown when none fails but a result could not be decided (a collection gap),
//     or when nothing was evaluated at all;
//   - pass when its checks have results and every failure is muted (an accepted risk
//     counts as passing: the mute rule carries the justification an auditor reads).
const (
	controlPass    = "pass"
	controlFail    = "fail"
	controlManual  = "manual"
	controlUnknown = "unknown"
)

// tally counts findings of one or more checks.
type tally struct {
	Failing int `json:"failing"`
	Muted   int `json:"muted"`
	Passing int `json:"passing"`
	Unknown int `json:"unknown"`
}

func (t *tally) add(o tally) {
	t.Failing += o.Failing
	t.Muted += o.Muted
	t.Passing += o.Passing
	t.Unknown += o.Unknown
}

// controlCounts counts controls by status.
type controlCounts struct {
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Manual  int `json:"manual"`
	Unknown int `json:"unknown"`
}

func (cc *controlCounts) add(status string) {
	switch status {
	case controlPass:
		cc.Pass++
	case controlFail:
		cc.Fail++
	case controlManual:
		cc.Manual++
	default:
		cc.Unknown++
	}
}

// posture holds the tenant's check tallies, overall and per account.
type posture struct {
	total     map[string]tally
	byAccount map[uuid.UUID]map[string]tally
	// controlChecks: framework id -> control id -> check ids (the control's list plus
	// checks whose compliance mapping names the control).
	controlChecks map[string]map[string][]string
}

func (r *handlers) loadPosture(c echo.Context, tx pgx.Tx, entries []catalogEntry) (*posture, error) {
	rows, err := store.CheckPostureRows(c.Request().Context(), tx)
	if err != nil {
		return nil, err
	}
	p := &posture{total: map[string]tally{}, byAccount: map[uuid.UUID]map[string]tally{}, controlChecks: map[string]map[string][]string{}}
	for _, row := range rows {
		t := tally{Failing: row.Failing, Muted: row.Muted, Passing: row.Passing, Unknown: row.Unknown}
		tt := p.total[row.CheckID]
		tt.add(t)
		p.total[row.CheckID] = tt
		if p.byAccount[row.AccountID] == nil {
			p.byAccount[row.AccountID] = map[string]tally{}
		}
		at := p.byAccount[row.AccountID][row.CheckID]
		at.add(t)
		p.byAccount[row.AccountID][row.CheckID] = at
	}
	for _, fw := range r.cfg.Checks.Frameworks() {
		m := map[string][]string{}
		for _, ctl := range fw.Controls {
			m[ctl.ID] = append([]string{}, ctl.Checks...)
		}
		p.controlChecks[fw.ID] = m
	}
	for _, e := range entries {
		for fwID, ctls := range e.Compliance {
			m, ok := p.controlChecks[fwID]
			if !ok {
				continue
			}
			for _, ctl := range ctls {
				if ids, ok := m[ctl]; ok && !containsString(ids, e.ID) {
					m[ctl] = append(ids, e.ID)
				}
			}
		}
	}
	return p, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// control decides a control's status from the tallies of its checks.
func (p *posture) control(fwID string, ctl *checks.Control, tallies map[string]tally) (string, tally) {
	var t tally
	for _, id := range p.controlChecks[fwID][ctl.ID] {
		t.add(tallies[id])
	}
	switch {
	case ctl.Manual:
		return controlManual, t
	case t.Failing > 0:
		return controlFail, t
	case t.Unknown > 0:
		return controlUnknown, t
	case t.Passing+t.Muted > 0:
		return controlPass, t
	}
	return controlUnknown, t
}

func (p *posture) framework(fw *checks.Framework, tallies map[string]tally) controlCounts {
	var cc controlCounts
	for i := range fw.Controls {
		st, _ := p.control(fw.ID, &fw.Controls[i], tallies)
		cc.add(st)
	}
	return cc
}

// tallies returns the tallies overall or of one account.
func (p *posture) tallies(account *uuid.UUID) map[string]tally {
	if account == nil {
		return p.total
	}
	return p.byAccount[*account] // nil map: nothing evaluated in that account
}

type frameworkSummary struct {
	ID          string                   `json:"id"`
	Name        string                   `json:"name"`
	Version     string                   `json:"version"`
	Provider    string                   `json:"provider"`
	Description string                   `json:"description,omitempty"`
	Controls    int                      `json:"controls"`
	Posture     controlCounts            `json:"posture"`
	ByAccount   map[string]controlCounts `json:"by_account,omitempty"`
}

func summarize(fw *checks.Framework) frameworkSummary {
	return frameworkSummary{ID: fw.ID, Name: fw.Name, Version: fw.Version, Provider: fw.Provider, Description: fw.Description,
		Controls: len(fw.Controls)}
}

func (r *handlers) ListFrameworks(c echo.Context) error {
	out := []frameworkSummary{}
	err := r.tx(c, func(tx pgx.Tx) error {
		entries, _, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		p, err := r.loadPosture(c, tx, entries)
		if err != nil {
			return err
		}
		for _, fw := range r.cfg.Checks.Frameworks() {
			s := summarize(fw)
			s.Posture = p.framework(fw, p.total)
			s.ByAccount = map[string]controlCounts{}
			for acct, tallies := range p.byAccount {
				s.ByAccount[acct.String()] = p.framework(fw, tallies)
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[frameworkSummary]{Items: out})
}

type controlPosture struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Section    string   `json:"section,omitempty"`
	Subsection string   `json:"subsection,omitempty"`
	Level      int      `json:"level,omitempty"`
	Manual     bool     `json:"manual"`
	Status     string   `json:"status"`
	Checks     []string `json:"checks"`
	Findings   tally    `json:"findings"`
}

type frameworkDetail struct {
	frameworkSummary
	AccountID *uuid.UUID       `json:"account_id"`
	Items     []controlPosture `json:"controls_posture"`
}

// complianceScope reads the optional account_id of the framework and control pages.
func (r *handlers) GetFramework(c echo.Context, frameworkID string, params apigen.GetFrameworkParams) error {
	acct := params.AccountID
	fw, ok := r.cfg.Checks.Framework(frameworkID)
	if !ok {
		return notFound("no such framework")
	}
	out := frameworkDetail{frameworkSummary: summarize(fw), AccountID: acct, Items: []controlPosture{}}
	err := r.tx(c, func(tx pgx.Tx) error {
		entries, _, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		p, err := r.loadPosture(c, tx, entries)
		if err != nil {
			return err
		}
		tallies := p.tallies(acct)
		for i := range fw.Controls {
			ctl := &fw.Controls[i]
			st, t := p.control(fw.ID, ctl, tallies)
			out.Posture.add(st)
			out.Items = append(out.Items, controlPosture{ID: ctl.ID, Title: ctl.Title, Section: ctl.Section, Subsection: ctl.Subsection,
				Level: ctl.Level, Manual: ctl.Manual, Status: st, Checks: orEmpty(p.controlChecks[fw.ID][ctl.ID]), Findings: t})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

type controlCheck struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Kind     string `json:"kind"`
	Findings tally  `json:"findings"`
}

type controlDetail struct {
	controlPosture
	FrameworkID string         `json:"framework_id"`
	AccountID   *uuid.UUID     `json:"account_id"`
	CheckList   []controlCheck `json:"check_details"`
	// Failing lists open failing findings of the control's checks, most severe first
	// (at most 100).
	Failing []store.FindingItem `json:"failing"`
}

func (r *handlers) GetControl(c echo.Context, frameworkID, controlID string, params apigen.GetControlParams) error {
	acct := params.AccountID
	fw, ok := r.cfg.Checks.Framework(frameworkID)
	if !ok {
		return notFound("no such framework")
	}
	ctl := fw.Control(controlID)
	if ctl == nil {
		return notFound("no such control")
	}
	out := controlDetail{FrameworkID: fw.ID, AccountID: acct, CheckList: []controlCheck{}}
	err := r.tx(c, func(tx pgx.Tx) error {
		entries, byID, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		p, err := r.loadPosture(c, tx, entries)
		if err != nil {
			return err
		}
		tallies := p.tallies(acct)
		st, t := p.control(fw.ID, ctl, tallies)
		ids := orEmpty(p.controlChecks[fw.ID][ctl.ID])
		out.controlPosture = controlPosture{ID: ctl.ID, Title: ctl.Title, Section: ctl.Section, Subsection: ctl.Subsection,
			Level: ctl.Level, Manual: ctl.Manual, Status: st, Checks: ids, Findings: t}
		for _, id := range ids {
			cc := controlCheck{ID: id, Findings: tallies[id]}
			if e, ok := byID[id]; ok {
				cc.Title, cc.Severity, cc.Kind = e.Title, e.Severity, e.Kind
			}
			out.CheckList = append(out.CheckList, cc)
		}
		page, err := store.FindingList(c.Request().Context(), tx, store.FindingFilter{CheckIn: ids, AccountID: acct,
			States: []string{store.StateOpen}, Statuses: []string{store.StatusFail}}, store.FindingSort{Field: "severity", Desc: true}, nil, 100)
		if err != nil {
			return err
		}
		out.Failing = withTitles(page.Items, byID)
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
