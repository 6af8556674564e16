// Package checks is Vigil's check engine: the check file format, its loader and
// validator, the registry of checks and compliance frameworks, and the evaluator that
// runs CEL expressions over resource documents with three-valued results (pass, fail,
// unknown).
//
// A check is data (one YAML file, see docs/checks.md). Expressions are compiled and
// type-checked once, when a file is parsed, to a cel-go program and to the fast path
// (fastpath.go: Go closures over the document's values, which also decide the
// unknowns of collection gaps, giving way to cel-go for errors and anything they do
// not handle); evaluation is pure, allocation-light and safe for concurrent use. Hard logic is exposed to CEL from package checks/celfn.
//
// This package imports no database, queue or HTTP package: the store and the jobs
// call it, never the reverse.
package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil/providers"
)

// Severity ranks how bad a failure is.
type Severity string

// The severities, from worst to mildest.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Valid reports whether s is one of the known severities.
func (s Severity) Valid() bool {
	switch s {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo:
		return true
	}
	return false
}

// Rank orders severities: critical is 4, info is 0, unknown values -1.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// Check is one check as written in its YAML file, plus its compiled programs. A Check
// returned by ParseCheck is compiled and immutable: share it freely between goroutines.
type Check struct {
	// ID is "<cloud>.<service>.<snake_name>", permanent: retire a check, never reuse its id.
	ID string `yaml:"id" json:"id"`
	// hot is what an evaluation on the fast path reads first, beside ID (which every
	// result reads): the same closures as prog's, one load away instead of four.
	hot hotPath
	// Title is a one-line statement of the good state ("S3 bucket blocks public access").
	Title    string   `yaml:"title" json:"title"`
	Severity Severity `yaml:"severity" json:"severity"`
	// Resource is the resource type the check applies to ("aws.s3.bucket").
	Resource string `yaml:"resource" json:"resource"`
	// Description says what is checked and its known limitations.
	Description string      `yaml:"description" json:"description"`
	Risk        string      `yaml:"risk" json:"risk"`
	Remediation Remediation `yaml:"remediation" json:"remediation"`
	References  []string    `yaml:"references,omitempty" json:"references,omitempty"`
	// Compliance maps a framework id to the control ids this check supports.
	Compliance map[string][]string `yaml:"compliance,omitempty" json:"compliance,omitempty"`
	// When, Assert and Message are CEL: applies (bool, optional), passes (bool), and the
	// human detail of a failure (string).
	When    string `yaml:"when,omitempty" json:"when,omitempty"`
	Assert  string `yaml:"assert" json:"assert"`
	Message string `yaml:"message" json:"message"`
	// Tests are the check's fixtures.
	Tests []Fixture `yaml:"tests,omitempty" json:"tests,omitempty"`

	// Source is the file the check was loaded from, "" for checks parsed from bytes.
	Source string `yaml:"-" json:"source,omitempty"`

	prog *program
}

// Remediation tells how to fix a failure. CLI and Terraform are Go text/templates over
// the failing providers.Resource ({{.Name}}, {{.Region}}, {{.NativeID}},
// {{.AccountID}}, {{index .Tags "k"}}).
type Remediation struct {
	Text      string `yaml:"text" json:"text"`
	CLI       string `yaml:"cli,omitempty" json:"cli,omitempty"`
	Terraform string `yaml:"terraform,omitempty" json:"terraform,omitempty"`
}

// Render fills the CLI and Terraform templates for one resource.
func (r Remediation) Render(res providers.Resource) (Remediation, error) {
	out := r
	for _, f := range []struct {
		name string
		dst  *string
	}{{"cli", &out.CLI}, {"terraform", &out.Terraform}} {
		if *f.dst == "" {
			continue
		}
		s, err := renderTemplate(f.name, *f.dst, res)
		if err != nil {
			return Remediation{}, err
		}
		*f.dst = s
	}
	return out, nil
}

func renderTemplate(name, text string, res providers.Resource) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parse remediation.%s template: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, res); err != nil {
		return "", fmt.Errorf("render remediation.%s template: %w", name, err)
	}
	return b.String(), nil
}

