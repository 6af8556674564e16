package checks

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"

	"github.com/vigilsec/vigil/checks/celfn"
)

// Defaults of CompilerConfig.
const (
	// DefaultMaxCost bounds the static worst-case cost estimate of one expression. A
	// simple comparison costs a few units, a loop over a 100-element list a few hundred, a
	// loop nested in a loop over the same list (NACL rule shadowing) a few million.
	DefaultMaxCost = 10_000_000
	// DefaultSizeHint is the size the estimator assumes for lists, maps and strings read
	// from documents. Documents are bounded by the collectors; tenants cannot make them
	// grow, so the hint stands in for the real maximum.
	DefaultSizeHint = 100
)

// CompilerConfig tunes the compiler; the zero value is the default.
type CompilerConfig struct {
	// MaxCost rejects expressions whose static worst-case cost estimate exceeds it.
	MaxCost uint64
	// RuntimeCostLimit, when set, tracks the actual cost of every evaluation and stops
	// one that exceeds it (the result is unknown, with the reason). Tracking costs about
	// a third of the evaluation speed, so it is off by default: built-in checks are
	// reviewed and bounded by MaxCost. Set it for tenant-authored checks.
	RuntimeCostLimit uint64
	// SizeHint is the assumed size of collections read from documents (DefaultSizeHint).
	SizeHint uint64
}

// Compiler parses and compiles checks in one CEL environment. It is immutable and safe
// for concurrent use; build it once.
type Compiler struct {
	env *cel.Env
	cfg CompilerConfig
	// fast compiles expressions to the fast path (fastpath.go); nil when runtime cost
	// tracking is on, which only cel-go's interpreter does.
	fast *fastLib
}

// NewCompiler builds the CEL environment: variables resource, account, now; the
// function related(kind); the celfn library; and the cel-go extensions strings, sets,
// lists, math, encoders, bindings (cel.bind) and optional types.
func NewCompiler(cfg CompilerConfig) (*Compiler, error) {
	cfg.MaxCost = cmp.Or(cfg.MaxCost, DefaultMaxCost)
	cfg.SizeHint = cmp.Or(cfg.SizeHint, DefaultSizeHint)
	doc := cel.MapType(cel.StringType, cel.DynType)
	env, err := cel.NewEnv(
		cel.Variable("resource", doc),
		cel.Variable("account", doc),
		cel.Variable("now", cel.TimestampType),
		cel.Function("related",
			cel.Overload("related_string", []*cel.Type{cel.StringType}, cel.ListType(doc), cel.LateFunctionBinding())),
		celfn.Library(),
		ext.Strings(),
		ext.Sets(),
		ext.Lists(),
		ext.Math(),
		ext.Encoders(),
		ext.Bindings(),
		cel.OptionalTypes(),
		// JSON numbers are doubles: let `resource.properties.FromPort <= 22` compare.
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
	)
	if err != nil {
		return nil, fmt.Errorf("build cel environment: %w", err)
	}
	co := &Compiler{env: env, cfg: cfg}
	if cfg.RuntimeCostLimit == 0 {
		if co.fast, err = newFastLib(env); err != nil {
			return nil, err
		}
	}
	return co, nil
}

// defaultCompiler is built on first use and never modified.
var defaultCompiler = sync.OnceValues(func() (*Compiler, error) { return NewCompiler(CompilerConfig{}) })

// expression is one compiled CEL expression, with a plain program (no gaps: the fast
// path) and a partial-evaluation program (the document has gaps the expression may
// read).
type expression struct {
	field   string
	plain   cel.Program
	partial cel.Program
	// fast is the fast path of the expression, nil when it is outside the fast path's
	// subset (fastErr says why) or the compiler tracks runtime cost.
	fast    *fastExpr
	fastErr error
	lib     *fastLib
}

// program is the compiled form of a check.
type program struct {
	when, assert, message *expression
	// resKeys and accKeys are the top-level properties of the resource and the account
	// document the check reads (evidence, gap relevance).
	resKeys, accKeys []string
	// evidence lists the properties of the evidence in the order of their names
	// ("account.properties.<Key>", then "resource.properties.<Key>": sorted), and
	// evidenceNames the names.
	evidence      []evidenceKey
	evidenceNames []string
	// evidenceSet numbers the set of evidence keys: checks of one document reading the
	// same properties share their evidence values.
	evidenceSet int
	// resDynamic / accDynamic: the expression uses resource.properties (or the whole
	// document) in a way whose keys cannot be listed statically.
	resDynamic, accDynamic bool
}

// evidenceKey is one property of a check's evidence: a top-level property of the
// resource (or of the account document), and its property cache slot.
type evidenceKey struct {
	account bool
	key     string
	slot    int
}

