package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCatalogUpToDate re-runs the generator over the repository's go.mod and the
// override file and requires the committed catalog.json to be identical: a change of
// SDK versions or overrides must come with a regenerated catalog.
func TestCatalogUpToDate(t *testing.T) {
	got, err := generate("../../../go.mod", "overrides.json")
	require.NoError(t, err)
	want, err := os.ReadFile("../catalog.json")
	require.NoError(t, err)
	require.True(t, string(want) == string(got),
		"checks/iampolicy/catalog.json is stale: run `go generate ./checks/iampolicy`")
}

func TestLevelOf(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"ListUsers":             "List",
		"DescribeInstances":     "List",
		"ListTagsForResource":   "List",
		"GetObject":             "Read",
		"HeadObject":            "Read",
		"BatchGetItem":          "Read",
		"TagResource":           "Tagging",
		"UntagRole":             "Tagging",
		"CreateTags":            "Tagging",
		"AddTagsToResource":     "Tagging",
		"PutBucketTagging":      "Tagging",
		"PutBucketPolicy":       "Permissions management",
		"AttachRolePolicy":      "Permissions management",
		"AddPermission":         "Permissions management",
		"CreateGrant":           "Permissions management",
		"PutObjectAcl":          "Permissions management",
		"CreateNetworkAcl":      "Write",
		"RunInstances":          "Write",
		"DeleteBucket":          "Write",
		"GetBucketPolicyStatus": "Read",
	}
	for action, want := range cases {
		require.Equal(t, want, levelOf(action), action)
	}
}

func TestGenerateRejectsBadOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/o.json"
	require.NoError(t, os.WriteFile(path, []byte(`{"modules":{"nosuchmodule":{"exclude":true}}}`), 0o600))
	_, err := generate("../../../go.mod", path)
	require.ErrorContains(t, err, `"nosuchmodule", which go.mod does not require`)
	require.NoError(t, os.WriteFile(path, []byte(`{"modules":{"iam":{"typo":true}}}`), 0o600))
	_, err = generate("../../../go.mod", path)
	require.ErrorContains(t, err, "unknown field")
}
