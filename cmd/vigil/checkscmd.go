package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/builtin"
)

func newChecksCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List, validate and test checks (no database)",
		Long: "List the built-in checks and frameworks, validate check files (yours or the\n" +
			"built-ins) the way the server validates them, and run check fixtures.\n" +
			"See docs/checks.md for the file format.",
	}
	cmd.AddCommand(newChecksListCmd(), newChecksValidateCmd(), newChecksTestCmd())
	return cmd
}

// checkJSON is one check in `checks list --format json`: the metadata, without
// expressions and fixtures.
type checkJSON struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Severity    checks.Severity     `json:"severity"`
	Resource    string              `json:"resource"`
	Description string              `json:"description"`
	Risk        string              `json:"risk"`
	Remediation checks.Remediation  `json:"remediation"`
	References  []string            `json:"references,omitempty"`
	Compliance  map[string][]string `json:"compliance,omitempty"`
	// Controls are the ids of the --framework controls the check decides.
	Controls []string `json:"controls,omitempty"`
}

func newChecksListCmd() *cobra.Command {
	var (
		provider   string
		framework  string
		severities []string
		format     string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the built-in checks",
		Long: "List the built-in checks, sorted by id, optionally only those of one cloud, of one\n" +
			"framework's controls, or of some severities. The table shows id, severity, resource\n" +
			"type and title (and the controls with --framework); json adds the description, risk,\n" +
			"remediation, references and compliance mappings.",
		Example: `  vigil checks list --severity critical,high
  vigil checks list --framework cis-aws-5.0
  vigil checks list --provider aws --format json | jq -r '.[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			reg, err := builtin.Registry()
			if err != nil {
				return err
			}
			var sevs []checks.Severity
			for _, s := range trimAll(severities) {
				sev := checks.Severity(strings.ToLower(s))
				if !sev.Valid() {
					return fmt.Errorf("--severity %q: want critical, high, medium, low or info", s)
				}
				sevs = append(sevs, sev)
			}
			controls := map[string][]string{}
			if framework != "" {
				fw, ok := reg.Framework(framework)
				if !ok {
					var known []string
					for _, f := range reg.Frameworks() {
						known = append(known, f.ID)
					}
					return fmt.Errorf("--framework %q: unknown (known: %s)", framework, strings.Join(known, ", "))
				}
				for _, ctl := range fw.Controls {
					for _, id := range ctl.Checks {
						controls[id] = append(controls[id], ctl.ID)
					}
				}
			}
			var list []checkJSON
			for _, c := range reg.Checks() {
				if provider != "" && !strings.HasPrefix(c.ID, provider+".") {
					continue
				}
				if framework != "" && controls[c.ID] == nil {
					continue
				}
				if len(sevs) > 0 && !slices.Contains(sevs, c.Severity) {
					continue
				}
				list = append(list, checkJSON{ID: c.ID, Title: c.Title, Severity: c.Severity, Resource: c.Resource,
					Description: strings.TrimSpace(c.Description), Risk: strings.TrimSpace(c.Risk), Remediation: c.Remediation,
					References: c.References, Compliance: c.Compliance, Controls: controls[c.ID]})
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				if list == nil {
					list = []checkJSON{}
				}
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			if framework != "" {
				fmt.Fprintln(tw, "CONTROLS\tID\tSEVERITY\tRESOURCE\tTITLE")
			} else {
				fmt.Fprintln(tw, "ID\tSEVERITY\tRESOURCE\tTITLE")
			}
			for _, c := range list {
				if framework != "" {
					fmt.Fprintf(tw, "%s\t", strings.Join(c.Controls, ","))
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Severity, c.Resource, c.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "%d checks\n", len(list))
			return err
		},
	}
	cmd.Flags().StringVar(&provider, "provider", "", "only checks of this cloud (aws, azure, gcp)")
	cmd.Flags().StringVar(&framework, "framework", "", "only checks that decide a control of this framework (e.g. cis-aws-5.0)")
	cmd.Flags().StringSliceVar(&severities, "severity", nil, "only checks of these severities, comma-separated (e.g. critical,high)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

func newChecksValidateCmd() *cobra.Command {
	var requireFixtures bool
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Validate check and framework files",
		Long: `Validate check files (and framework files) the way the server validates a tenant's
checks: strict decoding, metadata, CEL expressions (syntax, types, static cost) and the
fixtures the file has, which must give their expected status. A PATH is a file or a
folder searched for *.yaml and *.yml. A file is a framework when it sits under a
"frameworks" folder or has a top-level "controls" key.

Across the files: check ids must be unique, and framework controls must point at
checks among the files or the built-ins.

Each problem is printed as FILE:LINE:COL: FIELD: MESSAGE; for CEL errors the position
is the one inside the file. Exit code 1 when there is any problem.`,
		Example: `  vigil checks validate my-checks/
  vigil checks validate --require-fixtures checks/aws/s3/bucket_no_public_read.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := yamlFiles(args)
			if err != nil {
				return err
			}
			problems, nChecks, nFrameworks := validateFiles(cmd.Context(), files, requireFixtures)
			out := cmd.OutOrStdout()
			for _, p := range problems {
				fmt.Fprintln(out, p)
			}
			fmt.Fprintf(out, "%d files (%d checks, %d frameworks): %d problems\n", len(files), nChecks, nFrameworks, len(problems))
			if len(problems) > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d problems in check files", len(problems))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&requireFixtures, "require-fixtures", false, "demand pass, fail and unknown fixtures in every check (the rule for built-in checks)")
	return cmd
}

func newChecksTestCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [PATH...]",
		Short: "Run check fixtures",
		Long: `Run the fixtures (the tests: section) of check files and report those that do not
give their expected status. Without PATH, the built-in checks' fixtures run. A PATH is
a file or a folder searched for *.yaml and *.yml; framework files are skipped. Exit
code 1 when a fixture fails or a file does not compile.`,
		Example: `  vigil checks test
  vigil checks test -v my-checks/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			var list []*checks.Check
			var problems []string
			if len(args) == 0 {
				reg, err := builtin.Registry()
				if err != nil {
					return err
				}
				list = reg.Checks()
			} else {
				files, err := yamlFiles(args)
				if err != nil {
					return err
				}
				for _, f := range files {
					data, err := os.ReadFile(f)
					if err != nil {
						return fmt.Errorf("read %s: %w", f, err)
					}
					if isFramework(f, data) {
						continue
					}
					c, err := checks.ParseCheck(data)
					if err != nil {
						for _, p := range problemsOf(err) {
							problems = append(problems, formatProblem(f, data, p))
						}
						continue
					}
					c.Source = f
					list = append(list, c)
				}
			}
			fixtures, failed := 0, 0
			for _, c := range list {
				fixtures += len(c.Tests)
				fails := c.RunFixtures(ctx)
				failed += len(fails)
				for _, f := range fails {
					data, _ := os.ReadFile(f.Source) // best effort: built-ins have no file on disk
					fmt.Fprintf(out, "FAIL %s: %s\n", c.ID, formatProblem(f.Source, data, f.Problem()))
				}
				if verbose && len(fails) == 0 {
					fmt.Fprintf(out, "ok   %s (%d fixtures)\n", c.ID, len(c.Tests))
				}
			}
			for _, p := range problems {
				fmt.Fprintln(out, p)
			}
			fmt.Fprintf(out, "%d checks, %d fixtures: %d failed, %d files with problems\n", len(list), fixtures, failed, len(problems))
			if failed > 0 || len(problems) > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("%d fixtures failed, %d problems", failed, len(problems))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list the checks whose fixtures pass")
	return cmd
}

// yamlFiles expands files and folders into the *.yaml and *.yml files, sorted.
func yamlFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (filepath.Ext(path) == ".yaml" || filepath.Ext(path) == ".yml") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// isFramework reports whether a file is a framework: under a "frameworks" folder, or
// a mapping with a top-level "controls" key and no "assert".
func isFramework(path string, data []byte) bool {
	if slices.Contains(strings.Split(filepath.ToSlash(filepath.Dir(path)), "/"), "frameworks") {
		return true
	}
	var top map[string]any
	if yaml.Unmarshal(data, &top) != nil {
		return false
	}
	_, controls := top["controls"]
	_, assert := top["assert"]
	return controls && !assert
}

// validateFiles validates each file, then the set: unique check ids, framework
// controls pointing at known checks (the files' or the built-ins'). It returns the
// formatted problems and the number of check and framework files.
func validateFiles(ctx context.Context, files []string, requireFixtures bool) (out []string, nChecks, nFrameworks int) {
	type idAt struct{ file string }
	ids := map[string]idAt{}
	var fws []*checks.Framework
	fwData := map[*checks.Framework][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		if isFramework(f, data) {
			nFrameworks++
			fw, err := checks.ParseFramework(data)
			if err != nil {
				for _, p := range problemsOf(err) {
					out = append(out, formatProblem(f, data, p))
				}
				continue
			}
			fw.Source = f
			fws = append(fws, fw)
			fwData[fw] = data
			continue
		}
		nChecks++
		for _, p := range checks.Validate(ctx, data) {
			out = append(out, formatProblem(f, data, p))
		}
		c, err := checks.ParseCheck(data)
		if err != nil {
			continue // already reported
		}
		if prev, dup := ids[c.ID]; dup {
			out = append(out, formatProblem(f, data, checks.Problem{Field: "id", Message: fmt.Sprintf("duplicate check id %q (also in %s)", c.ID, prev.file)}))
		} else {
			ids[c.ID] = idAt{f}
		}
		if requireFixtures {
			have := map[checks.Status]bool{}
			for _, t := range c.Tests {
				have[t.Expect] = true
			}
			for _, s := range []checks.Status{checks.StatusPass, checks.StatusFail, checks.StatusUnknown} {
				if !have[s] {
					out = append(out, formatProblem(f, data, checks.Problem{Field: "tests", Message: fmt.Sprintf("no %q fixture (pass, fail and unknown are required)", s)}))
				}
			}
		}
	}
	if len(fws) > 0 {
		known := map[string]bool{}
		for id := range ids {
			known[id] = true
		}
		if reg, err := builtin.Registry(); err == nil {
			for _, c := range reg.Checks() {
				known[c.ID] = true
			}
		}
		for _, fw := range fws {
			for i, ctl := range fw.Controls {
				field := fmt.Sprintf("controls[%d]", i)
				if !ctl.Manual && len(ctl.Checks) == 0 {
					out = append(out, formatProblem(fw.Source, fwData[fw], checks.Problem{Field: field + ".checks",
						Message: fmt.Sprintf("automated control %s has no checks (mark it manual: true, or list the checks that decide it)", ctl.ID)}))
				}
				for j, id := range ctl.Checks {
					if !known[id] {
						out = append(out, formatProblem(fw.Source, fwData[fw], checks.Problem{Field: fmt.Sprintf("%s.checks[%d]", field, j),
							Message: fmt.Sprintf("control %s points at unknown check %q", ctl.ID, id)}))
					}
				}
			}
		}
	}
	return out, nChecks, nFrameworks
}

func problemsOf(err error) []checks.Problem {
	if ve, ok := err.(*checks.ValidationError); ok {
		return ve.Problems
	}
	return []checks.Problem{{Message: err.Error()}}
}

// formatProblem renders a problem as "file:line:col: field: message". The position is
// the field's key in the file, or for CEL errors the position inside the file of the
// error within the expression. Without a known line it is "file: field: message".
func formatProblem(file string, data []byte, p checks.Problem) string {
	if file == "" {
		file = p.File
	}
	var b strings.Builder
	b.WriteString(file)
	line, col := locate(data, p)
	if line > 0 {
		fmt.Fprintf(&b, ":%d:%d", line, col)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// locate finds a problem in the file: (line, column), 1-based, or (0, 0).
func locate(data []byte, p checks.Problem) (int, int) {
	var root yaml.Node
	if len(data) == 0 || yaml.Unmarshal(data, &root) != nil {
		return p.Line, 1
	}
	key, val := findField(&root, p.Field)
	if key == nil {
		if p.Line > 0 {
			return p.Line, 1
		}
		return 0, 0
	}
	if p.ExprLine > 0 && val != nil && val.Kind == yaml.ScalarNode {
		if line, col, ok := exprPosition(data, val, p.ExprLine, p.ExprColumn); ok {
			return line, col
		}
	}
	return key.Line, key.Column
}

// findField walks a field path like "assert", "remediation.text" or "tests[2].expect"
// and returns its key node (the item node for an index) and value node. When the path
// is not all there (a missing key), it returns the deepest node found and a nil value.
func findField(root *yaml.Node, field string) (key, val *yaml.Node) {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if field == "" {
		return nil, nil
	}
	for _, part := range strings.Split(field, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			v, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil {
				return key, nil
			}
			idx = v
		}
		if name != "" {
			next := -1
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == name {
						next = i
						break
					}
				}
			}
			if next < 0 {
				return key, nil
			}
			key, n = n.Content[next], n.Content[next+1]
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return key, nil
			}
			n = n.Content[idx]
			key = n
		}
	}
	return key, n
}

// exprPosition maps a 1-based (line, column) inside a scalar's value to the file.
// Plain and quoted scalars are taken as written on their line(s); literal (|) blocks
// keep their lines; folded (>) blocks join consecutive non-empty lines with a space,
// which is replayed here.
func exprPosition(data []byte, val *yaml.Node, exprLine, exprCol int) (int, int, bool) {
	lines := strings.Split(string(data), "\n")
	switch val.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
	default:
		if exprLine == 1 {
			col := val.Column + exprCol - 1
			if val.Style == yaml.DoubleQuotedStyle || val.Style == yaml.SingleQuotedStyle {
				col++
			}
			return val.Line, col, true
		}
		return val.Line + exprLine - 1, exprCol, true
	}
	// Block scalar: content starts on the line after the indicator; its indentation is
	// that of the first non-empty line.
	first := val.Line // 1-based line of the indicator; content from index val.Line
	indent := -1
	var block []int // 0-based file line indexes of the block
	for i := first; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" {
			block = append(block, i)
			continue
		}
		ind := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 {
			indent = ind
		}
		if ind < indent {
			break
		}
		block = append(block, i)
	}
	if indent < 0 {
		return 0, 0, false
	}
	curLine, curCol := 1, 1 // position in the expression of the next raw line's start
	started, prevMore, empties := false, false, 0
	for _, i := range block {
		raw := lines[i]
		if strings.TrimSpace(raw) == "" {
			empties++
			continue
		}
		text := raw[min(indent, len(raw)):]
		more := strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t")
		if started {
			switch {
			case val.Style == yaml.LiteralStyle:
				curLine += 1 + empties
				curCol = 1
			case empties > 0: // folded: n empty lines keep n line breaks
				curLine += empties
				curCol = 1
			case more || prevMore: // folded: more-indented lines keep their breaks
				curLine++
				curCol = 1
			default: // folded: the line break became one space
				curCol++
			}
		}
		started, prevMore, empties = true, more, 0
		if curLine == exprLine && exprCol >= curCol && exprCol <= curCol+len(text) {
			return i + 1, indent + (exprCol - curCol) + 1, true
		}
		curCol += len(text)
	}
	return 0, 0, false
}
