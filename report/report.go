// Package report renders check results for people and for other tools: a terminal
// table, JSON, CSV, SARIF 2.1.0 (code-scanning uploads) and OCSF Compliance Findings
// (security data lakes). The command-line scan writes its results through it.
//
// The package renders what it is given and computes nothing about clouds: it imports
// the check engine for check metadata, and no database, queue, HTTP or cloud SDK
// package.
package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vigilsec/vigil/checks"
)

// Format names an output format.
type Format string

// The output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
	FormatSARIF Format = "sarif"
	FormatOCSF  Format = "ocsf"
)

// Formats lists every format, in the order help texts show them.
func Formats() []Format {
	return []Format{FormatTable, FormatJSON, FormatSARIF, FormatOCSF, FormatCSV}
}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(names, ", "))
}

// Finding is one check result on one resource, with the metadata of the check and the
// identity of the resource: everything a format needs, in one flat record.
type Finding struct {
	CheckID  string          `json:"check_id"`
	Title    string          `json:"title"`
	Severity checks.Severity `json:"severity"`
	Status   checks.Status   `json:"status"`
	// Message is the check's human detail (failures, and unknowns when it evaluates).
	Message string `json:"message,omitempty"`
	// Reason explains an unknown result.
	Reason       string `json:"reason,omitempty"`
	Provider     string `json:"provider"`
	AccountID    string `json:"account_id"`
	NativeID     string `json:"native_id"`
	ResourceType string `json:"resource_type"`
	Region       string `json:"region"`
	ResourceName string `json:"resource_name"`
	// Evidence is the values the check read (failures and unknowns).
	Evidence map[string]any `json:"evidence,omitempty"`
}

// UnitFailure is a collection unit that did not complete: nothing may be concluded
// about the resource types it covers in its region.
type UnitFailure struct {
	// Unit is "<collector>@<region>".
	Unit   string   `json:"unit"`
	Region string   `json:"region"`
	Types  []string `json:"types"`
	// Kind classifies the failure (access_denied, throttled, ...), "" when unclassified.
	Kind  string `json:"kind,omitempty"`
	Error string `json:"error"`
}

// Tool names the program that produced the results.
type Tool struct {
	Name    string
	Version string
	// InformationURI is the tool's home page, for SARIF.
	InformationURI string
}

// Run is the input of every format: the results of one scan of one account.
type Run struct {
	Tool Tool
	// Time is when the scan started; the evaluation clock.
	Time time.Time
	// Checks are the checks that were run, for SARIF rules and compliance mappings.
	// Findings of checks missing here are rendered without metadata beyond the
	// finding's own fields.
	Checks []*checks.Check
	// Findings are the results, in any order: formats sort them.
	Findings []Finding
	// Failed lists the units that did not complete.
	Failed []UnitFailure
	// Skipped counts resources not evaluated because a failed unit covers them.
	Skipped int
}

// Summary counts results.
type Summary struct {
	Total   int `json:"total"`
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	// FailBySeverity counts failures per severity; every severity is present.
	FailBySeverity map[checks.Severity]int `json:"fail_by_severity"`
	// UnitsFailed counts units that did not complete.
	UnitsFailed int `json:"units_failed"`
	// ResourcesSkipped counts resources not evaluated because of failed units.
	ResourcesSkipped int `json:"resources_skipped"`
}

// Summary counts the run's results.
func (r *Run) Summary() Summary {
	s := Summary{FailBySeverity: map[checks.Severity]int{}, UnitsFailed: len(r.Failed), ResourcesSkipped: r.Skipped}
	for _, sev := range severities {
		s.FailBySeverity[sev] = 0
	}
	for _, f := range r.Findings {
		s.Total++
		switch f.Status {
		case checks.StatusPass:
			s.Pass++
		case checks.StatusFail:
			s.Fail++
			s.FailBySeverity[f.Severity]++
		case checks.StatusUnknown:
			s.Unknown++
		}
	}
	return s
}

// FailsAtOrAbove counts failures whose severity ranks at least min.
func (r *Run) FailsAtOrAbove(minimum checks.Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Status == checks.StatusFail && f.Severity.Rank() >= minimum.Rank() {
			n++
		}
	}
	return n
}

// severities from worst to mildest.
var severities = []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow, checks.SeverityInfo}

// Write renders the run in format f to w.
func Write(w io.Writer, f Format, r *Run) error {
	sorted := *r
	sorted.Findings = sortFindings(r.Findings)
	switch f {
	case FormatTable:
		return writeTable(w, &sorted)
	case FormatJSON:
		return writeJSON(w, &sorted)
	case FormatCSV:
		return writeCSV(w, &sorted)
	case FormatSARIF:
		return writeSARIF(w, &sorted)
	case FormatOCSF:
		return writeOCSF(w, &sorted)
	}
	return fmt.Errorf("unknown format %q", f)
}

// sortFindings orders findings worst first: status (fail, unknown, pass), severity,
// check id, resource native id. It returns a sorted copy.
func sortFindings(in []Finding) []Finding {
	out := slices.Clone(in)
	statusRank := map[checks.Status]int{checks.StatusFail: 0, checks.StatusUnknown: 1, checks.StatusPass: 2}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(statusRank[a.Status], statusRank[b.Status]),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.CheckID, b.CheckID),
			strings.Compare(a.NativeID, b.NativeID),
		)
	})
	return out
}

// checkIndex maps check ids to checks.
func checkIndex(list []*checks.Check) map[string]*checks.Check {
	m := make(map[string]*checks.Check, len(list))
	for _, c := range list {
		m[c.ID] = c
	}
	return m
}
