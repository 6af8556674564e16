package checks

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/vigilsec/vigil/checks/celfn"
	"github.com/vigilsec/vigil/checks/iampolicy"
	"github.com/vigilsec/vigil/providers"
)

// The fast path evaluates a checked CEL expression as a tree of Go closures over the
// document's own Go values (map[string]any, []any, string, float64, bool, nil), instead
// of cel-go's interpreter, which wraps every value it touches in a ref.Val. It is built
// once per expression, when the check is compiled, and covers the shapes checks are
// written in: property access, comparisons, &&, ||, !, ?:, in, has(), size(), type(),
// comprehensions (all, exists, map, filter, cel.bind), optional access and every
// function of the environment (called through cel-go's own bindings).
//
// Exactness rests on one rule: a closure either returns the value cel-go would return
// for the same node, or gives up (ok == false). Giving up covers every error (no such
// key, no such overload, overflow) and every value or case the closure does not handle
// natively; the whole expression is then evaluated again by the cel-go program, so
// errors carry cel-go's own messages and a case the fast path does not know costs time,
// never a different answer. Giving up inside `a && b` or `a || b` is treated as cel-go
// treats an error there: absorbed when the other side decides the result (false for &&,
// true for ||); likewise one deciding element decides all() (false) and exists()
// (true) whatever the other elements gave. That is exact even when the fast path gave
// up on a value cel-go would have computed, because the deciding value decides whatever
// the other value is. No other construct absorbs a give-up: non-strict functions and
// comprehension conditions give up when an argument does.
//
// Two deliberate differences in means, not in results: map keys are visited in sorted
// order (cel-go's order is Go's random map order, of which sorted is one), and what
// depends on the document alone is kept for the document and shared by its checks
// (top-level properties, results of the costly library functions, cel.bind values of
// loops): values are never modified during an evaluation.
//
// Values that are not among the native ones (a ref.Val returned by a function, a Go
// type that is not plain JSON) are "foreign": operations on them go through cel-go's own
// implementation (types.Equal, the function bindings), adapted with the environment's
// type adapter exactly as the interpreter adapts them.

// fastFn evaluates one node. ok == false means "give up" (see above).
type fastFn func(in *input) (v any, ok bool)

// fastExpr is the fast-path form of one expression.
type fastExpr struct {
	fn fastFn
	// str evaluates a string expression without boxing the result, when the root
	// node supports it (a concatenation, a string field).
	str func(*input) (string, bool)
	// slots is the number of comprehension variables the expression needs.
	slots int
	// gapSafe: every read of a document's properties is by a constant key and goes
	// through a node that knows collection gaps, so the expression may run on a
	// document with gaps (see unknownMark).
	gapSafe bool
}

// eval evaluates the expression on a prepared input. A panic (a bug in the fast path)
// is recovered by Check.eval, which then evaluates the check with cel-go alone.
func (f *fastExpr) eval(in *input) (v any, ok bool) {
	if len(in.slots) < f.slots {
		in.slots = make([]any, f.slots)
	}
	return f.fn(in)
}

// fastPanics counts the panics of the fast path (bugs: each one cost a cel-go
// evaluation, not a wrong result); the differential tests require none.
var fastPanics atomic.Int64

// evalString evaluates a string expression, without boxing when it can.
func (f *fastExpr) evalString(in *input) (s string, ok bool) {
	if f.str == nil {
		v, ok := f.eval(in)
		s, isString := v.(string)
		return s, ok && isString
	}
	if len(in.slots) < f.slots {
		in.slots = make([]any, f.slots)
	}
	return f.str(in)
}

// fastLib holds what every fast expression of a compiler shares: the function bindings
// of the environment, by overload id and by function name (as cel-go's dispatcher holds
// them), and the environment's type adapter and provider.
type fastLib struct {
	adapter   types.Adapter
	provider  types.Provider
	overloads map[string]*functions.Overload
}

func newFastLib(env *cel.Env) (*fastLib, error) {
	lib := &fastLib{adapter: env.CELTypeAdapter(), provider: env.CELTypeProvider(), overloads: map[string]*functions.Overload{}}
	for _, fn := range env.Functions() {
		bindings, err := fn.Bindings()
		if err != nil {
			return nil, fmt.Errorf("bindings of %s: %w", fn.Name(), err)
		}
		for _, b := range bindings {
			lib.overloads[b.Operator] = b
		}
	}
	return lib, nil
}

// adapt converts a fast-path value to the ref.Val cel-go would hold for it.
func (lib *fastLib) adapt(v any) ref.Val {
	return lib.adapter.NativeToValue(v)
}

// fromVal converts a cel-go value into the fast path's representation; ok is false for
// errors and unknowns. Lists and maps that wrap document values are unwrapped; other
// composite values stay ref.Val (foreign).
func fromVal(v ref.Val) (any, bool) {
	switch x := v.(type) {
	case types.Bool:
		return bool(x), true
	case types.String:
		return string(x), true
	case types.Double:
		return float64(x), true
	case types.Int:
		return int64(x), true
	case types.Uint:
		return uint64(x), true
	case types.Null:
		return nil, true
	case types.Timestamp:
		return x.Time, true
	case types.Duration:
		return x.Duration, true
	case *types.Err, *types.Unknown:
		return nil, false
	case traits.Mapper:
		if m, ok := x.Value().(map[string]any); ok {
			return m, true
		}
	case traits.Lister:
		if l, ok := x.Value().([]any); ok {
			return l, true
		}
	}
	return v, true
}

// toVal converts a fast-path result to the ref.Val the evaluator works with.
func (lib *fastLib) toVal(v any) ref.Val {
	switch x := v.(type) {
	case bool:
		return types.Bool(x)
	case string:
		return types.String(x)
	}
	return lib.adapt(v)
}

// slotError marks a comprehension variable whose value is an error: reading it gives up.
type slotError struct{}

// unknownMark is the value of a give-up (ok == false) that stands for an unknown of
// cel-go's partial evaluation: a read of a property the document lacks for a collection
// gap, where cel-go's attribute resolution matches the gap's pattern (the property, with
// or without more qualifiers, or has() of it). Every node that does not handle it turns
// it into a plain give-up (it returns nil, false), so an unknown only reaches the top
// through the nodes that reproduce cel-go's handling of unknowns exactly: strict
// operators and functions return the unknown of an argument (==, != and comparisons:
// unless the other side is an error, which the fast path does not know, so it gives
// up), && and || return an unknown when no side decides and no side gave up, all() and
// exists() likewise over their elements, and ?: passes its branch on. Where the fast
// path gives up, cel-go's partial evaluation answers.
var unknownMark any = unknownValue{}

type unknownValue struct{}

// isUnknown reports whether a node's result is the unknown mark.
func isUnknown(v any, ok bool) bool { return !ok && v == unknownMark }

// markOf is the value a node gives up with after an argument gave (v, ok) up: the
// unknown mark passes, anything else is a plain give-up.
func markOf(v any, ok bool) any {
	if isUnknown(v, ok) {
		return unknownMark
	}
	return nil
}

// hasGap reports whether the property is one of the gaps.
func hasGap(gaps []providers.Gap, key string) bool {
	for i := range gaps {
		if gaps[i].Property == key {
			return true
		}
	}
	return false
}

// emptyProps and emptyTags stand for a document's nil properties and tags, as
// fillDocumentMap does. Never modified.
var (
	emptyProps = map[string]any{}
	emptyTags  = map[string]string{}
)

// unsupportedError says why an expression is left to cel-go.
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string { return "not on the fast path: " + e.what }

func unsupported(format string, args ...any) error {
	return &unsupportedError{what: fmt.Sprintf(format, args...)}
}

// fastCompiler compiles one checked expression.
type fastCompiler struct {
	lib     *fastLib
	refMap  map[int64]*celast.ReferenceInfo
	typeMap map[int64]*types.Type
	// scope is the stack of comprehension variables in scope, innermost last.
	scope    []fastVar
	maxSlots int
	// gapUnsafe: a document's properties map (or the whole document) is used other
	// than through a gap-aware read.
	gapUnsafe bool
}

type fastVar struct {
	name string
	slot int
}

// node is a compiled subexpression; constant nodes carry their value. str, when set,
// reads a string-valued node without boxing the string (for concatenations).
type node struct {
	fn      fastFn
	isConst bool
	val     any
	str     func(*input) (string, bool)
	// local, when set, says that the node reads a field of a comprehension variable
	// (fn does that too), for parents that fuse the read into their own node.
	local *localField
}

// localField is a field of the map a comprehension variable holds.
type localField struct {
	slot  int
	field string
}

func constNode(v any) node {
	n := node{fn: func(*input) (any, bool) { return v, true }, isConst: true, val: v}
	if s, ok := v.(string); ok {
		n.str = func(*input) (string, bool) { return s, true }
	}
	return n
}

// compileFast builds the fast path of a checked expression, or says why it cannot.
func (lib *fastLib) compileFast(a *celast.AST) (*fastExpr, error) {
	c := &fastCompiler{lib: lib, refMap: a.ReferenceMap(), typeMap: a.TypeMap()}
	n, err := c.compile(a.Expr())
	if err != nil {
		return nil, err
	}
	return &fastExpr{fn: n.fn, str: n.str, slots: c.maxSlots, gapSafe: !c.gapUnsafe}, nil
}

func (c *fastCompiler) compile(e celast.Expr) (node, error) {
	switch e.Kind() {
	case celast.LiteralKind:
		v, ok := fromVal(e.AsLiteral())
		if !ok {
			return node{}, unsupported("literal %v", e.AsLiteral())
		}
		return constNode(v), nil
	case celast.IdentKind:
		return c.ident(e.ID(), e.AsIdent())
	case celast.SelectKind:
		return c.selectExpr(e)
	case celast.CallKind:
		return c.call(e)
	case celast.ListKind:
		return c.list(e)
	case celast.MapKind:
		return c.mapLiteral(e)
	case celast.ComprehensionKind:
		return c.comprehension(e)
	}
	return node{}, unsupported("expression kind %v", e.Kind())
}

// local returns the slot of the innermost comprehension variable called name.
func (c *fastCompiler) local(name string) (int, bool) {
	for i := len(c.scope) - 1; i >= 0; i-- {
		if c.scope[i].name == name {
			return c.scope[i].slot, true
		}
	}
	return 0, false
}

func (c *fastCompiler) push(names ...string) []int {
	slots := make([]int, len(names))
	for i, n := range names {
		slots[i] = len(c.scope)
		c.scope = append(c.scope, fastVar{name: n, slot: len(c.scope)})
	}
	c.maxSlots = max(c.maxSlots, len(c.scope))
	return slots
}

func (c *fastCompiler) pop(n int) { c.scope = c.scope[:len(c.scope)-n] }

