package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/functions"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/vigilsec/vigil/checks/celfn"
	"github.com/vigilsec/vigil/providers"
)

// Status is the outcome of a check on one resource.
type Status string

// The three results of a check, and skip for "does not apply" (the check's `when` is
// false). Registry.Evaluate never returns skipped results.
const (
	StatusPass    Status = "pass"
	StatusFail    Status = "fail"
	StatusUnknown Status = "unknown"
	StatusSkip    Status = "skip"
)

func (s Status) valid() bool {
	switch s {
	case StatusPass, StatusFail, StatusUnknown, StatusSkip:
		return true
	}
	return false
}

// Result is the outcome of one check on one resource.
type Result struct {
	CheckID string `json:"check_id"`
	Status  Status `json:"status"`
	// Message is the human detail: the check's message expression for failures (and
	// for unknowns when it could be evaluated).
	Message string `json:"message,omitempty"`
	// Reason explains an unknown: the properties that were not collected, or the
	// evaluation error.
	Reason string `json:"reason,omitempty"`
	// Evidence holds the values the check read, for failures and unknowns.
	Evidence Evidence `json:"evidence,omitzero"`
}

// Evidence is the values a check read: the top-level properties of the resource and
// of the account document its expressions name, as far as the document has them,
// keyed "resource.properties.<Key>" or "account.properties.<Key>". Values larger than
// 2 KiB are truncated when they are read or encoded (capValue). It encodes as a JSON
// object; the zero value is empty.
//
// It is a list rather than a map because a check evaluation builds one for every
// failure: the names are the check's, built once, and the results of one document
// that read the same properties share the values. The values are shared with the
// document: treat them as read-only.
type Evidence struct {
	names []string // sorted
	vals  []any    // by position in names; absentValue where the document lacks it
}

// absentValue marks a property of the evidence the document does not have.
type absentValue struct{}

// Len is the number of values.
func (e Evidence) Len() int {
	n := 0
	for _, v := range e.vals {
		if _, absent := v.(absentValue); !absent {
			n++
		}
	}
	return n
}

// IsZero reports whether e holds no value (encoding/json's omitzero).
func (e Evidence) IsZero() bool { return e.Len() == 0 }

// Get returns the value of one key, capped (see capValue).
func (e Evidence) Get(key string) (any, bool) {
	i, found := slices.BinarySearch(e.names, key)
	if !found || i >= len(e.vals) {
		return nil, false
	}
	if _, absent := e.vals[i].(absentValue); absent {
		return nil, false
	}
	return capValue(e.vals[i]), true
}

// All yields the keys and values in key order, each value capped (see capValue).
func (e Evidence) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for i, v := range e.vals {
			if _, absent := v.(absentValue); absent {
				continue
			}
			if !yield(e.names[i], capValue(v)) {
				return
			}
		}
	}
}

// Map returns the evidence as a new map, nil when it is empty.
func (e Evidence) Map() map[string]any {
	if e.IsZero() {
		return nil
	}
	m := make(map[string]any, len(e.vals))
	for k, v := range e.All() {
		m[k] = v
	}
	return m
}

// MarshalJSON encodes the evidence as a JSON object ({} when empty), keys in order,
// values capped as All gives them. Each value is encoded once: the encoding is what
// decides whether it is cut.
func (e Evidence) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, v := range e.vals {
		if _, absent := v.(absentValue); absent {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		key, err := json.Marshal(e.names[i])
		if err != nil {
			return nil, err
		}
		var val []byte
		if s, isString := v.(string); isString {
			val, err = json.Marshal(capString(s))
		} else if val, err = json.Marshal(v); err != nil {
			// As capValue gives it: a value that cannot be encoded is named, so the
			// result is still stored.
			val, err = json.Marshal(fmt.Sprintf("(unprintable: %v)", err))
		} else if len(val) > maxEvidenceValue {
			val, err = json.Marshal(truncatedJSON(val))
		}
		if err != nil {
			return nil, fmt.Errorf("encode evidence %s: %w", e.names[i], err)
		}
		b = append(append(append(b, key...), ':'), val...)
	}
	return append(b, '}'), nil
}

