package builtin

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	reg, err := Registry()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(reg.Checks()), 200)
	_, ok := reg.Framework("cis-aws-5.0")
	require.True(t, ok)
	again, err := Registry()
	require.NoError(t, err)
	require.Same(t, reg, again, "compiled once")
}