// ident compiles a variable reference, resolved as cel-go's planner resolves it:
// constants and type names first, then comprehension variables, then the document
// variables.
func (c *fastCompiler) ident(id int64, name string) (node, error) {
	if r, ok := c.refMap[id]; ok {
		if r.Value != nil {
			v, ok := fromVal(r.Value)
			if !ok {
				return node{}, unsupported("constant %s", r.Name)
			}
			return constNode(v), nil
		}
		if t := c.typeMap[id]; t != nil && t.Kind() == types.TypeKind {
			tv, found := c.lib.provider.FindIdent(r.Name)
			if !found {
				return node{}, unsupported("type name %s", r.Name)
			}
			return constNode(tv), nil
		}
		name = r.Name
	}
	if slot, ok := c.local(name); ok {
		return node{fn: func(in *input) (any, bool) {
			v := in.slots[slot]
			if _, bad := v.(slotError); bad {
				return nil, false
			}
			return v, true
		}}, nil
	}
	switch name {
	case "resource":
		c.gapUnsafe = true
		return node{fn: func(in *input) (any, bool) { return in.resourceMap(), true }}, nil
	case "account":
		c.gapUnsafe = true
		return node{fn: func(in *input) (any, bool) { return in.accountMap(), true }}, nil
	case "now":
		return node{fn: func(in *input) (any, bool) { return in.nowAny, true }}, nil
	}
	return node{}, unsupported("variable %s", name)
}

// localIdent reports whether e is an identifier that c.ident resolves to a
// comprehension variable, and its slot.
func (c *fastCompiler) localIdent(e celast.Expr) (int, bool) {
	if e.Kind() != celast.IdentKind {
		return 0, false
	}
	name := e.AsIdent()
	if r, ok := c.refMap[e.ID()]; ok {
		if r.Value != nil {
			return 0, false
		}
		if t := c.typeMap[e.ID()]; t != nil && t.Kind() == types.TypeKind {
			return 0, false
		}
		name = r.Name
	}
	return c.local(name)
}

// documentRoot reports whether e is the document variable resource or account (not
// shadowed by a comprehension variable).
func (c *fastCompiler) documentRoot(e celast.Expr) (string, bool) {
	if e.Kind() != celast.IdentKind {
		return "", false
	}
	name := e.AsIdent()
	if r, ok := c.refMap[e.ID()]; ok {
		if r.Value != nil {
			return "", false
		}
		name = r.Name
	}
	if _, shadowed := c.local(name); shadowed {
		return "", false
	}
	return name, name == "resource" || name == "account"
}

func (c *fastCompiler) selectExpr(e celast.Expr) (node, error) {
	if r, ok := c.refMap[e.ID()]; ok {
		// A qualified identifier resolved by the checker.
		return c.ident(e.ID(), r.Name)
	}
	sel := e.AsSelect()
	field := sel.FieldName()
	if root, ok := c.propertiesRoot(sel.Operand()); ok {
		return c.propertyField(root, field, sel.IsTestOnly()), nil
	}
	if sel.IsTestOnly() {
		op, err := c.compile(sel.Operand())
		if err != nil {
			return node{}, err
		}
		return node{fn: func(in *input) (any, bool) {
			v, ok := op.fn(in)
			if !ok {
				return nil, false
			}
			switch m := v.(type) {
			case map[string]any:
				_, has := m[field]
				return has, true
			case map[string]string:
				_, has := m[field]
				return has, true
			case nil, bool, string, float64, int64, uint64:
				// cel-go's presence test on a scalar is false, not an error.
				return false, true
			}
			return nil, false
		}}, nil
	}
	if root, ok := c.documentRoot(sel.Operand()); ok {
		if field == "properties" {
			c.gapUnsafe = true
		}
		return documentField(root, field), nil
	}
	if n, ok := c.propertyPath(e); ok {
		return n, nil
	}
	if slot, ok := c.localIdent(sel.Operand()); ok {
		// A field of a comprehension variable (rule.FromPort), the commonest
		// selection inside loops: one node instead of the variable's and the
		// selection's.
		lib := c.lib
		return node{fn: func(in *input) (any, bool) {
			v := in.slots[slot]
			if m, isMap := v.(map[string]any); isMap {
				x, found := m[field]
				if !found {
					return nil, false
				}
				return normalize(x), true
			}
			if _, bad := v.(slotError); bad {
				return nil, false
			}
			return lib.selectKey(v, field)
		}, local: &localField{slot: slot, field: field}}, nil
	}
	op, err := c.compile(sel.Operand())
	if err != nil {
		return node{}, err
	}
	lib := c.lib
	return node{fn: func(in *input) (any, bool) {
		v, ok := op.fn(in)
		if !ok {
			return nil, false
		}
		if m, isMap := v.(map[string]any); isMap {
			// The common case of selectKey, without the call.
			x, found := m[field]
			if !found {
				return nil, false
			}
			return normalize(x), true
		}
		return lib.selectKey(v, field)
	}}, nil
}

// propertiesRoot reports whether e is resource.properties or account.properties (the
// document variable not shadowed).
func (c *fastCompiler) propertiesRoot(e celast.Expr) (string, bool) {
	if e.Kind() != celast.SelectKind || e.AsSelect().IsTestOnly() || e.AsSelect().FieldName() != "properties" {
		return "", false
	}
	if _, resolved := c.refMap[e.ID()]; resolved {
		return "", false
	}
	return c.documentRoot(e.AsSelect().Operand())
}

// propertyField compiles resource.properties.K, account.properties.K and has() of
// them: a property that is a gap of the document reads as unknown, as the gap's
// attribute pattern makes it in cel-go's partial evaluation.
func (c *fastCompiler) propertyField(root, key string, test bool) node {
	if root == "resource" && !test {
		return c.lib.resourcePath([]string{key})
	}
	return node{fn: func(in *input) (any, bool) {
		gaps, props := in.resGaps, in.doc.Resource.Properties
		if root == "account" {
			if in.doc.Account == nil {
				// No account document: `account` is an empty map.
				return nil, false
			}
			gaps, props = in.accGaps, in.doc.Account.Properties
		}
		if len(gaps) > 0 && hasGap(gaps, key) {
			return unknownMark, false
		}
		v, found := props[key]
		if test {
			return found, true
		}
		if !found {
			return nil, false
		}
		return normalize(v), true
	}}
}

// propertyPath compiles resource.properties.A.B.C (field selections all the way) as
// one node: the top-level property is read through the document's property cache
// (the checks of one resource read the same few properties), the rest map by map.
func (c *fastCompiler) propertyPath(e celast.Expr) (node, bool) {
	var path []string // innermost first after the reversal below
	x := e
	for x.Kind() == celast.SelectKind && !x.AsSelect().IsTestOnly() {
		if _, resolved := c.refMap[x.ID()]; resolved {
			return node{}, false
		}
		path = append(path, x.AsSelect().FieldName())
		x = x.AsSelect().Operand()
		if root, ok := c.documentRoot(x); ok {
			if root != "resource" || len(path) < 2 || path[len(path)-1] != "properties" {
				return node{}, false
			}
			path = path[:len(path)-1]
			slices.Reverse(path)
			return c.lib.resourcePath(path), true
		}
	}
	return node{}, false
}

// resourcePath reads resource.properties.<path...>.
func (lib *fastLib) resourcePath(path []string) node {
	slot := resourceSlots.slot(path[0])
	key, rest := path[0], path[1:]
	return node{fn: func(in *input) (any, bool) {
		v, ok := in.property(slot, key)
		if !ok {
			return v, false // the unknown mark of a gap passes
		}
		for _, k := range rest {
			if m, isMap := v.(map[string]any); isMap {
				if v, ok = m[k]; !ok {
					return nil, false
				}
				v = normalize(v)
				continue
			}
			if v, ok = lib.selectKey(v, k); !ok {
				return nil, false
			}
		}
		return v, true
	}}
}

// slotTable numbers names (top-level properties, sets of evidence keys) for the
// per-document caches of input, which are slices indexed by number. The tables are
// process-wide, so that checks compiled by different compilers and evaluated on one
// input agree on the numbers; they only grow, by the distinct names checks mention.
type slotTable struct {
	mu    sync.Mutex
	slots map[string]int
}

var (
	// resourceSlots and accountSlots number the top-level properties of the resource
	// and of the account document; evidenceSlots the sets of evidence keys;
	// bindingSlots the shared cel.bind values (by the structure of their expression).
	resourceSlots = &slotTable{slots: map[string]int{}}
	accountSlots  = &slotTable{slots: map[string]int{}}
	evidenceSlots = &slotTable{slots: map[string]int{}}
	bindingSlots  = &slotTable{slots: map[string]int{}}
)

// bindingEntry is a shared cel.bind value of the document of generation gen.
type bindingEntry struct {
	gen uint32
	r   memoResult
}

// binding returns the shared cel.bind value id of the document, when computed.
func (in *input) binding(id int) (memoResult, bool) {
	if id < len(in.bindings) && in.bindings[id].gen == in.props.gen {
		return in.bindings[id].r, true
	}
	return memoResult{}, false
}

func (in *input) setBinding(id int, r memoResult) {
	if id >= len(in.bindings) {
		in.bindings = append(in.bindings, make([]bindingEntry, max(id+1, 2*len(in.bindings), 16)-len(in.bindings))...)
	}
	in.bindings[id] = bindingEntry{gen: in.props.gen, r: r}
	in.bindingsUsed = append(in.bindingsUsed, int32(id))
}

// slot returns the number of name, assigning the next one on first use.
func (t *slotTable) slot(name string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.slots[name]; ok {
		return s
	}
	s := len(t.slots)
	t.slots[name] = s
	return s
}

// propertyCache holds the top-level properties of one document read so far, by slot,
// as the document has them. An entry is valid when its generation is the document's.
type propertyCache struct {
	vals []any
	gens []uint32
	gen  uint32
	// used lists the filled slots, which release clears.
	used []int32
}

// next invalidates the cache for a new document.
func (pc *propertyCache) next() {
	pc.gen++
	if pc.gen == 0 {
		clear(pc.gens)
		pc.gen = 1
	}
}

// release drops the values of the current document.
func (pc *propertyCache) release() {
	for _, s := range pc.used {
		pc.vals[s] = nil
	}
	pc.used = pc.used[:0]
}

func (pc *propertyCache) grow(slot int) {
	if slot < len(pc.gens) {
		return
	}
	n := max(slot+1, 2*len(pc.gens), 16)
	pc.vals = append(pc.vals, make([]any, n-len(pc.vals))...)
	pc.gens = append(pc.gens, make([]uint32, n-len(pc.gens))...)
}

// noProperty marks a property the document does not have.
type noProperty struct{}

// get returns props[key] through the cache, as the document has it.
func (pc *propertyCache) get(slot int, key string, props map[string]any) (any, bool) {
	if slot < len(pc.gens) && pc.gens[slot] == pc.gen {
		v := pc.vals[slot]
		if _, missing := v.(noProperty); missing {
			return nil, false
		}
		return v, true
	}
	pc.grow(slot)
	v, ok := props[key]
	pc.gens[slot] = pc.gen
	pc.used = append(pc.used, int32(slot))
	if !ok {
		pc.vals[slot] = noProperty{}
		return nil, false
	}
	pc.vals[slot] = v
	return v, true
}