// Document is what checks evaluate: one resource and its context.
type Document struct {
	// Resource is the document being checked.
	Resource providers.Resource
	// Account is the account-level document (aws.account, ...) of the same account, nil
	// when it was not collected: `account` is then an empty map, so a check reading
	// account.properties.X evaluates to unknown.
	Account *providers.Resource
	// Related holds documents reachable through the resource's relations, by relation
	// kind, as far as the scan has them; related(kind) returns them.
	Related map[string][]providers.Resource
	// Now is the evaluation clock (the scan time), read by `now` and age_days;
	// time.Now() when zero.
	Now time.Time
}

// Evidence limits: one value is truncated beyond maxEvidenceValue bytes of JSON.
const maxEvidenceValue = 2048

// input is a document prepared for evaluation, and the CEL activation itself: it
// resolves the variables and the late-bound functions without building maps, so one
// document costs a handful of allocations whatever the number of checks. The fast path
// (fastpath.go) reads the document straight from doc; the maps cel-go needs are filled
// on first use. Not safe for concurrent use (each Evaluate call builds its own).
type input struct {
	doc     Document
	resMap  map[string]any // filled on first use
	resSet  bool
	accMap  map[string]any // filled on first use
	accSet  bool
	nowVal  any // types.Timestamp, boxed once
	nowAny  any // time.Time, boxed once, for the fast path
	now     time.Time
	ageFn   functions.LateBoundOp
	relFn   functions.LateBoundOp
	resGaps []providers.Gap
	accGaps []providers.Gap
	// relatedDocs and related cache related(kind) as a list of document maps, and as
	// cel-go's value of it.
	relatedDocs map[string][]any
	related     map[string]ref.Val
	// docMaps and docLists are the maps and lists of relatedDocs, reused from one
	// document to the next (nothing of them outlives the evaluation of a document:
	// results hold strings and the document's own values); docMapsUsed and
	// docListsUsed count those handed out for the current document.
	docMaps                   []map[string]any
	docLists                  [][]any
	docMapsUsed, docListsUsed int
	// slots hold the comprehension variables of the fast path.
	slots []any
	// strs holds the bytes of the strings the fast path builds (not reset between
	// documents: the strings may outlive the evaluation, in results).
	strs stringArena
	// vals holds the value lists of evidence, carved like strs (results keep them).
	vals valueArena
	// evidence caches the evidence maps of the document by set of properties
	// (program.evidenceSet).
	evidence     []evidenceEntry
	evidenceUsed []int32
	// memo keeps the results of costly library functions for the document, bindings
	// the values of cel.bind loops that depend on the document alone.
	memo map[memoKey]memoResult
	// policies holds the IAM policies parsed for the document, by value.
	policies     map[policyKey]policyEntry
	bindings     []bindingEntry // by bindingSlots number
	bindingsUsed []int32
	// props caches the top-level resource properties the fast path and the evidence
	// read, accProps the account's properties the evidence reads.
	props, accProps propertyCache
	// partial marks the gap properties unknown; built on first need.
	partial *partialInput
	// plainOnly turns the fast path off (the differential tests compare both).
	plainOnly bool
}

// newInput allocates an input; reset prepares it for a document. Registry pools
// inputs, so the maps and bound functions are reused across documents.
func newInput() *input {
	in := &input{resMap: make(map[string]any, 8), accMap: make(map[string]any, 8)}
	in.ageFn = in.ageDays
	in.relFn = in.relatedFunc
	return in
}

func (in *input) reset(doc *Document) {
	in.doc = *doc
	in.resGaps = doc.Resource.Gaps
	in.accGaps = nil
	if doc.Account != nil {
		in.accGaps = doc.Account.Gaps
	}
	now := doc.Now
	if now.IsZero() {
		now = time.Now()
	}
	if in.nowVal == nil || !now.Equal(in.now) || now.Location() != in.now.Location() {
		// Boxed once per clock value, not per document.
		in.nowVal = types.Timestamp{Time: now}
		in.nowAny = now
	}
	in.now = now
	in.resSet, in.accSet = false, false
	clear(in.related)
	clear(in.relatedDocs)
	clear(in.memo)
	clear(in.policies)
	in.props.next()
	in.accProps.next()
	if in.props.gen == 1 {
		// First document, or the generations wrapped: no entry may look current.
		clear(in.evidence)
		clear(in.bindings)
	}
	in.partial = nil
}

