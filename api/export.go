package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/report"
	"github.com/vigilsec/vigil/store"
)

// exportFlushEvery is how many rows are written between flushes to the client.
const exportFlushEvery = 500

// exportFindings streams every finding matching the explorer's filters as CSV, a JSON
// array, or a JSON array of OCSF 1.1.0 Compliance Findings. Rows go from the database
// cursor to the client as they come, flushed every few hundred rows: the export of a
// whole estate never sits in memory. An error after the first bytes cannot change the
// status any more: the body is then cut short (invalid JSON / a partial CSV) and the
// error logged.
func (r *handlers) ExportFindings(c echo.Context, params apigen.ExportFindingsParams) error {
	p, err := parseFindingParams(findingFilterParams{params.Severity, params.Status, params.State, params.CheckID,
		params.Provider, params.AccountID, params.Region, params.ResourceType, params.Framework, params.Control,
		params.FirstSeenSince, params.ResolvedSince, params.Q})
	if err != nil {
		return err
	}
	p.parseSort(string(val(params.Sort, "")))
	format := string(params.Format)
	return r.tx(c, func(tx pgx.Tx) error {
		entries, byID, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		if err := p.resolve(r, entries); err != nil {
			return err
		}
		w := c.Response()
		ext, ctype := format, echo.MIMEApplicationJSON
		if format == "csv" {
			ctype = "text/csv; charset=utf-8"
		} else if format == "ocsf" {
			ext = "ocsf.json"
		}
		w.Header().Set(echo.HeaderContentType, ctype)
		w.Header().Set(echo.HeaderContentDisposition, `attachment; filename="findings-`+time.Now().UTC().Format("20060102T150405Z")+`.`+ext+`"`)
		w.Header().Set("Cache-Control", "no-store")
		bw := bufio.NewWriterSize(w, 32<<10)
		n := 0
		var cw *csv.Writer // buffers on its own: flushed into bw first
		flush := func() error {
			if cw != nil {
				cw.Flush()
				if err := cw.Error(); err != nil {
					return err
				}
			}
			if err := bw.Flush(); err != nil {
				return err
			}
			w.Flush()
			return nil
		}
		var each func(*store.FindingExportRow) error
		var finish func() error
		switch format {
		case "csv":
			cw = csv.NewWriter(bw)
			if err := cw.Write([]string{"id", "check_id", "title", "severity", "status", "state", "provider", "account_id", "region",
				"resource_type", "resource_id", "resource_native_id", "resource_name", "message", "reason", "first_seen", "last_seen",
				"resolved_at", "times_reopened"}); err != nil {
				return err
			}
			each = func(f *store.FindingExportRow) error {
				resolved := ""
				if f.ResolvedAt != nil {
					resolved = f.ResolvedAt.UTC().Format(time.RFC3339)
				}
				return cw.Write([]string{f.ID.String(), f.CheckID, cell(title(byID, f.CheckID)), f.Severity, f.Status, f.State, f.Provider,
					f.Resource.AccountID.String(), f.Resource.Region, f.Resource.Type, f.Resource.ID.String(), cell(f.Resource.NativeID),
					cell(f.Resource.Name), cell(f.Message), cell(f.Reason), f.FirstSeen.UTC().Format(time.RFC3339),
					f.LastSeen.UTC().Format(time.RFC3339), resolved, strconv.Itoa(f.TimesReopened)})
			}
			finish = func() error { return nil }
		default:
			if _, err := bw.WriteString("["); err != nil {
				return err
			}
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			each = func(f *store.FindingExportRow) error {
				if n > 0 {
					if _, err := bw.WriteString(","); err != nil {
						return err
					}
				}
				f.Title = title(byID, f.CheckID)
				if format == "ocsf" {
					return enc.Encode(ocsfOf(f, byID[f.CheckID]))
				}
				if f.Evidence == nil {
					f.Evidence = map[string]any{}
				}
				return enc.Encode(f)
			}
			finish = func() error { _, err := bw.WriteString("]\n"); return err }
		}
		w.WriteHeader(http.StatusOK)
		err = store.FindingEach(c.Request().Context(), tx, p.f, p.sort, func(f *store.FindingExportRow) error {
			if err := each(f); err != nil {
				return err
			}
			n++
			if n%exportFlushEvery == 0 {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = finish()
		}
		if err == nil {
			err = flush()
		}
		if err != nil {
			// The status is sent; all we can do is stop and say so in the log.
			r.logger.ErrorContext(c.Request().Context(), "findings export cut short", "rows", n, "error", err.Error(),
				"request_id", w.Header().Get(echo.HeaderXRequestID))
		}
		return nil
	})
}

func title(byID map[string]*catalogEntry, checkID string) string {
	if e, ok := byID[checkID]; ok {
		return e.Title
	}
	return ""
}

// cell defuses spreadsheet formula injection: resource names and messages come from
// whoever controls the cloud account.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ocsfFinding is one OCSF 1.1.0 Compliance Finding (class 2003) of the export.
type ocsfFinding struct {
	ActivityID   int            `json:"activity_id"`
	CategoryUID  int            `json:"category_uid"`
	ClassUID     int            `json:"class_uid"`
	ClassName    string         `json:"class_name"`
	TypeUID      int            `json:"type_uid"`
	SeverityID   int            `json:"severity_id"`
	Severity     string         `json:"severity"`
	StatusID     int            `json:"status_id"`
	Status       string         `json:"status"`
	StatusCode   string         `json:"status_code"`
	Message      string         `json:"message"`
	Time         int64          `json:"time"`
	Compliance   map[string]any `json:"compliance"`
	FindingInfo  map[string]any `json:"finding_info"`
	Resources    []any          `json:"resources"`
	Cloud        map[string]any `json:"cloud"`
	Remediation  map[string]any `json:"remediation,omitempty"`
	Metadata     map[string]any `json:"metadata"`
	Unmapped     map[string]any `json:"unmapped,omitempty"`
	StatusDetail string         `json:"status_detail,omitempty"`
}

// ocsfOf maps a stored finding to OCSF. The workflow status follows the finding's
// state (open: New, muted: Suppressed, resolved: Resolved); the compliance status its
// last result.
func ocsfOf(f *store.FindingExportRow, e *catalogEntry) ocsfFinding {
	sevID, sev := report.OCSFSeverity(checks.Severity(f.Severity))
	statusID, status := 1, "New"
	switch f.State {
	case store.StateMuted:
		statusID, status = 3, "Suppressed"
	case store.StateResolved:
		statusID, status = 4, "Resolved"
	}
	cID, cStatus := 0, "Unknown"
	switch f.Status {
	case store.StatusPass:
		cID, cStatus = 1, "Pass"
	case store.StatusFail:
		cID, cStatus = 3, "Fail"
	}
	detail := f.Message
	if f.Status == store.StatusUnknown && f.Reason != "" {
		detail = f.Reason
	}
	o := ocsfFinding{ActivityID: 1, CategoryUID: 2, ClassUID: 2003, ClassName: "Compliance Finding", TypeUID: 200301,
		SeverityID: sevID, Severity: sev, StatusID: statusID, Status: status, StatusCode: strings.ToUpper(f.Status),
		Message: f.Message, Time: f.LastSeen.UnixMilli(), StatusDetail: detail,
		Compliance: map[string]any{"control": f.CheckID, "standards": []string{}, "status": cStatus, "status_id": cID},
		FindingInfo: map[string]any{"uid": f.ID.String(), "title": f.Title, "types": []string{f.CheckID},
			"first_seen_time": f.FirstSeen.UnixMilli(), "last_seen_time": f.LastSeen.UnixMilli()},
		Resources: []any{map[string]any{"uid": f.Resource.NativeID, "type": f.Resource.Type, "region": f.Resource.Region, "name": f.Resource.Name}},
		Cloud:     map[string]any{"provider": map[string]string{"aws": "AWS", "azure": "Azure", "gcp": "GCP"}[f.Provider], "region": f.Resource.Region},
		Metadata:  map[string]any{"product": map[string]any{"name": "Vigil", "vendor_name": "Vigil"}, "version": report.OCSFVersion},
	}
	if len(f.Evidence) > 0 {
		o.Unmapped = map[string]any{"evidence": f.Evidence}
	}
	if e != nil {
		standards := []string{}
		var reqs []string
		for _, fw := range slices.Sorted(maps.Keys(e.Compliance)) {
			standards = append(standards, fw)
			for _, ctl := range e.Compliance[fw] {
				reqs = append(reqs, fw+":"+ctl)
			}
		}
		o.Compliance["standards"] = standards
		if len(reqs) > 0 {
			o.Compliance["requirements"] = reqs
		}
		d := e.detail()
		if d.Description != "" {
			o.FindingInfo["desc"] = strings.TrimSpace(d.Description)
		}
		if d.Remediation.Text != "" {
			o.Remediation = map[string]any{"desc": d.Remediation.Text, "references": d.References}
		}
	}
	return o
}