// property reads resource.properties[key] through the cache, as CEL sees it: the
// unknown mark when the property is a gap of the document.
func (in *input) property(slot int, key string) (any, bool) {
	if len(in.resGaps) > 0 && hasGap(in.resGaps, key) {
		return unknownMark, false
	}
	v, ok := in.props.get(slot, key, in.doc.Resource.Properties)
	if !ok {
		return nil, false
	}
	return normalize(v), true
}

// documentField reads a field of the resource or account document straight from the
// providers.Resource, as the map fillDocumentMap builds would give it (without
// building the map).
func documentField(root, field string) node {
	doc := func(in *input) *providers.Resource { return &in.doc.Resource }
	if root == "account" {
		doc = func(in *input) *providers.Resource { return in.doc.Account }
	}
	var get func(r *providers.Resource) any
	switch field {
	case "properties":
		if root == "resource" {
			// The hot path: one field read, no nil account to consider.
			return node{fn: func(in *input) (any, bool) {
				if p := in.doc.Resource.Properties; p != nil {
					return p, true
				}
				return emptyProps, true
			}}
		}
		get = func(r *providers.Resource) any {
			if r.Properties == nil {
				return emptyProps
			}
			return r.Properties
		}
	case "tags":
		get = func(r *providers.Resource) any {
			if r.Tags == nil {
				return emptyTags
			}
			return r.Tags
		}
	case "provider", "account_id", "native_id", "type", "region", "name":
		str := map[string]func(r *providers.Resource) string{
			"provider":   func(r *providers.Resource) string { return r.Provider },
			"account_id": func(r *providers.Resource) string { return r.AccountID },
			"native_id":  func(r *providers.Resource) string { return r.NativeID },
			"type":       func(r *providers.Resource) string { return r.Type },
			"region":     func(r *providers.Resource) string { return r.Region },
			"name":       func(r *providers.Resource) string { return r.Name },
		}[field]
		return node{
			fn: func(in *input) (any, bool) {
				r := doc(in)
				if r == nil {
					return nil, false
				}
				return str(r), true
			},
			str: func(in *input) (string, bool) {
				r := doc(in)
				if r == nil {
					return "", false
				}
				return str(r), true
			},
		}
	default:
		// The document map has exactly the fields above: any other is "no such key".
		return node{fn: func(*input) (any, bool) { return nil, false }}
	}
	return node{fn: func(in *input) (any, bool) {
		r := doc(in)
		if r == nil {
			// No account document: `account` is an empty map.
			return nil, false
		}
		return get(r), true
	}}
}

// selectKey implements field selection and constant-key indexing: a map key, or the
// optional chain of cel-go's attributes (selecting on an optional selects on its value
// and gives optional.none() when the key is absent).
func (lib *fastLib) selectKey(v any, key string) (any, bool) {
	switch m := v.(type) {
	case map[string]any:
		x, ok := m[key]
		if !ok {
			return nil, false
		}
		return normalize(x), true
	case map[string]string:
		x, ok := m[key]
		if !ok {
			return nil, false
		}
		return x, true
	case *types.Optional:
		return lib.optionalKey(m, key)
	}
	return nil, false
}

// optionalKey selects key on an optional map value: none stays none, an absent key
// gives none, a present one optional.of(value).
func (lib *fastLib) optionalKey(o *types.Optional, key string) (any, bool) {
	if !o.HasValue() {
		return o, true
	}
	inner, ok := fromVal(o.GetValue())
	if !ok {
		return nil, false
	}
	switch m := inner.(type) {
	case map[string]any:
		x, found := m[key]
		if !found {
			return types.OptionalNone, true
		}
		return types.OptionalOf(lib.adapt(normalize(x))), true
	case map[string]string:
		x, found := m[key]
		if !found {
			return types.OptionalNone, true
		}
		return types.OptionalOf(types.String(x)), true
	}
	return nil, false
}

// normalize turns the *string fields of document maps into strings (cel-go reads them
// as strings too).
func normalize(x any) any {
	if p, ok := x.(*string); ok {
		return *p
	}
	return x
}

// isNative reports whether v is one of the values the fast path handles itself.
func isNative(v any) bool {
	switch v.(type) {
	case nil, bool, string, float64, int64, uint64, []any, map[string]any, time.Time, time.Duration:
		return true
	}
	return false
}

// equal is CEL's heterogeneous equality (types.Equal) over fast-path values.
func (lib *fastLib) equal(a, b any) bool {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case nil:
		if b == nil {
			return true
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case int64:
			return !math.IsNaN(x) && compareDoubleInt(x, y) == 0
		case uint64:
			return !math.IsNaN(x) && compareDoubleUint(x, y) == 0
		}
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return !math.IsNaN(y) && compareDoubleInt(y, x) == 0
		case uint64:
			return compareIntUint(x, y) == 0
		}
	case uint64:
		switch y := b.(type) {
		case uint64:
			return x == y
		case float64:
			return !math.IsNaN(y) && compareDoubleUint(y, x) == 0
		case int64:
			return compareIntUint(y, x) == 0
		}
	case []any:
		if y, ok := b.([]any); ok {
			if len(x) != len(y) {
				return false
			}
			for i := range x {
				if !lib.equal(x[i], y[i]) {
					return false
				}
			}
			return true
		}
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			if len(x) != len(y) {
				return false
			}
			for k, xv := range x {
				yv, found := y[k]
				if !found || !lib.equal(normalize(xv), normalize(yv)) {
					return false
				}
			}
			return true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Equal(y)
		}
	case time.Duration:
		if y, ok := b.(time.Duration); ok {
			return x == y
		}
	case *types.Type:
		if y, ok := b.(*types.Type); ok {
			return x.TypeName() == y.TypeName()
		}
	}
	if isNative(a) && isNative(b) {
		// Two native values of different kinds (numbers handled above) are never equal.
		return false
	}
	return types.Equal(lib.adapt(a), lib.adapt(b)) == types.True
}

// equalTo returns equal(·, c) for a constant c (equal(c, ·) when left), with the
// constant's kind resolved once. Equality between native values is symmetric; the
// order is kept for the foreign values that go to cel-go.
func (lib *fastLib) equalTo(c any, left bool) func(any) bool {
	general := func(a any) bool {
		if left {
			return lib.equal(c, a)
		}
		return lib.equal(a, c)
	}
	switch x := c.(type) {
	case nil:
		return func(a any) bool {
			if a == nil {
				return true
			}
			if isNative(a) {
				return false
			}
			return general(a)
		}
	case string:
		return func(a any) bool {
			if s, ok := a.(string); ok {
				return s == x
			}
			if isNative(a) {
				return false
			}
			return general(a)
		}
	case bool:
		return func(a any) bool {
			if b, ok := a.(bool); ok {
				return b == x
			}
			if isNative(a) {
				return false
			}
			return general(a)
		}
	case float64:
		return func(a any) bool {
			if f, ok := a.(float64); ok {
				return f == x
			}
			return general(a)
		}
	}
	return general
}

// The numeric comparisons of cel-go's types (compare.go), over Go numbers. NaN is
// handled by the callers.
func compareDoubleInt(d float64, i int64) int {
	if d < math.MinInt64 {
		return -1
	}
	if d > math.MaxInt64 {
		return 1
	}
	return compareFloat(d, float64(i))
}

func compareDoubleUint(d float64, u uint64) int {
	if d < 0 {
		return -1
	}
	if d > math.MaxUint64 {
		return 1
	}
	return compareFloat(d, float64(u))
}

