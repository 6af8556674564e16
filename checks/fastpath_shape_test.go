package checks

import (
	"os"
	"testing"

	celast "cel.dev/cel-go/common/ast"
	"github.com/stretchr/testify/require"
)

// TestBuiltinComprehensionShapes keeps every comprehension of the built-in checks on
// one of the fast path's dedicated loops (cel.bind, all/exists, map/filter) rather
// than the generic fold, which evaluates the macro's accumulator steps one by one.
func TestBuiltinComprehensionShapes(t *testing.T) {
	t.Parallel()
	co, err := defaultCompiler()
	require.NoError(t, err)
	reg, err := Load(os.DirFS("aws"), ".")
	require.NoError(t, err)
	for _, c := range reg.Checks() {
		for _, src := range []string{c.When, c.Assert, c.Message} {
			if src == "" {
				continue
			}
			ast, iss := co.env.Compile(src)
			require.NoError(t, iss.Err())
			celast.PostOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
				if e.Kind() != celast.ComprehensionKind {
					return
				}
				f := e.AsComprehension()
				_, quant := quantifier(f)
				_, list := listBuilder(f)
				bind := f.IterRange().Kind() == celast.ListKind && f.IterRange().AsList().Size() == 0
				require.True(t, quant || list || bind, "%s: comprehension over %s takes the generic fold", c.ID, f.IterVar())
			}))
		}
	}
}