// compile compiles the expressions of c, reporting problems with positions.
func (co *Compiler) compile(c *Check, ps *problems) *program {
	p := &program{}
	refs := &propertyRefs{res: map[string]bool{}, acc: map[string]bool{}}
	ok := true
	one := func(field, text string, want *cel.Type) *expression {
		if strings.TrimSpace(text) == "" {
			return nil
		}
		e, good := co.compileExpr(field, text, want, refs, ps)
		ok = ok && good
		return e
	}
	p.when = one("when", c.When, cel.BoolType)
	p.assert = one("assert", c.Assert, cel.BoolType)
	p.message = one("message", c.Message, cel.StringType)
	if !ok || p.assert == nil || p.message == nil {
		return nil
	}
	p.resKeys = sortedKeys(refs.res)
	p.accKeys = sortedKeys(refs.acc)
	for _, k := range p.accKeys {
		p.evidence = append(p.evidence, evidenceKey{account: true, key: k, slot: accountSlots.slot(k)})
		p.evidenceNames = append(p.evidenceNames, "account.properties."+k)
	}
	for _, k := range p.resKeys {
		p.evidence = append(p.evidence, evidenceKey{key: k, slot: resourceSlots.slot(k)})
		p.evidenceNames = append(p.evidenceNames, "resource.properties."+k)
	}
	p.evidenceSet = evidenceSlots.slot(strings.Join(p.evidenceNames, "\x00"))
	p.resDynamic, p.accDynamic = refs.resDynamic, refs.accDynamic
	return p
}

func (co *Compiler) compileExpr(field, text string, want *cel.Type, refs *propertyRefs, ps *problems) (*expression, bool) {
	ast, iss := co.env.Compile(text)
	if iss.Err() != nil {
		for _, e := range iss.Errors() {
			ps.addProblem(Problem{Field: field, ExprLine: e.Location.Line(), ExprColumn: e.Location.Column() + 1, Message: e.Message})
		}
		return nil, false
	}
	if got := ast.OutputType(); !got.IsExactType(want) {
		hint := ""
		if got.IsDyn() && want == cel.BoolType {
			hint = " (compare explicitly, e.g. `resource.properties.Enabled == true`)"
		}
		ps.add(field, "has type %s, want %s%s", cel.FormatCELType(got), cel.FormatCELType(want), hint)
		return nil, false
	}
	est, err := co.env.EstimateCost(ast, estimator{size: co.cfg.SizeHint})
	if err != nil {
		ps.add(field, "estimate cost: %v", err)
		return nil, false
	}
	if est.Max > co.cfg.MaxCost {
		ps.add(field, "estimated worst-case cost %d exceeds the limit %d (nested loops over document lists?)", est.Max, co.cfg.MaxCost)
		return nil, false
	}
	refs.walk(ast.NativeRep().Expr(), nil)
	var limit []cel.ProgramOption
	if co.cfg.RuntimeCostLimit > 0 {
		limit = append(limit, cel.CostLimit(co.cfg.RuntimeCostLimit))
	}
	plain, err := co.env.Program(ast, append(limit, cel.EvalOptions(cel.OptOptimize))...)
	if err != nil {
		ps.add(field, "plan program: %v", err)
		return nil, false
	}
	partial, err := co.env.Program(ast, append(limit, cel.EvalOptions(cel.OptOptimize, cel.OptPartialEval))...)
	if err != nil {
		ps.add(field, "plan partial program: %v", err)
		return nil, false
	}
	e := &expression{field: field, plain: plain, partial: partial, lib: co.fast}
	if co.fast != nil {
		e.fast, e.fastErr = co.fast.compileFast(ast.NativeRep())
	}
	return e, true
}

// estimator gives the static cost estimator sizes for document values (which the type
// checker only knows as dyn) and costs for the Go functions of the library.
type estimator struct{ size uint64 }

// nestedSize is the size of a document value: at most size elements, each of which (list
// elements, map keys and values) is again a document value, down to a depth beyond any
// AWS document. Without the nesting, a loop over the elements of a bound or computed
// list has an unknown (unbounded) cost.
func (e estimator) nestedSize() *cost.SizeEstimate {
	const depth = 12
	var sz *cost.SizeEstimate
	for range depth {
		sz = &cost.SizeEstimate{Min: 0, Max: e.size, Elem: sz, Key: sz}
	}
	return sz
}

func (e estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if sz := n.ComputedSize(); sz != nil && sz.Max != math.MaxUint64 {
		return nil
	}
	return e.nestedSize()
}