func compareIntUint(i int64, u uint64) int {
	if i < 0 || u > math.MaxInt64 {
		return -1
	}
	switch d := i - int64(u); {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareOrdered[T int64 | uint64 | string | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare is the Compare of cel-go's types for the native values; ok is false when the
// values are not comparable natively (the caller then asks cel-go).
func compare(a, b any) (int, bool) {
	switch x := a.(type) {
	case float64:
		if math.IsNaN(x) {
			return 0, false
		}
		switch y := b.(type) {
		case float64:
			if math.IsNaN(y) {
				return 0, false
			}
			return compareFloat(x, y), true
		case int64:
			return compareDoubleInt(x, y), true
		case uint64:
			return compareDoubleUint(x, y), true
		}
	case int64:
		switch y := b.(type) {
		case int64:
			return compareOrdered(x, y), true
		case float64:
			if math.IsNaN(y) {
				return 0, false
			}
			return -compareDoubleInt(y, x), true
		case uint64:
			return compareIntUint(x, y), true
		}
	case uint64:
		switch y := b.(type) {
		case uint64:
			return compareOrdered(x, y), true
		case float64:
			if math.IsNaN(y) {
				return 0, false
			}
			return -compareDoubleUint(y, x), true
		case int64:
			return -compareIntUint(y, x), true
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0, true
			case !x:
				return -1, true
			}
			return 1, true
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			switch {
			case x.Before(y):
				return -1, true
			case x.After(y):
				return 1, true
			}
			return 0, true
		}
	case time.Duration:
		if y, ok := b.(time.Duration); ok {
			return compareOrdered(x, y), true
		}
	}
	return 0, false
}

// call compiles a function call: the operators and functions the fast path knows, and
// every other function through its cel-go binding.
func (c *fastCompiler) call(e celast.Expr) (node, error) {
	call := e.AsCall()
	fn := call.FunctionName()
	argExprs := call.Args()
	if call.IsMemberFunction() {
		argExprs = append([]celast.Expr{call.Target()}, argExprs...)
	}
	var ids []string
	if r, ok := c.refMap[e.ID()]; ok {
		ids = r.OverloadIDs
	}

	// Peephole: x.?k.orValue(d) and x[?k].orValue(d) without building the optional.
	if fn == "orValue" && len(argExprs) == 2 && onlyOverloads(ids, "optional_orValue_value") {
		if n, ok, err := c.orValueOfOptionalKey(argExprs[0], argExprs[1]); ok || err != nil {
			return n, err
		}
	}

	args := make([]node, len(argExprs))
	for i, a := range argExprs {
		n, err := c.compile(a)
		if err != nil {
			return node{}, err
		}
		args[i] = n
	}
	lib := c.lib
	switch fn {
	case operators.LogicalAnd:
		return logical(args, false), nil
	case operators.LogicalOr:
		return logical(args, true), nil
	case operators.Conditional:
		cond, t, f := args[0].fn, args[1].fn, args[2].fn
		return node{fn: func(in *input) (any, bool) {
			v, ok := cond(in)
			b, isBool := v.(bool)
			if !ok || !isBool {
				// An unknown condition is the result (cel-go's conditional attribute).
				return markOf(v, ok), false
			}
			if b {
				return t(in)
			}
			return f(in)
		}}, nil
	case operators.Equals, operators.NotEquals:
		l, r := args[0].fn, args[1].fn
		want := fn == operators.Equals
		if args[0].isConst != args[1].isConst {
			// One side is a constant: its kind is resolved once.
			var eq func(any) bool
			if args[0].isConst {
				l, eq = r, lib.equalTo(args[0].val, true)
			} else {
				eq = lib.equalTo(args[1].val, false)
			}
			ci, vi := 1, 0
			if args[0].isConst {
				ci, vi = 0, 1
			}
			if lf := args[vi].local; lf != nil && args[ci].val == nil {
				// rule.IpRanges != null: the field read and the test in one node.
				slot, field := lf.slot, lf.field
				return node{fn: func(in *input) (any, bool) {
					var a any
					if m, isMap := in.slots[slot].(map[string]any); isMap {
						x, found := m[field]
						if !found {
							return nil, false
						}
						a = normalize(x)
					} else {
						var ok bool
						if a, ok = l(in); !ok {
							return markOf(a, ok), false
						}
					}
					if a == nil {
						return want, true
					}
					return eq(a) == want, true
				}}, nil
			}
			if cs, isString := args[ci].val.(string); isString {
				// The commonest comparison (rule.IpProtocol == '-1'): a string
				// operand is compared here, anything else by eq.
				if lf := args[vi].local; lf != nil {
					slot, field := lf.slot, lf.field
					return node{fn: func(in *input) (any, bool) {
						var a any
						if m, isMap := in.slots[slot].(map[string]any); isMap {
							x, found := m[field]
							if !found {
								return nil, false
							}
							a = normalize(x)
						} else {
							var ok bool
							if a, ok = l(in); !ok {
								return markOf(a, ok), false
							}
						}
						if as, ok := a.(string); ok {
							return (as == cs) == want, true
						}
						return eq(a) == want, true
					}}, nil
				}
				return node{fn: func(in *input) (any, bool) {
					a, ok := l(in)
					if !ok {
						return markOf(a, ok), false
					}
					if as, ok := a.(string); ok {
						return (as == cs) == want, true
					}
					return eq(a) == want, true
				}}, nil
			}
			return node{fn: func(in *input) (any, bool) {
				a, ok := l(in)
				if !ok {
					return markOf(a, ok), false // a constant is never an error
				}
				return eq(a) == want, true
			}}, nil
		}
		return node{fn: func(in *input) (any, bool) {
			// cel-go: an error of either side is the result, else an unknown of either.
			a, aok := l(in)
			if !aok && !isUnknown(a, aok) {
				return nil, false
			}
			b, bok := r(in)
			if !bok && !isUnknown(b, bok) {
				return nil, false
			}
			if !aok || !bok {
				return unknownMark, false
			}
			return lib.equal(a, b) == want, true
		}}, nil
	case operators.Index:
		return index(lib, args[0].fn, args[1].fn), nil
	case operators.OptSelect, operators.OptIndex:
		return optionalIndex(lib, args[0].fn, args[1].fn), nil
	case operators.LogicalNot:
		if len(args) == 1 {
			a := args[0].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := a(in)
				b, isBool := v.(bool)
				if !ok || !isBool {
					return markOf(v, ok), false
				}
				return !b, true
			}}, nil
		}
	case operators.NotStrictlyFalse:
		if len(args) == 1 {
			a := args[0].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := a(in)
				if !ok {
					return nil, false // cel-go would say true for an error; the caller gives up anyway
				}
				if b, isBool := v.(bool); isBool {
					return b, true
				}
				return true, true
			}}, nil
		}
	case operators.In:
		if len(args) == 2 {
			return c.in(args, ids)
		}
	case operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		if len(args) == 2 {
			slow, err := c.generic(fn, ids, len(args))
			if err != nil {
				return node{}, err
			}
			l, r := args[0].fn, args[1].fn
			test := map[string]func(int) bool{
				operators.Less:          func(x int) bool { return x < 0 },
				operators.LessEquals:    func(x int) bool { return x <= 0 },
				operators.Greater:       func(x int) bool { return x > 0 },
				operators.GreaterEquals: func(x int) bool { return x >= 0 },
			}[fn]
			return node{fn: func(in *input) (any, bool) {
				// A strict binary function: an unknown or error of the left side is
				// the result, else one of the right side.
				a, ok := l(in)
				if !ok {
					return markOf(a, ok), false
				}
				b, ok := r(in)
				if !ok {
					return markOf(b, ok), false
				}
				if cmp, ok := compare(a, b); ok {
					return test(cmp), true
				}
				return slow.call2(a, b)
			}}, nil
		}
	case operators.Add:
		if len(args) == 2 && !call.IsMemberFunction() {
			return c.addChain(e)
		}
	case overloads.Size:
		if len(args) == 1 && onlyOverloads(ids, overloads.SizeString, overloads.SizeBytes, overloads.SizeList, overloads.SizeMap,
			overloads.SizeStringInst, overloads.SizeBytesInst, overloads.SizeListInst, overloads.SizeMapInst) {
			slow, err := c.generic(fn, ids, len(args))
			if err != nil {
				return node{}, err
			}
			a := args[0].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := a(in)
				if !ok {
					return markOf(v, ok), false
				}
				switch x := v.(type) {
				case string:
					return int64(utf8.RuneCountInString(x)), true
				case []any:
					return int64(len(x)), true
				case map[string]any:
					return int64(len(x)), true
				case map[string]string:
					return int64(len(x)), true
				}
				return slow.call1(v)
			}}, nil
		}
	case overloads.TypeConvertType:
		if len(args) == 1 && !call.IsMemberFunction() && onlyOverloads(ids, overloads.TypeConvertType) {
			slow, err := c.generic(fn, ids, len(args))
			if err != nil {
				return node{}, err
			}
			a := args[0].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := a(in)
				if !ok {
					return nil, false
				}
				if t := nativeType(v); t != nil {
					return t, true
				}
				return slow.call1(v)
			}}, nil
		}
	case overloads.Contains, overloads.StartsWith, overloads.EndsWith:
		if len(args) == 2 && call.IsMemberFunction() && onlyOverloads(ids, overloads.ContainsString, overloads.StartsWithString, overloads.EndsWithString) {
			test := map[string]func(string, string) bool{
				overloads.Contains: strings.Contains, overloads.StartsWith: strings.HasPrefix, overloads.EndsWith: strings.HasSuffix,
			}[fn]
			return stringTest(args[0].fn, args[1].fn, test), nil
		}
	case "replace":
		// ext.Strings: replace every occurrence (the string_replace_string_string
		// overload, strings.ReplaceAll).
		if len(args) == 3 && call.IsMemberFunction() && onlyOverloads(ids, "string_replace_string_string") {
			str, old, repl := args[0].fn, args[1].fn, args[2].fn
			return node{fn: func(in *input) (any, bool) {
				var s [3]string
				for i, f := range [3]fastFn{str, old, repl} {
					v, ok := f(in)
					if !ok {
						return nil, false
					}
					if s[i], ok = v.(string); !ok {
						return nil, false
					}
				}
				return strings.ReplaceAll(s[0], s[1], s[2]), true
			}}, nil
		}
	case overloads.Matches:
		if len(args) == 2 && args[1].isConst && onlyOverloads(ids, overloads.Matches, overloads.MatchesString) {
			pattern, ok := args[1].val.(string)
			if !ok {
				break
			}
			re, err := regexp.Compile(pattern)
			if err != nil {
				return node{}, unsupported("regular expression %q: %v", pattern, err)
			}
			return stringTest(args[0].fn, args[1].fn, func(s, _ string) bool { return re.MatchString(s) }), nil
		}
	case "orValue":
		if len(args) == 2 && onlyOverloads(ids, "optional_orValue_value") {
			opt, alt := args[0].fn, args[1].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := opt(in)
				if !ok {
					return nil, false
				}
				o, isOpt := v.(*types.Optional)
				if !isOpt {
					return nil, false
				}
				if o.HasValue() {
					return fromVal(o.GetValue())
				}
				return alt(in)
			}}, nil
		}
	case "or":
		if len(args) == 2 && onlyOverloads(ids, "optional_or_optional") {
			opt, alt := args[0].fn, args[1].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := opt(in)
				if !ok {
					return nil, false
				}
				o, isOpt := v.(*types.Optional)
				if !isOpt {
					return nil, false
				}
				if o.HasValue() {
					return o, true
				}
				return alt(in)
			}}, nil
		}
	case "related":
		if len(args) == 1 && !call.IsMemberFunction() {
			a := args[0].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := a(in)
				kind, isString := v.(string)
				if !ok || !isString {
					return nil, false
				}
				return in.relatedList(kind), true
			}}, nil
		}
		return node{}, unsupported("related with %d arguments", len(args))
	case "ports.open_to_internet", "ports.exposed", "join", "sort":
		if n, ok, err := c.nativeCall(fn, ids, args, call.IsMemberFunction()); ok || err != nil {
			return n, err
		}
	case "iam.is_public", "iam.grants_admin", "iam.allows":
		if n, ok := policyCall(fn, ids, args, call.IsMemberFunction()); ok {
			return n, nil
		}
	case "age_days":
		if len(args) == 1 && !call.IsMemberFunction() {
			a := args[0].fn
			return node{fn: func(in *input) (any, bool) {
				v, ok := a(in)
				if !ok {
					return nil, false
				}
				return fromVal(celfn.AgeDaysVal(lib.adapt(v), in.now))
			}}, nil
		}
		return node{}, unsupported("age_days with %d arguments", len(args))
	}
	g, err := c.generic(fn, ids, len(args))
	if err != nil {
		return node{}, err
	}
	if overloads.IsTypeConversionFunction(fn) && allConst(args) {
		// cel-go folds conversions of constants (duration("1h")) when planning.
		vals := make([]any, len(args))
		for i, a := range args {
			vals[i] = a.val
		}
		if v, ok := g.callN(vals); ok {
			return constNode(v), nil
		}
	}
	switch len(args) {
	case 1:
		a := args[0].fn
		if memoized(fn) {
			return node{fn: func(in *input) (any, bool) {
				x, ok := a(in)
				if !ok {
					return nil, false
				}
				return in.memoCall(g, x)
			}}, nil
		}
		return node{fn: func(in *input) (any, bool) {
			x, ok := a(in)
			if !ok {
				return nil, false
			}
			return g.call1(x)
		}}, nil
	case 2:
		a, b := args[0].fn, args[1].fn
		return node{fn: func(in *input) (any, bool) {
			x, ok := a(in)
			if !ok {
				return nil, false
			}
			y, ok := b(in)
			if !ok {
				return nil, false
			}
			return g.call2(x, y)
		}}, nil
	}
	fns := make([]fastFn, len(args))
	for i, a := range args {
		fns[i] = a.fn
	}
	return node{fn: func(in *input) (any, bool) {
		vals := make([]any, len(fns))
		for i, f := range fns {
			v, ok := f(in)
			if !ok {
				return nil, false
			}
			vals[i] = v
		}
		return g.callN(vals)
	}}, nil
}