// release drops the references to the document so a pooled input keeps nothing alive.
func (in *input) release() {
	in.doc = Document{}
	for _, m := range in.docMaps[:in.docMapsUsed] {
		clear(m)
	}
	for _, l := range in.docLists[:in.docListsUsed] {
		clear(l)
	}
	in.docMapsUsed, in.docListsUsed = 0, 0
	clear(in.resMap)
	clear(in.accMap)
	clear(in.related)
	clear(in.relatedDocs)
	clear(in.slots)
	for _, id := range in.evidenceUsed {
		in.evidence[id].ev = Evidence{}
	}
	in.evidenceUsed = in.evidenceUsed[:0]
	clear(in.memo)
	clear(in.policies)
	for _, id := range in.bindingsUsed {
		in.bindings[id] = bindingEntry{}
	}
	in.bindingsUsed = in.bindingsUsed[:0]
	in.props.release()
	in.accProps.release()
	in.resSet, in.accSet = false, false
	in.resGaps, in.accGaps, in.partial = nil, nil, nil
}

// resourceMap is the CEL value of `resource`.
func (in *input) resourceMap() map[string]any {
	if !in.resSet {
		in.resSet = true
		clear(in.resMap)
		fillDocumentMap(in.resMap, &in.doc.Resource)
	}
	return in.resMap
}

// accountMap is the CEL value of `account`: empty when the account document was not
// collected.
func (in *input) accountMap() map[string]any {
	if !in.accSet {
		in.accSet = true
		clear(in.accMap)
		if in.doc.Account != nil {
			fillDocumentMap(in.accMap, in.doc.Account)
		}
	}
	return in.accMap
}

