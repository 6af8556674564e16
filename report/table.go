package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vigilsec/vigil/checks"
)

// writeTable prints failures and unknowns grouped by severity, then the units that
// failed, then one summary line. Passing results are only counted.
func writeTable(w io.Writer, r *Run) error {
	ew := &errWriter{w: w}
	printed := false
	for _, sev := range severities {
		var group []Finding
		for _, f := range r.Findings {
			if f.Severity == sev && (f.Status == checks.StatusFail || f.Status == checks.StatusUnknown) {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		if printed {
			ew.printf("\n")
		}
		printed = true
		ew.printf("%s (%d)\n", strings.ToUpper(string(sev)), len(group))
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  STATUS\tCHECK\tRESOURCE\tREGION\tDETAIL")
		for _, f := range group {
			detail := f.Message
			if f.Status == checks.StatusUnknown {
				detail = f.Reason
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(f.Status)), f.CheckID,
				oneLine(resourceLabel(f)), f.Region, oneLine(detail))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !printed {
		ew.printf("No failing or unknown results.\n")
	}
	if len(r.Failed) > 0 {
		ew.printf("\nCOLLECTION GAPS (%d %s failed: resources of their types and regions were not evaluated)\n", len(r.Failed), plural(len(r.Failed), "unit", "units"))
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  UNIT\tTYPES\tKIND\tERROR")
		for _, u := range r.Failed {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Unit, strings.Join(u.Types, ","), u.Kind, oneLine(u.Error))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	ew.printf("\n%s\n", SummaryLine(r.Summary()))
	return ew.err
}

// SummaryLine renders a summary as one line, e.g. "12 results: 3 fail (1 critical,
// 2 high), 1 unknown, 8 pass; 1 unit failed, 4 resources not evaluated".
func SummaryLine(s Summary) string {
	var sev []string
	for _, v := range severities {
		if n := s.FailBySeverity[v]; n > 0 {
			sev = append(sev, fmt.Sprintf("%d %s", n, v))
		}
	}
	line := fmt.Sprintf("%d results: %d fail", s.Total, s.Fail)
	if len(sev) > 0 {
		line += " (" + strings.Join(sev, ", ") + ")"
	}
	line += fmt.Sprintf(", %d unknown, %d pass", s.Unknown, s.Pass)
	if s.UnitsFailed > 0 {
		line += fmt.Sprintf("; %d %s failed, %d %s not evaluated", s.UnitsFailed, plural(s.UnitsFailed, "unit", "units"),
			s.ResourcesSkipped, plural(s.ResourcesSkipped, "resource", "resources"))
	}
	return line
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// resourceLabel is the resource's name, with the native id when they differ.
func resourceLabel(f Finding) string {
	switch {
	case f.ResourceName == "" || f.ResourceName == f.NativeID:
		return f.NativeID
	case f.NativeID == "":
		return f.ResourceName
	}
	return f.ResourceName + " (" + f.NativeID + ")"
}

// oneLine folds whitespace runs (newlines included) into single spaces, so a cell
// never breaks the table.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// errWriter remembers the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