// addChain compiles a + b + c + ... (left-nested _+_ calls) as one node: when every
// operand is a string, the result is built with one allocation; otherwise the
// operands are combined pairwise, left to right, as the nested calls would.
func (c *fastCompiler) addChain(e celast.Expr) (node, error) {
	var nodes []celast.Expr // outermost first
	for x := e; ; {
		nodes = append(nodes, x)
		l := x.AsCall().Args()[0]
		if l.Kind() != celast.CallKind || l.AsCall().FunctionName() != operators.Add || len(l.AsCall().Args()) != 2 || l.AsCall().IsMemberFunction() {
			break
		}
		x = l
	}
	slices.Reverse(nodes) // innermost first
	first, err := c.compile(nodes[0].AsCall().Args()[0])
	if err != nil {
		return node{}, err
	}
	operands := []node{first}
	steps := make([]*genericCall, len(nodes))
	for i, n := range nodes {
		r, err := c.compile(n.AsCall().Args()[1])
		if err != nil {
			return node{}, err
		}
		operands = append(operands, r)
		var ids []string
		if ref, ok := c.refMap[n.ID()]; ok {
			ids = ref.OverloadIDs
		}
		if steps[i], err = c.generic(operators.Add, ids, 2); err != nil {
			return node{}, err
		}
	}
	if n, ok := stringChain(operands); ok {
		return n, nil
	}
	// eval returns the concatenation when every operand is a string (all == true),
	// else the pairwise result.
	eval := func(in *input) (str string, v any, all, ok bool) {
		var sbuf [8]string
		var vbuf [8]any
		strs, vals := sbuf[:0], vbuf[:0]
		allStrings, size := true, 0
		for _, op := range operands {
			if op.str != nil {
				s, ok := op.str(in)
				if !ok {
					return "", nil, false, false
				}
				strs = append(strs, s)
				vals = append(vals, nil)
				size += len(s)
				continue
			}
			v, ok := op.fn(in)
			if !ok {
				return "", nil, false, false
			}
			s, isString := v.(string)
			allStrings = allStrings && isString
			strs = append(strs, s)
			vals = append(vals, v)
			size += len(s)
		}
		if allStrings {
			var b strings.Builder
			b.Grow(size)
			for _, s := range strs {
				b.WriteString(s)
			}
			return b.String(), nil, true, true
		}
		for i, op := range operands {
			if op.str != nil {
				vals[i] = strs[i]
			}
		}
		acc := vals[0]
		for i, step := range steps {
			var ok bool
			if acc, ok = add(step, acc, vals[i+1]); !ok {
				return "", nil, false, false
			}
		}
		return "", acc, false, true
	}
	return node{
		fn: func(in *input) (any, bool) {
			s, v, all, ok := eval(in)
			if !ok {
				return nil, false
			}
			if all {
				return s, true
			}
			return v, true
		},
		// A concatenation that is not of strings only gives up here; the caller then
		// takes the general path.
		str: func(in *input) (string, bool) {
			s, _, all, ok := eval(in)
			return s, ok && all
		},
	}, nil
}

// stringChain compiles a + b + c + ... of which an operand is known to be a string (a
// string constant or a string field of the document): _+_ of a string and anything
// but a string is an error, so the chain is a concatenation of strings or an error,
// and any operand that is not a string gives up. The result is built with one
// allocation.
func stringChain(operands []node) (node, bool) {
	known := false
	strs := make([]func(*input) (string, bool), len(operands))
	for i, op := range operands {
		if op.str != nil {
			known = true
			strs[i] = op.str
			continue
		}
		f := op.fn
		strs[i] = func(in *input) (string, bool) {
			v, ok := f(in)
			s, isString := v.(string)
			return s, ok && isString
		}
	}
	if !known || len(strs) > 8 {
		return node{}, false
	}
	concat := func(in *input) (string, bool) {
		var buf [8]string
		size := 0
		for i, f := range strs {
			s, ok := f(in)
			if !ok {
				return "", false
			}
			buf[i] = s
			size += len(s)
		}
		if size == 0 {
			return "", true
		}
		b := in.strs.alloc(size)
		for _, s := range buf[:len(strs)] {
			b = append(b, s...)
		}
		return unsafe.String(unsafe.SliceData(b), len(b)), true
	}
	return node{
		fn: func(in *input) (any, bool) {
			s, ok := concat(in)
			if !ok {
				return nil, false
			}
			return s, true
		},
		str: concat,
	}, true
}

// stringArena hands out the bytes of the strings the fast path builds (messages and
// other concatenations) from shared chunks instead of one allocation each: two in five
// results fail, and each failure's message was an allocation of its own. Bytes are
// only ever appended to a chunk, never rewritten, so a string stays valid for as long
// as it is referenced (it keeps its chunk alive: at most arenaChunk bytes).
type stringArena struct{ buf []byte }

const (
	arenaChunk     = 4096
	arenaMaxString = 512 // larger strings are allocated alone
)

// alloc returns an empty slice with room for exactly size bytes.
func (a *stringArena) alloc(size int) []byte {
	if size > arenaMaxString {
		return make([]byte, 0, size)
	}
	if cap(a.buf)-len(a.buf) < size {
		// Chunks grow from small, so that a single evaluation (Check.Evaluate)
		// does not pay for a large one.
		a.buf = make([]byte, 0, max(min(2*cap(a.buf), arenaChunk), 256, size))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+size]
	return a.buf[start : start : start+size]
}

// valueArena hands out the value lists of evidence, carved from shared chunks as
// stringArena carves strings: a failing document's evidence is a short list, and one
// allocation per failure was a sixth of the evaluation's allocations. A list is never
// written after it is handed out (results are read-only).
type valueArena struct{ buf []any }

const valueChunk = 512

// alloc returns a zeroed list of n values, with no room to grow into its neighbour.
func (a *valueArena) alloc(n int) []any {
	if n > valueChunk/8 {
		return make([]any, n)
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]any, 0, max(min(2*cap(a.buf), valueChunk), 32, n))
	}
	start := len(a.buf)
	a.buf = a.buf[:start+n]
	return a.buf[start : start+n : start+n]
}

// add is _+_ on two values: strings and lists natively, anything else through the
// binding.
func add(g *genericCall, a, b any) (any, bool) {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x + y, true
		}
	case []any:
		if y, ok := b.([]any); ok {
			out := make([]any, 0, len(x)+len(y))
			return append(append(out, x...), y...), true
		}
	}
	return g.call2(a, b)
}

// onlyOverloads reports whether the checker's candidate overloads are all among want
// (so that the native implementation is the one cel-go would call).
func onlyOverloads(ids []string, want ...string) bool {
	if len(ids) == 0 {
		return false
	}
	for _, id := range ids {
		found := false
		for _, w := range want {
			found = found || id == w
		}
		if !found {
			return false
		}
	}
	return true
}

func allConst(args []node) bool {
	for _, a := range args {
		if !a.isConst {
			return false
		}
	}
	return true
}

// logical compiles && (or, false) and || (or, true) with CEL's commutative handling of
// errors: the deciding value wins whichever side it is on; otherwise any error (here:
// give-up) makes the result an error.
func logical(args []node, or bool) node {
	l, r := args[0].fn, args[1].fn
	decisive := or // true decides ||, false decides &&
	return node{fn: func(in *input) (any, bool) {
		a, aok := l(in)
		ab, aBool := a.(bool)
		if aok && aBool && ab == decisive {
			return decisive, true
		}
		b, bok := r(in)
		bb, bBool := b.(bool)
		if bok && bBool && bb == decisive {
			return decisive, true
		}
		if aok && aBool && bok && bBool {
			return !decisive, true
		}
		// No side decides: an unknown wins over an error, but a give-up may be a
		// deciding value cel-go computes.
		aUnk, bUnk := isUnknown(a, aok), isUnknown(b, bok)
		if aUnk && (bok || bUnk) || bUnk && aok {
			return unknownMark, false
		}
		return nil, false
	}}
}

func stringTest(l, r fastFn, test func(a, b string) bool) node {
	return node{fn: func(in *input) (any, bool) {
		a, ok := l(in)
		if !ok {
			return nil, false
		}
		b, ok := r(in)
		if !ok {
			return nil, false
		}
		s, sok := a.(string)
		t, tok := b.(string)
		if !sok || !tok {
			return nil, false
		}
		return test(s, t), true
	}}
}

// nativeType is type(v) for the native values, nil for foreign ones.
func nativeType(v any) *types.Type {
	switch v.(type) {
	case nil:
		return types.NullType
	case bool:
		return types.BoolType
	case string:
		return types.StringType
	case float64:
		return types.DoubleType
	case int64:
		return types.IntType
	case uint64:
		return types.UintType
	case []any:
		return types.ListType
	case map[string]any, map[string]string:
		return types.MapType
	case time.Time:
		return types.TimestampType
	case time.Duration:
		return types.DurationType
	}
	return nil
}

// index compiles x[k]: a map key or a list position.
func index(lib *fastLib, base, key fastFn) node {
	return node{fn: func(in *input) (any, bool) {
		b, ok := base(in)
		if !ok {
			return nil, false
		}
		k, ok := key(in)
		if !ok {
			return nil, false
		}
		switch x := b.(type) {
		case []any:
			i, isInt := k.(int64)
			if !isInt || i < 0 || i >= int64(len(x)) {
				return nil, false
			}
			return x[i], true
		case map[string]any, map[string]string, *types.Optional:
			s, isString := k.(string)
			if !isString {
				return nil, false
			}
			return lib.selectKey(b, s)
		}
		return nil, false
	}}
}

// optionalIndex compiles x.?k and x[?k].
func optionalIndex(lib *fastLib, base, key fastFn) node {
	return node{fn: func(in *input) (any, bool) {
		b, ok := base(in)
		if !ok {
			return nil, false
		}
		k, ok := key(in)
		if !ok {
			return nil, false
		}
		s, isString := k.(string)
		if !isString {
			return nil, false
		}
		switch x := b.(type) {
		case map[string]any:
			v, found := x[s]
			if !found {
				return types.OptionalNone, true
			}
			return types.OptionalOf(lib.adapt(normalize(v))), true
		case map[string]string:
			v, found := x[s]
			if !found {
				return types.OptionalNone, true
			}
			return types.OptionalOf(types.String(v)), true
		case *types.Optional:
			return lib.optionalKey(x, s)
		}
		return nil, false
	}}
}

// orValueOfOptionalKey compiles x.?k.orValue(d) / x[?k].orValue(d) over maps without
// building the optional; ok is false when the shape does not match.
func (c *fastCompiler) orValueOfOptionalKey(optExpr, altExpr celast.Expr) (node, bool, error) {
	if optExpr.Kind() != celast.CallKind {
		return node{}, false, nil
	}
	oc := optExpr.AsCall()
	if (oc.FunctionName() != operators.OptSelect && oc.FunctionName() != operators.OptIndex) || len(oc.Args()) != 2 || oc.IsMemberFunction() {
		return node{}, false, nil
	}
	base, err := c.compile(oc.Args()[0])
	if err != nil {
		return node{}, false, err
	}
	key, err := c.compile(oc.Args()[1])
	if err != nil {
		return node{}, false, err
	}
	alt, err := c.compile(altExpr)
	if err != nil {
		return node{}, false, err
	}
	slowOpt := optionalIndex(c.lib, base.fn, key.fn).fn
	return node{fn: func(in *input) (any, bool) {
		b, ok := base.fn(in)
		if !ok {
			// An unknown base is the optional's and orValue's result.
			return markOf(b, ok), false
		}
		if m, isMap := b.(map[string]any); isMap {
			k, ok := key.fn(in)
			if !ok {
				return nil, false
			}
			if s, isString := k.(string); isString {
				if v, found := m[s]; found {
					return normalize(v), true
				}
				return alt.fn(in)
			}
		}
		o, ok := slowOpt(in)
		if !ok {
			return nil, false
		}
		opt, isOpt := o.(*types.Optional)
		if !isOpt {
			return nil, false
		}
		if opt.HasValue() {
			return fromVal(opt.GetValue())
		}
		return alt.fn(in)
	}}, true, nil
}

