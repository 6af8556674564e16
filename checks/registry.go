package checks

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// ParseCheck decodes, validates and compiles one check file with the default compiler.
// The error is a *ValidationError listing every problem (field, line, and for CEL
// errors the line:column inside the expression). Fixtures are not run: see
// (*Check).RunFixtures and Validate.
func ParseCheck(data []byte) (*Check, error) {
	co, err := defaultCompiler()
	if err != nil {
		return nil, err
	}
	return co.ParseCheck(data)
}

// ParseCheck decodes, validates and compiles one check file.
func (co *Compiler) ParseCheck(data []byte) (*Check, error) {
	return co.parseCheck("", data)
}

func (co *Compiler) parseCheck(file string, data []byte) (*Check, error) {
	ps := &problems{file: file}
	c := decodeCheck(data, ps)
	if c == nil {
		return nil, ps.err()
	}
	c.Source = file
	c.prog = co.compile(c, ps)
	c.setHot()
	if err := ps.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks a tenant-authored check file the way the built-ins are checked and
// returns every problem found (nil when the check is valid): strict decoding,
// metadata, expressions (compile, type, cost), and the fixtures it has, which must give
// their expected status. Fixtures are optional for tenant checks.
func Validate(ctx context.Context, data []byte) []Problem {
	co, err := defaultCompiler()
	if err != nil {
		return []Problem{{Message: err.Error()}}
	}
	return co.Validate(ctx, data)
}

// Validate is the package-level Validate with this compiler.
func (co *Compiler) Validate(ctx context.Context, data []byte) []Problem {
	c, err := co.ParseCheck(data)
	if err != nil {
		return problemsOf(err)
	}
	var out []Problem
	for _, f := range c.RunFixtures(ctx) {
		out = append(out, f.Problem())
	}
	return out
}

func problemsOf(err error) []Problem {
	if ve, ok := err.(*ValidationError); ok {
		return ve.Problems
	}
	return []Problem{{Message: err.Error()}}
}

// Registry holds a validated set of checks and frameworks, indexed by id and by
// resource type. It is immutable and safe for concurrent use.
type Registry struct {
	checks     []*Check
	byID       map[string]*Check
	byType     map[string][]*Check
	frameworks []*Framework
	fwByID     map[string]*Framework
	// inputs pools prepared documents (their maps and bound functions).
	inputs sync.Pool
}

// RegistryConfig tunes NewRegistry.
type RegistryConfig struct {
	// RequireFixtures demands that every check has pass, fail and unknown fixtures (the
	// rule for built-in checks; tenant checks may have none).
	RequireFixtures bool
}

// NewRegistry validates a set of parsed checks and frameworks together: unique check
// ids, fixtures when required, unique framework ids, every control pointing at
// existing checks, automated controls having checks, and compliance mappings of
// checks naming existing controls of loaded frameworks.
func NewRegistry(checks []*Check, frameworks []*Framework, cfg RegistryConfig) (*Registry, error) {
	r := &Registry{
		byID:   make(map[string]*Check, len(checks)),
		byType: map[string][]*Check{},
		fwByID: map[string]*Framework{},
	}
	r.inputs.New = func() any { return newInput() }
	var list []Problem
	for _, c := range checks {
		if c.prog == nil {
			list = append(list, Problem{File: c.Source, Field: "id", Message: fmt.Sprintf("check %q was not compiled (use ParseCheck)", c.ID)})
			continue
		}
		if prev, dup := r.byID[c.ID]; dup {
			list = append(list, Problem{File: c.Source, Field: "id", Message: fmt.Sprintf("duplicate check id %q (also in %s)", c.ID, cmp.Or(prev.Source, "another check"))})
			continue
		}
		if cfg.RequireFixtures {
			list = append(list, fixtureCoverage(c)...)
		}
		r.byID[c.ID] = c
		r.checks = append(r.checks, c)
	}
	slices.SortFunc(r.checks, func(a, b *Check) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range r.checks {
		r.byType[c.Resource] = append(r.byType[c.Resource], c)
	}
	for _, fw := range frameworks {
		if prev, dup := r.fwByID[fw.ID]; dup {
			list = append(list, Problem{File: fw.Source, Field: "id", Message: fmt.Sprintf("duplicate framework id %q (also in %s)", fw.ID, prev.Source)})
			continue
		}
		r.fwByID[fw.ID] = fw
		r.frameworks = append(r.frameworks, fw)
		list = append(list, fw.validateChecks(r.byID)...)
	}
	slices.SortFunc(r.frameworks, func(a, b *Framework) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range r.checks {
		for fwID, controls := range c.Compliance {
			fw, ok := r.fwByID[fwID]
			if !ok {
				continue // a framework we map to but do not ship (yet)
			}
			for _, ctl := range controls {
				if fw.Control(ctl) == nil {
					list = append(list, Problem{File: c.Source, Field: "compliance." + fwID, Message: fmt.Sprintf("framework %s has no control %q", fwID, ctl)})
				}
			}
		}
	}
	if len(list) > 0 {
		return nil, &ValidationError{Problems: list}
	}
	return r, nil
}

func fixtureCoverage(c *Check) []Problem {
	have := map[Status]bool{}
	for _, f := range c.Tests {
		have[f.Expect] = true
	}
	var out []Problem
	for _, s := range []Status{StatusPass, StatusFail, StatusUnknown} {
		if !have[s] {
			out = append(out, Problem{File: c.Source, Field: "tests", Message: fmt.Sprintf("check %s has no %q fixture (pass, fail and unknown are required)", c.ID, s)})
		}
	}
	return out
}

// Load reads the built-in checks and frameworks under root in fsys: every *.yaml file
// below a "frameworks" directory is a framework, every other *.yaml file a check. All
// problems of all files are reported together in a *ValidationError. Built-in checks
// must have pass, fail and unknown fixtures (run them with RunFixtures in a test).
func Load(fsys fs.FS, root string) (*Registry, error) {
	co, err := defaultCompiler()
	if err != nil {
		return nil, err
	}
	return co.Load(fsys, root, RegistryConfig{RequireFixtures: true})
}

// Load is the package-level Load with this compiler and configuration.
func (co *Compiler) Load(fsys fs.FS, root string, cfg RegistryConfig) (*Registry, error) {
	var (
		checks     []*Check
		frameworks []*Framework
		list       []Problem
	)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (path.Ext(p) != ".yaml" && path.Ext(p) != ".yml") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		if slices.Contains(strings.Split(path.Dir(p), "/"), "frameworks") {
			fw, err := parseFramework(p, data)
			if err != nil {
				list = append(list, problemsOf(err)...)
				return nil
			}
			frameworks = append(frameworks, fw)
			return nil
		}
		c, err := co.parseCheck(p, data)
		if err != nil {
			list = append(list, problemsOf(err)...)
			return nil
		}
		checks = append(checks, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load checks from %s: %w", root, err)
	}
	reg, err := NewRegistry(checks, frameworks, cfg)
	if err != nil {
		list = append(list, problemsOf(err)...)
	}
	if len(list) > 0 {
		return nil, &ValidationError{Problems: list}
	}
	return reg, nil
}

// Checks returns every check, sorted by id.
func (r *Registry) Checks() []*Check { return r.checks }

// Check returns the check with the id.
func (r *Registry) Check(id string) (*Check, bool) {
	c, ok := r.byID[id]
	return c, ok
}

// ForType returns the checks that apply to a resource type, sorted by id.
func (r *Registry) ForType(resourceType string) []*Check { return r.byType[resourceType] }

// Frameworks returns every framework, sorted by id.
func (r *Registry) Frameworks() []*Framework { return r.frameworks }

// Framework returns the framework with the id.
func (r *Registry) Framework(id string) (*Framework, bool) {
	fw, ok := r.fwByID[id]
	return fw, ok
}

// Evaluate runs every check of the document's resource type and returns their results
// (pass, fail or unknown; checks whose `when` is false are left out). The document is
// prepared once for all checks. When ctx is cancelled, evaluation stops and the results
// so far are returned: callers must check ctx.Err() before trusting completeness.
func (r *Registry) Evaluate(ctx context.Context, doc Document) []Result {
	return r.EvaluateAppend(ctx, doc, nil)
}

// EvaluateAppend is Evaluate appending to dst, to reuse a results slice across
// documents.
func (r *Registry) EvaluateAppend(ctx context.Context, doc Document, dst []Result) []Result {
	checks := r.byType[doc.Resource.Type]
	if len(checks) == 0 {
		return dst
	}
	in := r.inputs.Get().(*input)
	defer func() {
		in.release()
		r.inputs.Put(in)
	}()
	in.reset(&doc)
	for _, c := range checks {
		if ctx.Err() != nil {
			return dst
		}
		res := c.eval(in)
		if res.Status != StatusSkip {
			dst = append(dst, res)
		}
	}
	return dst
}

// RunFixtures runs the fixtures of every check and returns those that did not give
// their expected status (none when all pass).
func (r *Registry) RunFixtures(ctx context.Context) []FixtureFailure {
	var out []FixtureFailure
	for _, c := range r.checks {
		out = append(out, c.RunFixtures(ctx)...)
	}
	return out
}
