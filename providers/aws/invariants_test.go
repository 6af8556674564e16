package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/providers/aws/awstest"
)

// accessDeniedCode is the code each service answers a denied call with.
func accessDeniedCode(op string) string {
	service := op[:strings.Index(op, ":")]
	switch {
	case service == "EC2":
		return "UnauthorizedOperation"
	case slices.Contains(queryServices, service) || slices.Contains(restXMLServices, service):
		return "AccessDenied"
	default:
		return "AccessDeniedException"
	}
}

// TestInvariants runs every unit of the plan against the seeded estate and checks what
// must hold for every collector:
//   - documents carry an ARN native id, a type of the unit, the account id, a region
//     consistent with the unit, a name, and unique ids;
//   - AccessDenied on the unit's first (list) call fails the unit with KindAccessDenied;
//   - AccessDenied on any later call either fails the unit the same way (another list
//     call) or becomes a Gap, with the property absent, on the same set of documents:
//     never a silently missing or false value;
//   - a ThrottlingException on the list call is retried and the unit completes.
func TestInvariants(t *testing.T) {
	srv := seededServer(t)
	p, _ := newProvider(t, srv, nil)
	units, err := p.Plan(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, units)
	// The units mostly wait on moto: run eight at a time whatever -parallel says
	// (t.Run may be called from several goroutines).
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, unit := range units {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.Run(unit.String(), func(t *testing.T) { checkUnitInvariants(t, srv, unit) })
		}()
	}
}

// checkUnitInvariants checks one unit; see TestInvariants.
func checkUnitInvariants(t *testing.T, srv *awstest.Server, unit providers.Unit) {
	ctx := context.Background()
	p, tr := newProvider(t, srv, nil)
	tr.takeCalls() // sts:GetCallerIdentity of New
	run := func() ([]providers.Resource, error) {
		var docs []providers.Resource
		err := p.Collect(ctx, unit, func(_ context.Context, r providers.Resource) error {
			docs = append(docs, r)
			return nil
		})
		return docs, err
	}

	base, err := run()
	require.NoError(t, err)
	calls := tr.takeCalls()
	require.NotEmpty(t, calls, "the unit called no API")
	ids := map[string]bool{}
	for _, d := range base {
		require.Equal(t, providers.AWS, d.Provider)
		require.True(t, strings.HasPrefix(d.NativeID, "arn:aws:"), "native id %q is not an ARN", d.NativeID)
		require.False(t, ids[d.NativeID], "duplicate native id %s", d.NativeID)
		ids[d.NativeID] = true
		require.Contains(t, unit.Types, d.Type)
		require.Equal(t, awstest.AccountID, d.AccountID)
		require.NotEmpty(t, d.Name, "%s has no name", d.NativeID)
		require.NotNil(t, d.Properties)
		require.NoError(t, plainJSON(d.Properties), "%s: properties must hold plain JSON values only", d.NativeID)
		require.NotNil(t, d.Tags)
		require.Empty(t, d.Gaps, "%s has gaps against moto", d.NativeID)
		if unit.Region == providers.RegionGlobal {
			require.True(t, d.Region == providers.RegionGlobal || slices.Contains(p.Regions(), d.Region), "region %q", d.Region)
		} else {
			require.Equal(t, unit.Region, d.Region)
		}
		for _, rel := range d.Relations {
			require.NotEmpty(t, rel.Kind)
			require.True(t, strings.HasPrefix(rel.TargetID, "arn:aws:"), "relation target %q is not an ARN", rel.TargetID)
		}
	}

	var ops []string
	for _, c := range calls {
		if !slices.Contains(ops, c) {
			ops = append(ops, c)
		}
	}
	for i, op := range ops {
		tr.set(op, rule{status: 403, code: accessDeniedCode(op)})
		docs, err := run()
		tr.clear(op)
		if i == 0 || err != nil {
			require.Error(t, err, "AccessDenied on the list call %s must fail the unit", op)
			require.Equal(t, providers.KindAccessDenied, providers.KindOf(err), "%s: %v", op, err)
			continue
		}
		require.Len(t, docs, len(base), "AccessDenied on %s changed the documents emitted", op)
		gaps := 0
		for _, d := range docs {
			for _, g := range d.Gaps {
				require.Equal(t, providers.KindAccessDenied, g.Kind)
				require.NotContains(t, d.Properties, g.Property, "gap %s of %s is also a value", g.Property, d.NativeID)
				require.NotEmpty(t, g.Operation)
				gaps++
			}
		}
		require.NotZero(t, gaps, "AccessDenied on %s left no gap: a value was silently dropped or defaulted", op)
	}

	tr.set(ops[0], rule{status: 400, code: "ThrottlingException", times: 1})
	tr.takeCalls()
	docs, err := run()
	require.NoError(t, err, "a throttled %s must be retried", ops[0])
	require.Len(t, docs, len(base))
	first := tr.takeCalls()
	require.GreaterOrEqual(t, len(first), 2)
	require.Equal(t, []string{ops[0], ops[0]}, first[:2], "the throttled call was not retried")
}

// plainJSON reports the first value that is not a JSON value as encoding/json decodes
// it (map[string]any, []any, string, float64, bool, nil): the contract of
// providers.Resource.Properties, which evaluation in memory (vigil scan) relies on.
func plainJSON(v any) error {
	switch x := v.(type) {
	case nil, string, float64, bool:
		return nil
	case map[string]any:
		for k, c := range x {
			if err := plainJSON(c); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	case []any:
		for i, c := range x {
			if err := plainJSON(c); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%T is not a JSON value", v)
}