// Fixture is one test of a check: a document and the status the check must give it.
type Fixture struct {
	Name   string `yaml:"name" json:"name"`
	Expect Status `yaml:"expect" json:"expect"`
	// Now is the evaluation clock; 2026-12-01T00:00:00Z when empty.
	Now      *time.Time      `yaml:"now,omitempty" json:"now,omitempty"`
	Resource FixtureDocument `yaml:"resource" json:"resource"`
	// Account is the account-level document of the same account, when the check reads it.
	Account *FixtureDocument `yaml:"account,omitempty" json:"account,omitempty"`
	// Related are documents reachable through relations, by relation kind.
	Related []FixtureRelated `yaml:"related,omitempty" json:"related,omitempty"`
}

// fixtureNow is the clock of fixtures that do not set one, fixed so that fixtures with
// dates never rot. Never modified.
var fixtureNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// FixtureDocument is a resource document in a fixture: the fields of providers.Resource
// under their JSON names. Only what the check reads needs to be set.
type FixtureDocument struct {
	Provider   string            `yaml:"provider,omitempty" json:"provider,omitempty"`
	AccountID  string            `yaml:"account_id,omitempty" json:"account_id,omitempty"`
	NativeID   string            `yaml:"native_id,omitempty" json:"native_id,omitempty"`
	Type       string            `yaml:"type,omitempty" json:"type,omitempty"`
	Region     string            `yaml:"region,omitempty" json:"region,omitempty"`
	Name       string            `yaml:"name,omitempty" json:"name,omitempty"`
	Tags       map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	Properties map[string]any    `yaml:"properties,omitempty" json:"properties,omitempty"`
	// Gaps are either property names or full providers.Gap objects.
	Gaps      []FixtureGap      `yaml:"gaps,omitempty" json:"gaps,omitempty"`
	Relations []FixtureRelation `yaml:"relations,omitempty" json:"relations,omitempty"`
}

// FixtureRelation is a providers.Relation under its JSON field names.
type FixtureRelation struct {
	Kind       string `yaml:"kind" json:"kind"`
	TargetID   string `yaml:"target_id" json:"target_id"`
	TargetType string `yaml:"target_type,omitempty" json:"target_type,omitempty"`
}

// FixtureGap is a providers.Gap that may be written as just the property name.
type FixtureGap providers.Gap

// UnmarshalYAML accepts "Policy" or {property: Policy, operation: ..., kind: ..., message: ...}.
func (g *FixtureGap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*g = FixtureGap{Property: n.Value, Kind: providers.KindAccessDenied}
		return nil
	}
	var full struct {
		Property  string              `yaml:"property"`
		Operation string              `yaml:"operation"`
		Kind      providers.ErrorKind `yaml:"kind"`
		Message   string              `yaml:"message"`
	}
	if err := n.Decode(&full); err != nil {
		return err
	}
	*g = FixtureGap(full)
	return nil
}

// FixtureRelated is a related document of a fixture.
type FixtureRelated struct {
	Kind     string          `yaml:"kind" json:"kind"`
	Resource FixtureDocument `yaml:"resource" json:"resource"`
}

