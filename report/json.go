package report

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"time"
)

// jsonReport is the JSON format: the tool, the scan time, the summary, the units that
// failed and every result (pass, fail and unknown).
type jsonReport struct {
	Tool         jsonTool      `json:"tool"`
	Time         time.Time     `json:"time"`
	Summary      Summary       `json:"summary"`
	UnitFailures []UnitFailure `json:"unit_failures"`
	Results      []Finding     `json:"results"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func writeJSON(w io.Writer, r *Run) error {
	out := jsonReport{
		Tool:         jsonTool{Name: r.Tool.Name, Version: r.Tool.Version},
		Time:         r.Time.UTC(),
		Summary:      r.Summary(),
		UnitFailures: r.Failed,
		Results:      r.Findings,
	}
	if out.UnitFailures == nil {
		out.UnitFailures = []UnitFailure{}
	}
	if out.Results == nil {
		out.Results = []Finding{}
	}
	return encodeJSON(w, out)
}

// encodeJSON writes v indented, without HTML escaping (messages hold "<", ">", "&").
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// csvHeader is the CSV format's header row.
var csvHeader = []string{"check_id", "title", "severity", "status", "resource_type", "native_id",
	"resource_name", "region", "account_id", "message", "reason"}

// writeCSV writes the header and one row per result. Evidence is left out: it is
// nested data (use json).
func writeCSV(w io.Writer, r *Run) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, f := range r.Findings {
		row := []string{f.CheckID, f.Title, string(f.Severity), string(f.Status), f.ResourceType, f.NativeID,
			f.ResourceName, f.Region, f.AccountID, f.Message, f.Reason}
		for i := range row {
			row[i] = csvSafe(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses spreadsheet formula injection: a cell starting with =, +, - or @
// (a resource name or tag chosen by whoever controls the cloud account) is prefixed
// with a quote so spreadsheet programs show it as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