// in compiles `x in container`.
func (c *fastCompiler) in(args []node, ids []string) (node, error) {
	elem, cont := args[0].fn, args[1].fn
	lib := c.lib
	if !onlyOverloads(ids, overloads.InList, overloads.InMap) {
		return node{}, unsupported("in with overloads %v", ids)
	}
	if list, ok := stringList(args[1]); ok && len(list) <= 8 {
		// x in ["a", "b"]: only a string can equal a string; a few are compared one by
		// one, faster than hashing.
		return node{fn: func(in *input) (any, bool) {
			x, ok := elem(in)
			if !ok {
				return nil, false
			}
			if s, isString := x.(string); isString {
				return slices.Contains(list, s), true
			}
			if isNative(x) {
				return false, true
			}
			return nil, false
		}}, nil
	}
	if set, ok := stringSet(args[1]); ok {
		// x in ["a", "b"]: only a string can equal a string.
		return node{fn: func(in *input) (any, bool) {
			x, ok := elem(in)
			if !ok {
				return nil, false
			}
			if s, isString := x.(string); isString {
				_, found := set[s]
				return found, true
			}
			if isNative(x) {
				return false, true
			}
			return nil, false
		}}, nil
	}
	return node{fn: func(in *input) (any, bool) {
		x, ok := elem(in)
		if !ok {
			return nil, false
		}
		y, ok := cont(in)
		if !ok {
			return nil, false
		}
		switch l := y.(type) {
		case []any:
			if !isNative(x) {
				// cel-go hashes the value against a constant list: leave the odd
				// cases (unhashable values) to it.
				return nil, false
			}
			for _, e := range l {
				if lib.equal(x, e) {
					return true, true
				}
			}
			return false, true
		case map[string]any:
			k, isString := x.(string)
			if !isString {
				return nil, false
			}
			_, found := l[k]
			return found, true
		case map[string]string:
			k, isString := x.(string)
			if !isString {
				return nil, false
			}
			_, found := l[k]
			return found, true
		}
		return nil, false
	}}, nil
}

// stringList returns the elements of a constant list of strings.
func stringList(n node) ([]string, bool) {
	l, ok := n.val.([]any)
	if !n.isConst || !ok {
		return nil, false
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], ok = e.(string); !ok {
			return nil, false
		}
	}
	return out, true
}

// stringSet returns the elements of a constant list of strings as a set.
func stringSet(n node) (map[string]struct{}, bool) {
	l, ok := n.val.([]any)
	if !n.isConst || !ok {
		return nil, false
	}
	set := make(map[string]struct{}, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		set[s] = struct{}{}
	}
	return set, true
}

// genericCall calls a function through its cel-go binding, chosen as cel-go's planner
// chooses it: the overload the checker resolved when there is exactly one, else the
// function's dynamic dispatcher.
type genericCall struct {
	lib *fastLib
	def *functions.Overload
	// kind: 1 unary, 2 binary, 0 varargs (or zero arguments).
	kind int
}

func (c *fastCompiler) generic(fn string, ids []string, arity int) (*genericCall, error) {
	var def *functions.Overload
	if len(ids) == 1 {
		def = c.lib.overloads[ids[0]]
	}
	if def == nil {
		def = c.lib.overloads[fn]
	}
	if def == nil {
		return nil, unsupported("function %s has no binding", fn)
	}
	if def.Async != nil || def.LateBound {
		return nil, unsupported("function %s is bound late", fn)
	}
	g := &genericCall{lib: c.lib, def: def}
	switch {
	case arity == 1 && !(def.Unary == nil && def.Function != nil):
		if def.Unary == nil {
			return nil, unsupported("function %s has no unary binding", fn)
		}
		g.kind = 1
	case arity == 2 && !(def.Binary == nil && def.Function != nil):
		if def.Binary == nil {
			return nil, unsupported("function %s has no binary binding", fn)
		}
		g.kind = 2
	default:
		if def.Function == nil {
			return nil, unsupported("function %s has no binding for %d arguments", fn, arity)
		}
	}
	return g, nil
}

// policyCall compiles the IAM policy functions of the library (celfn's iam.*) on the
// policy parsed once per document and value (input.policy), whichever functions read
// it: a bucket's policy is read by iam.is_public and twice by iam.allows. The document
// argument is taken as the bindings take it when it is a JSON object, a string or null
// (celfn.Native returns those as they are); anything else, a parse error, or a
// non-string action or resource gives up, and cel-go gives the error.
func policyCall(fn string, ids []string, args []node, member bool) (node, bool) {
	if member {
		return node{}, false
	}
	docFn := args[0].fn
	switch {
	case fn == "iam.is_public" && len(args) == 1 && onlyOverloads(ids, "is_public_iam_dyn"),
		fn == "iam.grants_admin" && len(args) == 1 && onlyOverloads(ids, "grants_admin_iam_dyn"):
		public := fn == "iam.is_public"
		return node{fn: func(in *input) (any, bool) {
			d, ok := docFn(in)
			if !ok {
				return nil, false
			}
			p, ok := in.policy(d)
			switch {
			case !ok:
				return nil, false
			case p == nil:
				return false, true // no policy
			case public:
				return p.IsPublic(), true
			}
			return p.AllowsAdmin(), true
		}}, true
	case fn == "iam.allows" && len(args) == 3 && onlyOverloads(ids, "allows_iam_dyn_string_string"):
		actionFn, resFn := args[1].fn, args[2].fn
		return node{fn: func(in *input) (any, bool) {
			d, ok := docFn(in)
			if !ok {
				return nil, false
			}
			a, ok := actionFn(in)
			if !ok {
				return nil, false
			}
			r, ok := resFn(in)
			if !ok {
				return nil, false
			}
			action, aok := a.(string)
			res, rok := r.(string)
			if !aok || !rok {
				return nil, false
			}
			p, ok := in.policy(d)
			switch {
			case !ok:
				return nil, false
			case p == nil:
				return false, true
			}
			return p.Allows(action, res), true
		}}, true
	}
	return node{}, false
}

// nativeCall compiles a few library functions to direct Go calls on the fast path's
// values: ports.open_to_internet(perms, port) and ports.exposed(perms) (celfn, on a
// document value celfn.Native takes as it is) and list.join(sep) (ext.Strings, on a
// list of strings). Any other case, and any error, goes through the function's cel-go
// binding as before.
func (c *fastCompiler) nativeCall(fn string, ids []string, args []node, member bool) (node, bool, error) {
	switch {
	case fn == "ports.open_to_internet" && !member && len(args) == 2 && onlyOverloads(ids, "ports_open_to_internet_dyn_int"):
		slow, err := c.generic(fn, ids, 2)
		if err != nil {
			return node{}, false, err
		}
		permsFn, portFn := args[0].fn, args[1].fn
		return node{fn: func(in *input) (any, bool) {
			perms, ok := permsFn(in)
			if !ok {
				return nil, false
			}
			port, ok := portFn(in)
			if !ok {
				return nil, false
			}
			if n, isInt := port.(int64); isInt && celfnNative(perms) {
				if b, err := celfn.PortOpenToInternet(perms, n, "tcp"); err == nil {
					return b, true
				}
			}
			return slow.call2(perms, port)
		}}, true, nil
	case fn == "ports.exposed" && !member && len(args) == 1 && onlyOverloads(ids, "ports_exposed_dyn"):
		slow, err := c.generic(fn, ids, 1)
		if err != nil {
			return node{}, false, err
		}
		permsFn := args[0].fn
		return node{fn: func(in *input) (any, bool) {
			perms, ok := permsFn(in)
			if !ok {
				return nil, false
			}
			if celfnNative(perms) {
				if ports, err := celfn.ExposedPorts(perms); err == nil {
					out := make([]any, len(ports))
					for i, p := range ports {
						out[i] = p
					}
					return out, true
				}
			}
			return slow.call1(perms)
		}}, true, nil
	case fn == "sort" && member && len(args) == 1 && sortOverloads(ids):
		slow, err := c.generic(fn, ids, 1)
		if err != nil {
			return node{}, false, err
		}
		listFn := args[0].fn
		return node{fn: func(in *input) (any, bool) {
			l, ok := listFn(in)
			if !ok {
				return nil, false
			}
			if sorted, ok := sortStrings(l); ok {
				return sorted, true
			}
			return slow.call1(l)
		}}, true, nil
	case fn == "join" && member && len(args) == 2 && onlyOverloads(ids, "list_join_string"):
		slow, err := c.generic(fn, ids, 2)
		if err != nil {
			return node{}, false, err
		}
		listFn, sepFn := args[0].fn, args[1].fn
		return node{fn: func(in *input) (any, bool) {
			l, ok := listFn(in)
			if !ok {
				return nil, false
			}
			sep, ok := sepFn(in)
			if !ok {
				return nil, false
			}
			if s, ok := joinStrings(l, sep); ok {
				return s, true
			}
			return slow.call2(l, sep)
		}}, true, nil
	}
	return node{}, false, nil
}

// sortOverloads reports whether the checker's candidates are ext.Lists' sort()
// overloads (list_<type>_sort, one binding for all).
func sortOverloads(ids []string) bool {
	if len(ids) == 0 {
		return false
	}
	for _, id := range ids {
		if !strings.HasPrefix(id, "list_") || !strings.HasSuffix(id, "_sort") {
			return false
		}
	}
	return true
}

// sortStrings is sort() on a non-empty list of strings (a new list; equal strings are
// indistinguishable, so the order among them does not matter); ok is false for
// anything else.
func sortStrings(l any) ([]any, bool) {
	list, isList := l.([]any)
	if !isList || len(list) == 0 {
		return nil, false
	}
	strs := make([]string, len(list))
	for i, e := range list {
		s, isString := e.(string)
		if !isString {
			return nil, false
		}
		strs[i] = s
	}
	slices.Sort(strs)
	out := make([]any, len(strs))
	for i, s := range strs {
		out[i] = s
	}
	return out, true
}

// celfnNative reports whether celfn.Native gives v back as it is (so a celfn function
// may be called on v directly).
func celfnNative(v any) bool {
	switch v.(type) {
	case nil, map[string]any, []any, string, float64, int64, bool, time.Time:
		return true
	}
	return false
}

// joinStrings is list.join(sep) on a list of strings; ok is false for anything else.
func joinStrings(l, sep any) (string, bool) {
	list, isList := l.([]any)
	s, isString := sep.(string)
	if !isList || !isString {
		return "", false
	}
	size := len(s) * max(len(list)-1, 0)
	for _, e := range list {
		str, isString := e.(string)
		if !isString {
			return "", false
		}
		size += len(str)
	}
	var b strings.Builder
	b.Grow(size)
	for i, e := range list {
		if i > 0 {
			b.WriteString(s)
		}
		b.WriteString(e.(string))
	}
	return b.String(), true
}

