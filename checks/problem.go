package checks

import (
	"fmt"
	"strings"
)

// Problem is one precise reason why a check or framework file is invalid: which file,
// which field, and for CEL errors the position inside the expression. The API returns
// problems to tenants as they are.
type Problem struct {
	// File is the path of the file, "" for a check submitted through the API.
	File string `json:"file,omitempty"`
	// Field is the YAML field at fault ("assert", "remediation.text", "tests[2].expect").
	Field string `json:"field,omitempty"`
	// Line is the line of the field in the file (1-based), 0 when unknown.
	Line int `json:"line,omitempty"`
	// ExprLine and ExprColumn locate a CEL error inside the expression (1-based).
	ExprLine   int `json:"expr_line,omitempty"`
	ExprColumn int `json:"expr_column,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
}

// String renders the problem as "file:line: field: expr line:col: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	} else if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	if p.ExprLine > 0 {
		fmt.Fprintf(&b, "%d:%d: ", p.ExprLine, p.ExprColumn)
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError carries every problem found in one or more files.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "invalid check: " + lines[0]
	}
	return fmt.Sprintf("%d problems:\n%s", len(lines), strings.Join(lines, "\n"))
}

// problems collects problems for one file.
type problems struct {
	file  string
	lines map[string]int // field path -> line in the file
	list  []Problem
}

func (ps *problems) add(field, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Field: field, Line: ps.lines[field], Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) addProblem(p Problem) {
	p.File = ps.file
	if p.Line == 0 {
		p.Line = ps.lines[p.Field]
	}
	ps.list = append(ps.list, p)
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps.list}
}
