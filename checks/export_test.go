package checks

import "context"

// Hooks for the external tests of this package (compiled into tests only).

// EvaluatePath runs the check on one document with the fast path on (fast) or off
// (cel-go only), the two paths the differential tests compare.
func EvaluatePath(ctx context.Context, c *Check, doc Document, fast bool) Result {
	if err := ctx.Err(); err != nil {
		return Result{CheckID: c.ID, Status: StatusUnknown, Reason: err.Error()}
	}
	in := newInput()
	in.reset(&doc)
	in.plainOnly = !fast
	return c.eval(in)
}

// FastPathErrors returns, for each expression of the check (when, assert, message),
// nil when it compiled to the fast path, else why not.
func FastPathErrors(c *Check) map[string]error {
	out := map[string]error{}
	for _, e := range []*expression{c.prog.when, c.prog.assert, c.prog.message} {
		if e == nil {
			continue
		}
		switch {
		case e.fast != nil:
			out[e.field] = nil
		case e.fastErr != nil:
			out[e.field] = e.fastErr
		default:
			out[e.field] = errNoFastPath
		}
	}
	return out
}

var errNoFastPath = &unsupportedError{what: "fast path off (runtime cost tracking)"}

// FastAnswers evaluates each expression of the check that has a fast path on the
// document and reports, by field, whether the fast path answered (true) or handed the
// evaluation to cel-go (false).
func FastAnswers(c *Check, doc Document) map[string]bool {
	in := newInput()
	in.reset(&doc)
	out := map[string]bool{}
	for _, e := range []*expression{c.prog.when, c.prog.assert, c.prog.message} {
		if e == nil || e.fast == nil {
			continue
		}
		_, ok := e.fast.eval(in)
		out[e.field] = ok
	}
	return out
}

// FixtureDoc builds the evaluation input of the check's i-th fixture.
func FixtureDoc(c *Check, i int) (Document, error) {
	return c.Tests[i].document(c.Resource)
}

// EvaluateRegistryPath is Registry.Evaluate with the fast path on or off: one input
// for all the checks of the document, so the per-document caches are shared as in
// production.
func EvaluateRegistryPath(r *Registry, doc Document, fast bool) []Result {
	in := newInput()
	in.reset(&doc)
	in.plainOnly = !fast
	var out []Result
	for _, c := range r.byType[doc.Resource.Type] {
		if res := c.eval(in); res.Status != StatusSkip {
			out = append(out, res)
		}
	}
	return out
}

// FastPanics is the number of panics the fast path recovered from so far.
func FastPanics() int64 { return fastPanics.Load() }

// BreakFastPath makes the check's fast expressions panic (a fast path bug), and
// returns the function that repairs them and forgets the panics they caused.
func BreakFastPath(c *Check) (repair func()) {
	before := fastPanics.Load()
	var saved []fastFn
	for _, e := range []*expression{c.prog.when, c.prog.assert, c.prog.message} {
		if e == nil || e.fast == nil {
			continue
		}
		saved = append(saved, e.fast.fn)
		e.fast.fn = func(*input) (any, bool) { panic("broken fast path") }
	}
	c.setHot()
	return func() {
		i := 0
		for _, e := range []*expression{c.prog.when, c.prog.assert, c.prog.message} {
			if e == nil || e.fast == nil {
				continue
			}
			e.fast.fn = saved[i]
			i++
		}
		c.setHot()
		fastPanics.Store(before)
	}
}
