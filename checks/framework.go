package checks

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Framework is a compliance framework (CIS AWS, NIST 800-53, ...): a list of controls
// that point at check ids. One framework may span several clouds.
type Framework struct {
	ID      string `yaml:"id" json:"id"`
	Name    string `yaml:"name" json:"name"`
	Version string `yaml:"version" json:"version"`
	// Provider is the cloud ("aws", "azure", "gcp") or "multi".
	Provider    string    `yaml:"provider" json:"provider"`
	Description string    `yaml:"description,omitempty" json:"description,omitempty"`
	Controls    []Control `yaml:"controls" json:"controls"`

	// Source is the file the framework was loaded from.
	Source string `yaml:"-" json:"source,omitempty"`

	byID map[string]*Control
}

// Control is one requirement of a framework.
type Control struct {
	ID         string `yaml:"id" json:"id"`
	Title      string `yaml:"title" json:"title"`
	Section    string `yaml:"section,omitempty" json:"section,omitempty"`
	Subsection string `yaml:"subsection,omitempty" json:"subsection,omitempty"`
	// Level is the profile level (CIS level 1 or 2), 0 when the framework has none.
	Level int `yaml:"level,omitempty" json:"level,omitempty"`
	// Manual controls are decided by an auditor; their checks, if any, are supporting
	// evidence only.
	Manual bool `yaml:"manual,omitempty" json:"manual,omitempty"`
	// Checks decide an automated control: it passes when every result of every listed
	// check passes.
	Checks []string `yaml:"checks" json:"checks"`
}

// Control returns the control with the id, or nil.
func (fw *Framework) Control(id string) *Control { return fw.byID[id] }

// ParseFramework strictly decodes and validates one framework file on its own (control
// ids unique, metadata present). Whether its checks exist is validated by NewRegistry.
func ParseFramework(data []byte) (*Framework, error) {
	return parseFramework("", data)
}

func parseFramework(file string, data []byte) (*Framework, error) {
	ps := &problems{file: file}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		ps.addProblem(yamlProblem(err))
		return nil, ps.err()
	}
	ps.lines = fieldLines(&root)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var fw Framework
	if err := dec.Decode(&fw); err != nil {
		var te *yaml.TypeError
		switch {
		case errors.Is(err, io.EOF):
			ps.add("", "empty file")
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				ps.addProblem(yamlLineProblem(msg))
			}
		default:
			ps.addProblem(yamlProblem(err))
		}
		return nil, ps.err()
	}
	fw.Source = file
	if fw.ID == "" {
		ps.add("id", "required")
	}
	if fw.Name == "" {
		ps.add("name", "required")
	}
	switch fw.Provider {
	case "aws", "azure", "gcp", "multi":
	default:
		ps.add("provider", "%q is not one of aws, azure, gcp, multi", fw.Provider)
	}
	if len(fw.Controls) == 0 {
		ps.add("controls", "no controls")
	}
	fw.byID = make(map[string]*Control, len(fw.Controls))
	for i := range fw.Controls {
		ctl := &fw.Controls[i]
		field := fmt.Sprintf("controls[%d]", i)
		if ctl.ID == "" {
			ps.add(field+".id", "required")
			continue
		}
		if _, dup := fw.byID[ctl.ID]; dup {
			ps.add(field+".id", "duplicate control id %q", ctl.ID)
			continue
		}
		if ctl.Title == "" {
			ps.add(field+".title", "required")
		}
		fw.byID[ctl.ID] = ctl
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return &fw, nil
}

// validateChecks reports controls that point at unknown checks and automated controls
// without checks.
func (fw *Framework) validateChecks(checks map[string]*Check) []Problem {
	var out []Problem
	for i, ctl := range fw.Controls {
		field := fmt.Sprintf("controls[%d]", i)
		if !ctl.Manual && len(ctl.Checks) == 0 {
			out = append(out, Problem{File: fw.Source, Field: field + ".checks", Message: fmt.Sprintf("automated control %s has no checks (mark it manual: true, or list the checks that decide it)", ctl.ID)})
		}
		for j, id := range ctl.Checks {
			if _, ok := checks[id]; !ok {
				out = append(out, Problem{File: fw.Source, Field: fmt.Sprintf("%s.checks[%d]", field, j), Message: fmt.Sprintf("control %s points at unknown check %q", ctl.ID, id)})
			}
		}
	}
	return out
}