func (e estimator) EstimateCallCost(function, _ string, _ *cost.AstNode, _ []cost.AstNode) *cost.CallEstimate {
	switch {
	case function == "orValue" || function == operators.OptSelect || function == operators.OptIndex:
		// Optional access into a document: the value is a document value.
		return &cost.CallEstimate{CostEstimate: cost.Estimate{Min: 1, Max: 2}, ResultSize: &cost.SizeEstimate{Min: 0, Max: e.size}}
	case strings.HasPrefix(function, "iam."):
		// Policy evaluation walks statements x actions x resources.
		return &cost.CallEstimate{CostEstimate: cost.Estimate{Min: 1, Max: 100 * e.size}}
	case function == "related":
		return &cost.CallEstimate{CostEstimate: cost.Estimate{Min: 1, Max: e.size}, ResultSize: &cost.SizeEstimate{Min: 0, Max: e.size}}
	case strings.HasPrefix(function, "ports."), strings.HasPrefix(function, "json."):
		return &cost.CallEstimate{CostEstimate: cost.Estimate{Min: 1, Max: 10 * e.size}}
	case strings.HasPrefix(function, "cidr."), strings.HasPrefix(function, "tls."),
		strings.HasPrefix(function, "arn."), function == "age_days", function == "time.parse":
		return &cost.CallEstimate{CostEstimate: cost.Estimate{Min: 1, Max: 10}}
	}
	return nil
}

// propertyRefs collects the properties an expression reads, by walking the checked AST:
// resource.properties.Key, resource.properties["Key"], resource.properties.?Key and
// has(resource.properties.Key) name Key statically; any other use of
// resource.properties (or of the whole resource) is dynamic.
type propertyRefs struct {
	res, acc               map[string]bool
	resDynamic, accDynamic bool
}

// walk visits e; parent is e's parent or nil.
func (r *propertyRefs) walk(e celast.Expr, parent celast.Expr) {
	if e == nil {
		return
	}
	switch e.Kind() {
	case celast.IdentKind:
		// A bare document variable not under a select (passed whole to a function,
		// compared, iterated) may read any property.
		if parent == nil || parent.Kind() != celast.SelectKind && !isIndexOn(parent, e) {
			r.markDynamic(e.AsIdent())
		}
	case celast.SelectKind:
		s := e.AsSelect()
		if root, ok := propertiesOf(s.Operand()); ok {
			r.add(root, s.FieldName())
			return
		}
		if root, ok := propertiesOf(e); ok && !consumesKey(parent, e) {
			r.markDynamic(root)
		}
		r.walk(s.Operand(), e)
	case celast.CallKind:
		c := e.AsCall()
		if (c.FunctionName() == operators.Index || c.FunctionName() == operators.OptIndex || c.FunctionName() == operators.OptSelect) && len(c.Args()) == 2 {
			if root, ok := propertiesOf(c.Args()[0]); ok {
				if key, ok := stringLiteral(c.Args()[1]); ok {
					r.add(root, key)
					return
				}
			}
		}
		if c.IsMemberFunction() {
			r.walk(c.Target(), e)
		}
		for _, a := range c.Args() {
			r.walk(a, e)
		}
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			r.walk(el, e)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			r.walk(me.Key(), e)
			r.walk(me.Value(), e)
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			r.walk(f.AsStructField().Value(), e)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		r.walk(c.IterRange(), e)
		r.walk(c.AccuInit(), e)
		r.walk(c.LoopCondition(), e)
		r.walk(c.LoopStep(), e)
		r.walk(c.Result(), e)
	}
}

func (r *propertyRefs) add(root, key string) {
	if root == "resource" {
		r.res[key] = true
	} else {
		r.acc[key] = true
	}
}

func (r *propertyRefs) markDynamic(root string) {
	switch root {
	case "resource":
		r.resDynamic = true
	case "account":
		r.accDynamic = true
	}
}

// propertiesOf reports whether e is resource.properties or account.properties.
func propertiesOf(e celast.Expr) (string, bool) {
	if e.Kind() != celast.SelectKind {
		return "", false
	}
	s := e.AsSelect()
	if s.FieldName() != "properties" || s.Operand().Kind() != celast.IdentKind {
		return "", false
	}
	root := s.Operand().AsIdent()
	return root, root == "resource" || root == "account"
}

// consumesKey reports whether parent reads a constant key of e (handled by the caller
// before descending, so reaching here means it does not).
func consumesKey(parent, e celast.Expr) bool {
	return parent != nil && parent.Kind() == celast.SelectKind && parent.AsSelect().Operand() == e
}

func isIndexOn(parent, e celast.Expr) bool {
	if parent.Kind() != celast.CallKind {
		return false
	}
	c := parent.AsCall()
	return (c.FunctionName() == operators.Index || c.FunctionName() == operators.OptIndex || c.FunctionName() == operators.OptSelect) &&
		len(c.Args()) == 2 && c.Args()[0] == e && isStringLiteral(c.Args()[1])
}

func stringLiteral(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

func isStringLiteral(e celast.Expr) bool {
	_, ok := stringLiteral(e)
	return ok
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