// toResource builds the providers.Resource of a fixture document, with properties
// normalised to the JSON shape collectors produce (numbers as float64, times as
// RFC 3339 strings).
func (d FixtureDocument) toResource(defaultType string) (providers.Resource, error) {
	r := providers.Resource{
		Provider: d.Provider, AccountID: d.AccountID, NativeID: d.NativeID, Type: d.Type,
		Region: d.Region, Name: d.Name, Tags: d.Tags,
	}
	for _, rel := range d.Relations {
		r.Relations = append(r.Relations, providers.Relation(rel))
	}
	if r.Type == "" {
		r.Type = defaultType
	}
	if r.Provider == "" {
		r.Provider, _, _ = strings.Cut(r.Type, ".")
	}
	if r.AccountID == "" {
		r.AccountID = "123456789012"
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	props := map[string]any{}
	if d.Properties != nil {
		b, err := json.Marshal(d.Properties)
		if err != nil {
			return providers.Resource{}, fmt.Errorf("properties: %w", err)
		}
		if err := json.Unmarshal(b, &props); err != nil {
			return providers.Resource{}, fmt.Errorf("properties: %w", err)
		}
	}
	r.Properties = props
	for _, g := range d.Gaps {
		r.Gaps = append(r.Gaps, providers.Gap(g))
	}
	return r, nil
}

var (
	idRe           = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*$`)
	resourceTypeRe = regexp.MustCompile(`^[a-z][a-z0-9]*(?:\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*){1,2}$`)
)

// ValidID reports whether id has the form <cloud>.<service>.<snake_name>.
func ValidID(id string) bool { return idRe.MatchString(id) }

// decodeCheck strictly decodes one check file and validates its metadata. Expressions
// are compiled by the caller.
func decodeCheck(data []byte, ps *problems) *Check {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		ps.addProblem(yamlProblem(err))
		return nil
	}
	ps.lines = fieldLines(&root)

	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Check
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			ps.add("", "empty file")
			return nil
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				ps.addProblem(yamlLineProblem(msg))
			}
			return nil
		}
		ps.addProblem(yamlProblem(err))
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		ps.add("", "more than one YAML document in the file")
	}
	validateMetadata(&c, ps)
	return &c
}

// validateMetadata checks everything but the expressions.
func validateMetadata(c *Check, ps *problems) {
	switch {
	case c.ID == "":
		ps.add("id", "required")
	case !ValidID(c.ID):
		ps.add("id", "%q is not <cloud>.<service>.<snake_name> (lower case, digits, single underscores)", c.ID)
	}
	if !c.Severity.Valid() {
		ps.add("severity", "%q is not one of critical, high, medium, low, info", c.Severity)
	}
	switch {
	case c.Resource == "":
		ps.add("resource", "required")
	case !resourceTypeRe.MatchString(c.Resource):
		ps.add("resource", "%q is not a resource type like aws.s3.bucket", c.Resource)
	}
	if c.ID != "" && c.Resource != "" {
		cloud, _, _ := strings.Cut(c.ID, ".")
		rcloud, _, _ := strings.Cut(c.Resource, ".")
		if cloud != rcloud {
			ps.add("id", "cloud %q of the id differs from the cloud %q of the resource type", cloud, rcloud)
		}
	}
	for field, v := range map[string]string{
		"title": c.Title, "description": c.Description, "risk": c.Risk,
		"remediation.text": c.Remediation.Text, "assert": c.Assert, "message": c.Message,
	} {
		if strings.TrimSpace(v) == "" {
			ps.add(field, "required")
		}
	}
	for field, text := range map[string]string{"remediation.cli": c.Remediation.CLI, "remediation.terraform": c.Remediation.Terraform} {
		if text == "" {
			continue
		}
		name := strings.TrimPrefix(field, "remediation.")
		if _, err := renderTemplate(name, text, providers.Resource{}); err != nil {
			ps.add(field, "%v", err)
		}
	}
	for i, ref := range c.References {
		if !strings.HasPrefix(ref, "https://") && !strings.HasPrefix(ref, "http://") {
			ps.add(fmt.Sprintf("references[%d]", i), "%q is not an http(s) URL", ref)
		}
	}
	for fw, controls := range c.Compliance {
		if len(controls) == 0 {
			ps.add("compliance."+fw, "no control ids")
		}
	}
	names := map[string]bool{}
	for i, f := range c.Tests {
		field := fmt.Sprintf("tests[%d]", i)
		if f.Name == "" {
			ps.add(field+".name", "required")
		} else if names[f.Name] {
			ps.add(field+".name", "duplicate fixture name %q", f.Name)
		}
		names[f.Name] = true
		if !f.Expect.valid() {
			ps.add(field+".expect", "%q is not one of pass, fail, unknown, skip", f.Expect)
		}
		if f.Expect == StatusSkip && c.When == "" {
			ps.add(field+".expect", "skip needs a `when` expression")
		}
	}
}

// fieldLines maps field paths ("assert", "remediation.text", "tests[1].expect") to
// their line in the file, three levels deep.
func fieldLines(root *yaml.Node) map[string]int {
	lines := map[string]int{}
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		if depth > 3 {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				lines[p] = k.Line
				walk(n.Content[i+1], p, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				lines[p] = c.Line
				walk(c, p, depth+1)
			}
		}
	}
	walk(root, "", 0)
	return lines
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlLineProblem turns "line 12: field foo not found in type checks.Check" into a
// problem at line 12.
func yamlLineProblem(msg string) Problem {
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := strings.Replace(m[2], " in type checks.", " in ", 1)
		return Problem{Line: line, Message: text}
	}
	return Problem{Message: msg}
}

func yamlProblem(err error) Problem {
	return yamlLineProblem(err.Error())
}
