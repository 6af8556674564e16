package providers

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStableProperties(t *testing.T) {
	t.Parallel()
	props := map[string]any{
		"UserName":         "ana",
		"PasswordLastUsed": "2026-01-01T00:00:00Z",
		"AccessKeys": []any{
			map[string]any{"AccessKeyId": "AKIA1", "LastUsed": map[string]any{"LastUsedDate": "x"}},
		},
	}
	stable := StableProperties("aws.iam.user", props)
	require.Equal(t, map[string]any{"UserName": "ana", "AccessKeys": []any{map[string]any{"AccessKeyId": "AKIA1"}}}, stable)
	require.Contains(t, props, "PasswordLastUsed", "the input is not modified")
	require.Contains(t, props["AccessKeys"].([]any)[0], "LastUsed")

	other := map[string]any{"PasswordLastUsed": "kept for types without rules"}
	require.Equal(t, other, StableProperties("aws.s3.bucket", other))
}