// ResolveName implements interpreter.Activation.
func (in *input) ResolveName(name string) (any, bool) {
	switch name {
	case "resource":
		return in.resourceMap(), true
	case "account":
		return in.accountMap(), true
	case "now":
		return in.nowVal, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (in *input) Parent() cel.Activation { return nil }

// ResolveFunction implements interpreter.FunctionActivation: the late-bound functions.
func (in *input) ResolveFunction(name string) (functions.LateBoundOp, bool) {
	switch name {
	case "related":
		return in.relFn, true
	case "age_days":
		return in.ageFn, true
	}
	return nil, false
}

func (in *input) ageDays(_ string, args ...ref.Val) ref.Val {
	if len(args) != 1 {
		return types.NewErr("age_days: want 1 argument, got %d", len(args))
	}
	return celfn.AgeDaysVal(args[0], in.now)
}

// partialInput is the activation for documents with gaps: the same variables, with the
// gap properties marked unknown for partial evaluation.
type partialInput struct {
	*input
	patterns []*cel.AttributePatternType
}

// UnknownAttributePatterns implements interpreter.PartialActivation.
func (p *partialInput) UnknownAttributePatterns() []*cel.AttributePatternType { return p.patterns }

// AsPartialActivation is how cel-go's interpreter recognises a partial activation.
func (p *partialInput) AsPartialActivation() (cel.PartialActivation, bool) { return p, true }

// fillDocumentMap fills m with the CEL view of a document: the JSON field names of
// providers.Resource, eight keys so that the map stays in one small-map group. String
// fields are stored as pointers (CEL reads *string) so that filling allocates nothing;
// properties and tags are shared, not copied. Gaps are visible through unknowns,
// relations through related().
func fillDocumentMap(m map[string]any, r *providers.Resource) {
	props := r.Properties
	if props == nil {
		props = map[string]any{}
	}
	var tags any = r.Tags
	if r.Tags == nil {
		tags = map[string]string{}
	}
	m["provider"] = &r.Provider
	m["account_id"] = &r.AccountID
	m["native_id"] = &r.NativeID
	m["type"] = &r.Type
	m["region"] = &r.Region
	m["name"] = &r.Name
	m["tags"] = tags
	m["properties"] = props
}

// relatedList returns the documents related by kind, as CEL document maps. A gap in a
// related document leaves its key absent, so reading it is an error and the check is
// unknown.
func (in *input) relatedList(kind string) []any {
	if l, ok := in.relatedDocs[kind]; ok {
		return l
	}
	docs := in.doc.Related[kind]
	list := in.docList(len(docs))
	for i := range docs {
		m := in.docMap()
		fillDocumentMap(m, &docs[i])
		list[i] = m
	}
	if in.relatedDocs == nil {
		in.relatedDocs = map[string][]any{}
	}
	in.relatedDocs[kind] = list
	return list
}

// docMap returns an empty map for a document map, reused across documents.
func (in *input) docMap() map[string]any {
	if in.docMapsUsed == len(in.docMaps) {
		in.docMaps = append(in.docMaps, make(map[string]any, 8))
	}
	m := in.docMaps[in.docMapsUsed]
	in.docMapsUsed++
	return m
}

// docList returns a list of n elements for related documents, reused across
// documents when it fits.
func (in *input) docList(n int) []any {
	if in.docListsUsed == len(in.docLists) {
		in.docLists = append(in.docLists, nil)
	}
	l := in.docLists[in.docListsUsed]
	if cap(l) < n || l == nil {
		l = make([]any, max(n, 4))
		in.docLists[in.docListsUsed] = l
	}
	in.docListsUsed++
	return l[:n]
}

// relatedFunc implements related(kind) for cel-go.
func (in *input) relatedFunc(_ string, args ...ref.Val) ref.Val {
	if len(args) != 1 {
		return types.NewErr("related: want 1 argument")
	}
	kind, ok := args[0].(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(args[0])
	}
	if v, ok := in.related[string(kind)]; ok {
		return v
	}
	v := types.DefaultTypeAdapter.NativeToValue(in.relatedList(string(kind)))
	if in.related == nil {
		in.related = map[string]ref.Val{}
	}
	in.related[string(kind)] = v
	return v
}

// activation returns the plain activation, or the partial one that marks gap
// properties unknown.
func (in *input) activation(partial bool) cel.Activation {
	if !partial {
		return in
	}
	if in.partial != nil {
		return in.partial
	}
	p := &partialInput{input: in}
	for _, g := range in.resGaps {
		p.patterns = append(p.patterns, cel.AttributePattern("resource").QualString("properties").QualString(g.Property))
	}
	for _, g := range in.accGaps {
		p.patterns = append(p.patterns, cel.AttributePattern("account").QualString("properties").QualString(g.Property))
	}
	in.partial = p
	return p
}

// relevantGaps lists the gaps of the document that p may read.
func (p *program) relevantGaps(in *input) []string {
	var out []string
	pick := func(root string, gaps []providers.Gap, keys []string, dynamic bool) {
		for _, g := range gaps {
			if dynamic || containsString(keys, g.Property) {
				out = append(out, fmt.Sprintf("%s.properties.%s (%s: %s: %s)", root, g.Property, g.Operation, g.Kind, g.Message))
			}
		}
	}
	pick("resource", in.resGaps, p.resKeys, p.resDynamic)
	pick("account", in.accGaps, p.accKeys, p.accDynamic)
	return out
}

// touchesGaps reports whether p may read a gap property of the document: only then is
// the (slower) partial program needed.
func (p *program) touchesGaps(in *input) bool {
	for _, g := range in.resGaps {
		if p.resDynamic || containsString(p.resKeys, g.Property) {
			return true
		}
	}
	for _, g := range in.accGaps {
		if p.accDynamic || containsString(p.accKeys, g.Property) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// value evaluates one expression: on the fast path when the document has no gap the
// expression may read, or the expression handles gaps (fastExpr.gapSafe), else (or
// when the fast path gives up) with cel-go, by partial evaluation when partial.
func (e *expression) value(in *input, partial bool) (ref.Val, error) {
	if e.fast != nil && !in.plainOnly && (!partial || e.fast.gapSafe) {
		v, ok := e.fast.eval(in)
		if ok {
			return e.lib.toVal(v), nil
		}
		if partial && isUnknown(v, ok) {
			return unknownResult, nil
		}
	}
	return e.run(in.activation(partial), partial)
}

// unknownResult stands for the unknown cel-go's partial evaluation gives where the
// fast path found it (only IsUnknown is asked of it).
var unknownResult ref.Val = types.NewUnknown(0, nil)

// fastString evaluates a string expression on the fast path; ok is false when it does
// not apply or gives up (also for an unknown).
func (e *expression) fastString(in *input, partial bool) (string, bool) {
	if e.fast == nil || in.plainOnly || partial && !e.fast.gapSafe {
		return "", false
	}
	return e.fast.evalString(in)
}

// run evaluates one expression with cel-go.
func (e *expression) run(act cel.Activation, partial bool) (ref.Val, error) {
	prg := e.plain
	if partial {
		prg = e.partial
	}
	v, _, err := prg.Eval(act)
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", e.field, err)
	}
	return v, nil
}

// eval runs the check on a prepared input. A panic of the fast path (a bug) is
// recovered here, counted, and the check evaluated again by cel-go alone, so that it
// costs time, never a wrong or missing result.
func (c *Check) eval(in *input) (res Result) {
	if in.plainOnly {
		return c.evalOnce(in)
	}
	defer func() {
		if recover() != nil {
			fastPanics.Add(1)
			in.plainOnly = true
			res = c.evalOnce(in)
			in.plainOnly = false
		}
	}()
	return c.evalOnce(in)
}

// hotPath holds the fast paths of a check's when and assert for the common case, a
// document without collection gaps: set by setHot when both (or assert, without a
// when) are on the fast path, else assert is nil. Set for every compiled check.
type hotPath struct {
	when, assert fastFn
	// message is the message's fast path, nil when it has none.
	message func(*input) (string, bool)
	slots   int
	// evidenceSet is prog.evidenceSet (read first by every failure).
	evidenceSet int
}

func (c *Check) setHot() {
	p := c.prog
	if p == nil {
		return // not compiled (a check with errors)
	}
	c.hot = hotPath{evidenceSet: p.evidenceSet}
	if p.assert == nil || p.assert.fast == nil || p.when != nil && p.when.fast == nil {
		return
	}
	c.hot.assert, c.hot.slots = p.assert.fast.fn, p.assert.fast.slots
	if p.when != nil {
		c.hot.when = p.when.fast.fn
		c.hot.slots = max(c.hot.slots, p.when.fast.slots)
	}
	if m := p.message; m != nil && m.fast != nil {
		f := m.fast
		c.hot.message = f.str
		if f.str == nil {
			c.hot.message = func(in *input) (string, bool) {
				v, ok := f.fn(in)
				s, isString := v.(string)
				return s, ok && isString
			}
		}
		c.hot.slots = max(c.hot.slots, f.slots)
	}
}

// evalOnce runs the check: the fast path where it applies, cel-go for the rest.
func (c *Check) evalOnce(in *input) Result {
	res := Result{CheckID: c.ID}
	if h := &c.hot; h.assert != nil && !in.plainOnly && len(in.resGaps) == 0 && len(in.accGaps) == 0 {
		// What evalGeneral does when when and assert give a bool on the fast path;
		// anything else is left to it.
		if len(in.slots) < h.slots {
			in.slots = make([]any, h.slots)
		}
		if h.when != nil {
			v, ok := h.when(in)
			b, isBool := v.(bool)
			if !ok || !isBool {
				return c.evalGeneral(in, res)
			}
			if !b {
				res.Status = StatusSkip
				return res
			}
		}
		v, ok := h.assert(in)
		b, isBool := v.(bool)
		if !ok || !isBool {
			return c.evalGeneral(in, res)
		}
		if b {
			res.Status = StatusPass
			return res
		}
		res.Status = StatusFail
		if h.message == nil {
			res.Message, res.Reason = c.messageText(in, false)
		} else if res.Message, ok = h.message(in); !ok {
			res.Message, res.Reason = c.messageText(in, false)
		}
		res.Evidence = c.evidence(in)
		return res
	}
	return c.evalGeneral(in, res)
}

// evalGeneral runs the check on any document: when and assert on the fast path where
// it applies (fastExpr.gapSafe for a document with gaps the check may read), cel-go
// for the rest.
func (c *Check) evalGeneral(in *input, res Result) Result {
	p := c.prog
	partial := (len(in.resGaps) > 0 || len(in.accGaps) > 0) && p.touchesGaps(in)
	if p.when != nil {
		v, err := p.when.value(in, partial)
		switch {
		case err != nil:
			return c.unknown(in, res, partial, err.Error())
		case types.IsUnknown(v):
			return c.unknown(in, res, partial, "when depends on properties that were not collected: "+strings.Join(p.relevantGaps(in), "; "))
		case v != types.True:
			res.Status = StatusSkip
			return res
		}
	}
	v, err := p.assert.value(in, partial)
	switch {
	case err != nil:
		return c.unknown(in, res, partial, err.Error())
	case types.IsUnknown(v):
		return c.unknown(in, res, partial, "depends on properties that were not collected: "+strings.Join(p.relevantGaps(in), "; "))
	case v == types.True:
		res.Status = StatusPass
		return res
	}
	res.Status = StatusFail
	res.Message, res.Reason = c.messageText(in, partial)
	res.Evidence = c.evidence(in)
	return res
}

// messageText evaluates the message of a failure; the check's title stands in when
// it cannot be evaluated, and the reason says why.
func (c *Check) messageText(in *input, partial bool) (msg, reason string) {
	if s, ok := c.prog.message.fastString(in, partial); ok {
		return s, ""
	}
	v, err := c.prog.message.run(in.activation(partial), partial)
	if s, ok := v.(types.String); ok && err == nil {
		return string(s), ""
	}
	if err != nil {
		return c.Title, "message: " + err.Error()
	}
	return c.Title, ""
}

// unknown fills an unknown result: the reason, the message when it evaluates (by
// partial evaluation: a message that reads a gap is left out), and the evidence.
func (c *Check) unknown(in *input, res Result, partial bool, reason string) Result {
	res.Status = StatusUnknown
	res.Reason = reason
	if s, ok := c.prog.message.fastString(in, partial); ok {
		res.Message = s
	} else if msg, err := c.prog.message.run(in.activation(true), true); err == nil {
		if s, ok := msg.(types.String); ok {
			res.Message = string(s)
		}
	}
	res.Evidence = c.evidence(in)
	return res
}

// evidence returns the top-level properties the check reads, as far as the document
// has them, each capped in size. The values are gathered once per document and set of
// properties: the failing checks of one resource mostly read the same properties, and
// share them (results are read-only).
func (c *Check) evidence(in *input) Evidence {
	id := c.hot.evidenceSet
	if id < len(in.evidence) && in.evidence[id].gen == in.props.gen {
		return in.evidence[id].ev
	}
	p := c.prog
	id = p.evidenceSet
	var vals []any
	for i, k := range p.evidence {
		var v any
		var ok bool
		switch {
		case !k.account:
			v, ok = in.props.get(k.slot, k.key, in.doc.Resource.Properties)
		case in.doc.Account != nil:
			v, ok = in.accProps.get(k.slot, k.key, in.doc.Account.Properties)
		}
		if !ok {
			v = absentValue{}
		} else if vals == nil {
			vals = in.vals.alloc(len(p.evidence))
			for j := range i {
				vals[j] = absentValue{}
			}
		}
		if vals != nil {
			vals[i] = v
		}
	}
	var ev Evidence
	if vals != nil {
		ev = Evidence{names: p.evidenceNames, vals: vals}
	}
	if id >= len(in.evidence) {
		in.evidence = append(in.evidence, make([]evidenceEntry, max(id+1, 2*len(in.evidence), 16)-len(in.evidence))...)
	}
	in.evidence[id] = evidenceEntry{gen: in.props.gen, ev: ev}
	in.evidenceUsed = append(in.evidenceUsed, int32(id))
	return ev
}

// evidenceEntry is the evidence of one set of properties for the document of
// generation gen.
type evidenceEntry struct {
	gen uint32
	ev  Evidence
}

// capValue is an evidence value as results give it out: a string longer than
// maxEvidenceValue bytes is cut there, any other value whose JSON encoding is longer
// is replaced by the start of that encoding; both end with a note of the full size.
// The engine keeps the values as the document has them and caps them here, when they
// are read or encoded, so that evaluation never measures a value.
func capValue(v any) any {
	if s, ok := v.(string); ok {
		return capString(s)
	}
	switch x := v.(type) {
	case nil, bool, int, int64:
		return v
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return v
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(unprintable: %v)", err)
	}
	if len(b) <= maxEvidenceValue {
		return v
	}
	return truncatedJSON(b)
}

// capString cuts s after maxEvidenceValue bytes (at a character boundary) and notes
// its full size.
func capString(s string) string {
	if len(s) <= maxEvidenceValue {
		return s
	}
	cut := maxEvidenceValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("...(truncated, %d bytes)", len(s))
}

// truncatedJSON is the capped form of a value whose encoding b is too long.
func truncatedJSON(b []byte) string {
	return capString(string(b))
}

// Evaluate runs the check on one document. The result may be skip (the check does not
// apply). To run many checks on one document, use Registry.Evaluate, which prepares
// the document once.
func (c *Check) Evaluate(ctx context.Context, doc Document) Result {
	if err := ctx.Err(); err != nil {
		return Result{CheckID: c.ID, Status: StatusUnknown, Reason: err.Error()}
	}
	in := newInput()
	in.reset(&doc)
	return c.eval(in)
}