// policyKey identifies a policy document value of the current document: a map by its
// pointer, a string by its bytes' address and length.
type policyKey struct {
	ptr unsafe.Pointer
	n   int
}

type policyEntry struct {
	p  *iampolicy.Policy
	ok bool
}

// policy parses a policy document value as celfn's iam functions do (nil for null),
// once per document and value; ok is false for a value of another type or a document
// that does not parse.
func (in *input) policy(d any) (*iampolicy.Policy, bool) {
	var key policyKey
	switch v := d.(type) {
	case nil:
		return nil, true
	case map[string]any:
		key = policyKey{ptr: reflect.ValueOf(v).UnsafePointer(), n: -1}
	case string:
		key = policyKey{ptr: unsafe.Pointer(unsafe.StringData(v)), n: len(v)}
	default:
		return nil, false
	}
	if e, done := in.policies[key]; done {
		return e.p, e.ok
	}
	p, err := iampolicy.Parse(d)
	e := policyEntry{p: p, ok: err == nil}
	if in.policies == nil {
		in.policies = map[policyKey]policyEntry{}
	}
	in.policies[key] = e
	return e.p, e.ok
}

// memoized reports whether the results of a function of the library are kept for the
// document: the costly, pure ones (policy analysis, permission lists, JSON decoding),
// which several checks of one resource often call on the same value.
func memoized(fn string) bool {
	return strings.HasPrefix(fn, "iam.") || strings.HasPrefix(fn, "ports.") || strings.HasPrefix(fn, "json.")
}

// memoKey identifies a call on a document value by the value's identity: within the
// evaluation of one document, values are not modified, so the same map or list gives
// the same result.
type memoKey struct {
	fn  *functions.Overload // the binding: call sites of one function share results
	ptr unsafe.Pointer
	n   int
}

type memoResult struct {
	v  any
	ok bool
}

// memoCall is g.call1(x), remembered for the document when x is a map or a list.
func (in *input) memoCall(g *genericCall, x any) (any, bool) {
	var key memoKey
	switch v := x.(type) {
	case map[string]any:
		key = memoKey{fn: g.def, ptr: reflect.ValueOf(v).UnsafePointer(), n: -1}
	case []any:
		if len(v) == 0 {
			return g.call1(x)
		}
		key = memoKey{fn: g.def, ptr: unsafe.Pointer(&v[0]), n: len(v)}
	default:
		return g.call1(x)
	}
	if r, ok := in.memo[key]; ok {
		return r.v, r.ok
	}
	v, ok := g.call1(x)
	if in.memo == nil {
		in.memo = map[memoKey]memoResult{}
	}
	in.memo[key] = memoResult{v, ok}
	return v, ok
}

// call1, call2 and callN invoke the binding on fast-path values.
func (g *genericCall) call1(a any) (any, bool) {
	av := g.lib.adapt(a)
	if g.kind != 1 {
		return g.callVals([]ref.Val{av})
	}
	if t := g.def.OperandTrait; t != 0 && !av.Type().HasTrait(t) {
		return nil, false
	}
	return fromResult(g.def.Unary(av))
}

func (g *genericCall) call2(a, b any) (any, bool) {
	av, bv := g.lib.adapt(a), g.lib.adapt(b)
	if g.kind != 2 {
		return g.callVals([]ref.Val{av, bv})
	}
	if t := g.def.OperandTrait; t != 0 && !av.Type().HasTrait(t) {
		return nil, false
	}
	return fromResult(g.def.Binary(av, bv))
}

func (g *genericCall) callN(vals []any) (any, bool) {
	switch {
	case len(vals) == 1 && g.kind == 1:
		return g.call1(vals[0])
	case len(vals) == 2 && g.kind == 2:
		return g.call2(vals[0], vals[1])
	}
	args := make([]ref.Val, len(vals))
	for i, v := range vals {
		args[i] = g.lib.adapt(v)
	}
	return g.callVals(args)
}

// callVals is the varargs form (FunctionOp): the operand trait is checked on the first
// argument, as cel-go does.
func (g *genericCall) callVals(args []ref.Val) (any, bool) {
	if g.def.Function == nil {
		return nil, false
	}
	if t := g.def.OperandTrait; len(args) > 0 && t != 0 && !args[0].Type().HasTrait(t) {
		return nil, false
	}
	return fromResult(g.def.Function(args...))
}

func fromResult(v ref.Val) (any, bool) {
	if v == nil {
		return nil, false
	}
	return fromVal(v)
}

