package checks

import (
	"context"
	"fmt"

	"github.com/vigilsec/vigil/providers"
)

// FixtureFailure is a fixture whose check did not give the expected status, or whose
// document could not be built.
type FixtureFailure struct {
	CheckID string
	Source  string
	Index   int
	Fixture string
	Expect  Status
	Got     Result
	Err     error
}

// Problem renders the failure as a validation problem.
func (f FixtureFailure) Problem() Problem {
	field := fmt.Sprintf("tests[%d]", f.Index)
	if f.Err != nil {
		return Problem{File: f.Source, Field: field, Message: fmt.Sprintf("fixture %q: %v", f.Fixture, f.Err)}
	}
	msg := fmt.Sprintf("fixture %q: want %s, got %s", f.Fixture, f.Expect, f.Got.Status)
	if f.Got.Reason != "" {
		msg += " (" + f.Got.Reason + ")"
	}
	return Problem{File: f.Source, Field: field, Message: msg}
}

// String implements fmt.Stringer for test output.
func (f FixtureFailure) String() string { return f.CheckID + ": " + f.Problem().String() }

// RunFixtures evaluates every fixture of the check and returns the ones that did not
// give their expected status.
func (c *Check) RunFixtures(ctx context.Context) []FixtureFailure {
	var out []FixtureFailure
	for i, f := range c.Tests {
		fail := FixtureFailure{CheckID: c.ID, Source: c.Source, Index: i, Fixture: f.Name, Expect: f.Expect}
		doc, err := f.document(c.Resource)
		if err != nil {
			fail.Err = err
			out = append(out, fail)
			continue
		}
		got := c.Evaluate(ctx, doc)
		if got.Status != f.Expect {
			fail.Got = got
			out = append(out, fail)
		}
	}
	return out
}

// document builds the evaluation input of a fixture.
func (f Fixture) document(resourceType string) (Document, error) {
	res, err := f.Resource.toResource(resourceType)
	if err != nil {
		return Document{}, fmt.Errorf("resource: %w", err)
	}
	doc := Document{Resource: res, Now: fixtureNow}
	if f.Now != nil {
		doc.Now = *f.Now
	}
	if f.Account != nil {
		acc, err := f.Account.toResource("")
		if err != nil {
			return Document{}, fmt.Errorf("account: %w", err)
		}
		if acc.Type == "" {
			acc.Type = res.Provider + ".account"
		}
		doc.Account = &acc
	}
	for i, rel := range f.Related {
		r, err := rel.Resource.toResource("")
		if err != nil {
			return Document{}, fmt.Errorf("related[%d]: %w", i, err)
		}
		if doc.Related == nil {
			doc.Related = map[string][]providers.Resource{}
		}
		doc.Related[rel.Kind] = append(doc.Related[rel.Kind], r)
	}
	return doc, nil
}
