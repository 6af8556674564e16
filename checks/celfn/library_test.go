package celfn_test

import (
	"testing"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

// evalCase is one expression evaluated with the library over a document variable `doc`.
type evalCase struct {
	name    string
	expr    string
	doc     map[string]any
	want    any    // Go value the result must equal
	wantErr string // substring of the evaluation error
}

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// runCases compiles each expression in an environment with the library and checks the
// result: the bindings and the Go functions are tested together, as checks use them.
func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	env, err := cel.NewEnv(celfn.Library(), cel.Variable("doc", cel.MapType(cel.StringType, cel.DynType)))
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ast, iss := env.Compile(tc.expr)
			require.NoError(t, iss.Err())
			prg, err := env.Program(ast)
			require.NoError(t, err)
			doc := tc.doc
			if doc == nil {
				doc = map[string]any{}
			}
			act, err := cel.FunctionVars(map[string]any{"doc": doc}, celfn.LateBindings(testNow))
			require.NoError(t, err)
			out, _, err := prg.Eval(act)
			if tc.wantErr != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.False(t, types.IsError(out))
			require.Equal(t, tc.want, out.Value())
		})
	}
}

func TestNative(t *testing.T) {
	t.Parallel()
	env, err := cel.NewEnv()
	require.NoError(t, err)
	tests := []struct {
		name string
		expr string
		want any
	}{
		{"literal list", `[1, "a", true, null]`, []any{int64(1), "a", true, nil}},
		{"literal map", `{"k": [2.5]}`, map[string]any{"k": []any{2.5}}},
		{"string", `"s"`, "s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ast, iss := env.Compile(tc.expr)
			require.NoError(t, iss.Err())
			prg, err := env.Program(ast)
			require.NoError(t, err)
			out, _, err := prg.Eval(cel.NoVars())
			require.NoError(t, err)
			got, err := celfn.Native(out)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