// list compiles a list literal; constant lists are built once (and never modified).
func (c *fastCompiler) list(e celast.Expr) (node, error) {
	l := e.AsList()
	if len(l.OptionalIndices()) > 0 {
		return node{}, unsupported("optional list elements")
	}
	elems := make([]node, len(l.Elements()))
	for i, el := range l.Elements() {
		n, err := c.compile(el)
		if err != nil {
			return node{}, err
		}
		elems[i] = n
	}
	if allConst(elems) {
		vals := make([]any, len(elems))
		for i, el := range elems {
			vals[i] = el.val
		}
		return constNode(vals), nil
	}
	return node{fn: func(in *input) (any, bool) {
		out := make([]any, len(elems))
		for i, el := range elems {
			v, ok := el.fn(in)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	}}, nil
}

// mapLiteral compiles a map literal with string keys.
func (c *fastCompiler) mapLiteral(e celast.Expr) (node, error) {
	m := e.AsMap()
	type entry struct{ k, v fastFn }
	entries := make([]entry, 0, len(m.Entries()))
	for _, en := range m.Entries() {
		me := en.AsMapEntry()
		if me.IsOptional() {
			return node{}, unsupported("optional map entries")
		}
		k, err := c.compile(me.Key())
		if err != nil {
			return node{}, err
		}
		v, err := c.compile(me.Value())
		if err != nil {
			return node{}, err
		}
		entries = append(entries, entry{k.fn, v.fn})
	}
	return node{fn: func(in *input) (any, bool) {
		out := make(map[string]any, len(entries))
		for _, en := range entries {
			k, ok := en.k(in)
			if !ok {
				return nil, false
			}
			ks, isString := k.(string)
			if !isString {
				return nil, false
			}
			v, ok := en.v(in)
			if !ok {
				return nil, false
			}
			if _, dup := out[ks]; dup {
				return nil, false
			}
			out[ks] = v
		}
		return out, true
	}}, nil
}

// comprehension compiles a fold. all() and exists() get a dedicated loop with their
// macro semantics; list-building folds (map, filter) append in place as cel-go does;
// cel.bind (a fold over an empty list) binds its variable; anything else runs the
// generic fold: the condition before each step, the accumulator replaced by the step.
func (c *fastCompiler) comprehension(e celast.Expr) (node, error) {
	f := e.AsComprehension()
	if f.HasIterVar2() {
		return node{}, unsupported("two-variable comprehension")
	}
	rng, err := c.compile(f.IterRange())
	if err != nil {
		return node{}, err
	}
	init, err := c.compile(f.AccuInit())
	if err != nil {
		return node{}, err
	}
	accuVar, iterVar := f.AccuVar(), f.IterVar()
	lib := c.lib

	// cel.bind(v, init, result): no iteration, the accumulator is the variable.
	if f.IterRange().Kind() == celast.ListKind && f.IterRange().AsList().Size() == 0 {
		slots := c.push(accuVar)
		res, err := c.compile(f.Result())
		c.pop(1)
		if err != nil {
			return node{}, err
		}
		accu := slots[0]
		if key, ok := c.sharedBinding(f.AccuInit()); ok {
			// The same binding in several checks (the CIS metric-filter checks bind the
			// same trails, topics and alarms): computed once per document.
			id := bindingSlots.slot(key)
			return node{fn: func(in *input) (any, bool) {
				r, done := in.binding(id)
				if !done {
					r.v, r.ok = init.fn(in)
					in.setBinding(id, r)
				}
				if r.ok {
					in.slots[accu] = r.v
				} else {
					in.slots[accu] = slotError{}
				}
				return res.fn(in)
			}}, nil
		}
		return node{fn: func(in *input) (any, bool) {
			v, ok := init.fn(in)
			if !ok {
				v = slotError{}
			}
			in.slots[accu] = v
			return res.fn(in)
		}}, nil
	}

	if q, ok := quantifier(f); ok {
		slots := c.push(iterVar)
		pred, err := c.compile(q.pred)
		c.pop(1)
		if err != nil {
			return node{}, err
		}
		return quantifierLoop(lib, rng.fn, slots[0], pred.fn, q.exists), nil
	}

	slots := c.push(accuVar, iterVar)
	accu, iter := slots[0], slots[1]
	if lb, ok := listBuilder(f); ok {
		cond, err := c.compile(f.LoopCondition())
		if err != nil {
			c.pop(2)
			return node{}, err
		}
		var filter node
		if lb.filter != nil {
			if filter, err = c.compile(lb.filter); err != nil {
				c.pop(2)
				return node{}, err
			}
		}
		elem, err := c.compile(lb.elem)
		c.pop(2)
		if err != nil {
			return node{}, err
		}
		return node{fn: func(in *input) (any, bool) {
			els, ok := lib.rangeOf(in, rng.fn)
			if !ok {
				return nil, false
			}
			// One allocation: a map's result has the range's length, a filter's at
			// most that.
			out := make([]any, 0, els.len())
			for i := range els.len() {
				in.slots[iter] = els.at(i)
				v, ok := cond.fn(in)
				if !ok {
					return nil, false
				}
				if v != true {
					break
				}
				if filter.fn != nil {
					keep, ok := filter.fn(in)
					kb, isBool := keep.(bool)
					if !ok || !isBool {
						return nil, false
					}
					if !kb {
						continue
					}
				}
				x, ok := elem.fn(in)
				if !ok {
					return nil, false
				}
				out = append(out, x)
			}
			return out, true
		}}, nil
	}

	cond, err := c.compile(f.LoopCondition())
	if err != nil {
		c.pop(2)
		return node{}, err
	}
	step, err := c.compile(f.LoopStep())
	c.pop(2)
	if err != nil {
		return node{}, err
	}
	c.push(accuVar)
	res, err := c.compile(f.Result())
	c.pop(1)
	if err != nil {
		return node{}, err
	}
	return node{fn: func(in *input) (any, bool) {
		els, ok := lib.rangeOf(in, rng.fn)
		if !ok {
			return nil, false
		}
		v, ok := init.fn(in)
		if !ok {
			v = slotError{}
		}
		in.slots[accu] = v
		for i := range els.len() {
			in.slots[iter] = els.at(i)
			cv, ok := cond.fn(in)
			if !ok {
				return nil, false
			}
			if cv != true {
				break
			}
			sv, ok := step.fn(in)
			if !ok {
				sv = slotError{}
			}
			in.slots[accu] = sv
		}
		return res.fn(in)
	}}, nil
}

// sharedBinding reports whether the value bound by a cel.bind is worth keeping for
// the document, and under which key: its init loops over something (a comprehension),
// and reads no variable of an enclosing comprehension, so its value depends on the
// document alone. The key is the expression's structure, the same in every check that
// writes it.
func (c *fastCompiler) sharedBinding(init celast.Expr) (string, bool) {
	loops := false
	celast.PostOrderVisit(init, celast.NewExprVisitor(func(e celast.Expr) {
		loops = loops || e.Kind() == celast.ComprehensionKind
	}))
	if !loops {
		return "", false
	}
	for _, v := range c.scope {
		if mentions(init, v.name) {
			return "", false
		}
	}
	var b strings.Builder
	if !canonical(&b, init) {
		return "", false
	}
	return b.String(), true
}

// canonical writes the structure of an expression (without node ids); false for a
// kind it does not know.
func canonical(b *strings.Builder, e celast.Expr) bool {
	all := func(list []celast.Expr) bool {
		for i, x := range list {
			if i > 0 {
				b.WriteByte(',')
			}
			if !canonical(b, x) {
				return false
			}
		}
		return true
	}
	switch e.Kind() {
	case celast.LiteralKind:
		fmt.Fprintf(b, "%T(%q)", e.AsLiteral(), fmt.Sprint(e.AsLiteral().Value()))
	case celast.IdentKind:
		b.WriteString(e.AsIdent())
	case celast.SelectKind:
		sel := e.AsSelect()
		if sel.IsTestOnly() {
			b.WriteString("has:")
		}
		b.WriteByte('(')
		if !canonical(b, sel.Operand()) {
			return false
		}
		b.WriteString(")." + sel.FieldName())
	case celast.CallKind:
		call := e.AsCall()
		if call.IsMemberFunction() {
			b.WriteByte('(')
			if !canonical(b, call.Target()) {
				return false
			}
			b.WriteString(").")
		}
		b.WriteString(call.FunctionName() + "(")
		if !all(call.Args()) {
			return false
		}
		b.WriteByte(')')
	case celast.ListKind:
		l := e.AsList()
		fmt.Fprintf(b, "[%v:", l.OptionalIndices())
		if !all(l.Elements()) {
			return false
		}
		b.WriteByte(']')
	case celast.ComprehensionKind:
		f := e.AsComprehension()
		fmt.Fprintf(b, "fold(%s,%s,%s;", f.IterVar(), f.IterVar2(), f.AccuVar())
		if !all([]celast.Expr{f.IterRange(), f.AccuInit(), f.LoopCondition(), f.LoopStep(), f.Result()}) {
			return false
		}
		b.WriteByte(')')
	default:
		return false
	}
	return true
}

// elements is the range of a comprehension: the elements of a list, or the keys of a
// map. cel-go visits map keys in Go's random map order; the fast path visits them
// sorted, one of those orders, so that a fold whose result depends on the order
// (filter over a map) is deterministic.
type elements struct {
	list []any
	keys []string
}

func (r *elements) len() int { return len(r.list) + len(r.keys) }

func (r *elements) at(i int) any {
	if r.list != nil {
		return r.list[i]
	}
	return r.keys[i]
}

// rangeOf evaluates the range of a comprehension; ok is false to give up.
func (lib *fastLib) rangeOf(in *input, rng fastFn) (elements, bool) {
	r, ok := rng(in)
	if !ok {
		return elements{}, false
	}
	return lib.elementsOf(r)
}

func (lib *fastLib) elementsOf(r any) (elements, bool) {
	switch x := r.(type) {
	case []any:
		return elements{list: x}, true
	case map[string]any:
		return elements{keys: slices.Sorted(maps.Keys(x))}, true
	case map[string]string:
		return elements{keys: slices.Sorted(maps.Keys(x))}, true
	}
	// Foreign ranges: iterate cel-go's value.
	it, isIter := lib.adapt(r).(traits.Iterable)
	if !isIter {
		return elements{}, false
	}
	var list []any
	iter := it.Iterator()
	for iter.HasNext() == types.True {
		e, ok := fromVal(iter.Next())
		if !ok {
			return elements{}, false
		}
		list = append(list, e)
	}
	if list == nil {
		list = []any{}
	}
	return elements{list: list}, true
}

// quantifierShape is an all() or exists() macro expansion.
type quantifierShape struct {
	pred   celast.Expr
	exists bool
}

// quantifier recognises the expansions of all(x, p) (init true, condition
// @not_strictly_false(acc), step acc && p, result acc) and exists(x, p) (init false,
// condition @not_strictly_false(!acc), step acc || p, result acc).
func quantifier(f celast.ComprehensionExpr) (quantifierShape, bool) {
	accu := f.AccuVar()
	init, ok := boolLiteral(f.AccuInit())
	if !ok || !isIdent(f.Result(), accu) || f.LoopCondition().Kind() != celast.CallKind || f.LoopStep().Kind() != celast.CallKind {
		return quantifierShape{}, false
	}
	cond := f.LoopCondition().AsCall()
	if cond.FunctionName() != operators.NotStrictlyFalse || len(cond.Args()) != 1 {
		return quantifierShape{}, false
	}
	step := f.LoopStep().AsCall()
	if len(step.Args()) != 2 || !isIdent(step.Args()[0], accu) || mentions(step.Args()[1], accu) {
		return quantifierShape{}, false
	}
	ca := cond.Args()[0]
	switch {
	case init && step.FunctionName() == operators.LogicalAnd && isIdent(ca, accu):
		return quantifierShape{pred: step.Args()[1]}, true
	case !init && step.FunctionName() == operators.LogicalOr && ca.Kind() == celast.CallKind &&
		ca.AsCall().FunctionName() == operators.LogicalNot && len(ca.AsCall().Args()) == 1 && isIdent(ca.AsCall().Args()[0], accu):
		return quantifierShape{pred: step.Args()[1], exists: true}, true
	}
	return quantifierShape{}, false
}

// quantifierLoop evaluates all() / exists(): the deciding predicate value (false for
// all, true for exists) wins and stops the loop; otherwise an error of any element is
// the result; otherwise the neutral value.
func quantifierLoop(lib *fastLib, rng fastFn, slot int, pred fastFn, exists bool) node {
	return node{fn: func(in *input) (any, bool) {
		r, ok := rng(in)
		if !ok {
			return markOf(r, ok), false // an unknown range is the result
		}
		// The result does not depend on the order: maps are visited in Go's order.
		// Without a deciding element, a give-up (which may be a deciding value in
		// cel-go) gives up, else an unknown element makes the result unknown (cel-go's
		// accumulator: unknown && error is unknown), else an error (a non-bool) is one.
		var q quantified
		switch x := r.(type) {
		case []any:
			for _, e := range x {
				in.slots[slot] = e
				if v, ok := pred(in); q.decides(v, ok, exists) {
					return exists, true
				}
			}
		case map[string]any:
			for k := range x {
				in.slots[slot] = k
				if v, ok := pred(in); q.decides(v, ok, exists) {
					return exists, true
				}
			}
		case map[string]string:
			for k := range x {
				in.slots[slot] = k
				if v, ok := pred(in); q.decides(v, ok, exists) {
					return exists, true
				}
			}
		default:
			els, ok := lib.elementsOf(r)
			if !ok {
				return nil, false
			}
			for i := range els.len() {
				in.slots[slot] = els.at(i)
				if v, ok := pred(in); q.decides(v, ok, exists) {
					return exists, true
				}
			}
		}
		switch {
		case q.gaveUp || q.failed && !q.unknown:
			return nil, false
		case q.unknown:
			return unknownMark, false
		}
		return !exists, true
	}}
}

// quantified is what the elements of an all() or exists() gave so far.
type quantified struct{ gaveUp, unknown, failed bool }

// decides records one element's predicate value and reports whether it decides the
// result (false for all(), true for exists()).
func (q *quantified) decides(v any, ok bool, exists bool) bool {
	b, isBool := v.(bool)
	switch {
	case ok && isBool:
		return b == exists
	case isUnknown(v, ok):
		q.unknown = true
	case !ok:
		q.gaveUp = true
	default:
		q.failed = true
	}
	return false
}

// listBuilderShape is a map() or filter() expansion: step acc + [elem], or
// filter ? acc + [elem] : acc, over an accumulator starting as [] and returned as the
// result, whose name (starting with @) the expression cannot mention.
type listBuilderShape struct {
	filter celast.Expr // nil for map()
	elem   celast.Expr
}

func listBuilder(f celast.ComprehensionExpr) (listBuilderShape, bool) {
	accu := f.AccuVar()
	if !strings.HasPrefix(accu, "@") || accu == f.IterVar() || !isIdent(f.Result(), accu) ||
		f.AccuInit().Kind() != celast.ListKind || f.AccuInit().AsList().Size() != 0 || f.LoopStep().Kind() != celast.CallKind ||
		mentions(f.LoopCondition(), accu) {
		return listBuilderShape{}, false
	}
	var out listBuilderShape
	step := f.LoopStep().AsCall()
	if step.FunctionName() == operators.Conditional && len(step.Args()) == 3 {
		if !isIdent(step.Args()[2], accu) || step.Args()[1].Kind() != celast.CallKind || mentions(step.Args()[0], accu) {
			return listBuilderShape{}, false
		}
		out.filter = step.Args()[0]
		step = step.Args()[1].AsCall()
	}
	args := step.Args()
	if step.FunctionName() != operators.Add || len(args) != 2 || !isIdent(args[0], accu) ||
		args[1].Kind() != celast.ListKind || args[1].AsList().Size() != 1 || len(args[1].AsList().OptionalIndices()) > 0 {
		return listBuilderShape{}, false
	}
	out.elem = args[1].AsList().Elements()[0]
	if mentions(out.elem, accu) {
		return listBuilderShape{}, false
	}
	return out, true
}

func boolLiteral(e celast.Expr) (bool, bool) {
	if e.Kind() != celast.LiteralKind {
		return false, false
	}
	b, ok := e.AsLiteral().(types.Bool)
	return bool(b), ok
}

func isIdent(e celast.Expr, name string) bool {
	return e != nil && e.Kind() == celast.IdentKind && e.AsIdent() == name
}

// mentions reports whether e refers to the variable name in the scope where e
// appears: references inside a comprehension that binds the same name (nested macros
// all call their accumulator @result) are to that comprehension's variable.
func mentions(e celast.Expr, name string) bool {
	if e == nil {
		return false
	}
	switch e.Kind() {
	case celast.IdentKind:
		return e.AsIdent() == name
	case celast.SelectKind:
		return mentions(e.AsSelect().Operand(), name)
	case celast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() && mentions(c.Target(), name) {
			return true
		}
		for _, a := range c.Args() {
			if mentions(a, name) {
				return true
			}
		}
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			if mentions(el, name) {
				return true
			}
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			me := en.AsMapEntry()
			if mentions(me.Key(), name) || mentions(me.Value(), name) {
				return true
			}
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			if mentions(f.AsStructField().Value(), name) {
				return true
			}
		}
	case celast.ComprehensionKind:
		f := e.AsComprehension()
		if mentions(f.IterRange(), name) || mentions(f.AccuInit(), name) {
			return true
		}
		loopBinds := f.AccuVar() == name || f.IterVar() == name || f.IterVar2() == name
		if !loopBinds && (mentions(f.LoopCondition(), name) || mentions(f.LoopStep(), name)) {
			return true
		}
		return f.AccuVar() != name && mentions(f.Result(), name)
	}
	return false
}
