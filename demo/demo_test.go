package demo

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// collect replays one snapshot through the real collectors.
func collect(t *testing.T, snap string) (map[string][]providers.Resource, []string) {
	t.Helper()
	ctx := context.Background()
	p, err := NewProvider(ctx, store.Account{Config: map[string]any{"demo_snapshot": snap}})
	require.NoError(t, err)
	units, err := p.Plan(ctx)
	require.NoError(t, err)
	byType := map[string][]providers.Resource{}
	var failed []string
	for _, u := range units {
		err := p.Collect(ctx, u, func(_ context.Context, r providers.Resource) error {
			byType[r.Type] = append(byType[r.Type], r)
			return nil
		})
		if err != nil {
			failed = append(failed, u.String()+": "+err.Error())
		}
	}
	return byType, failed
}

func names(rs []providers.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// TestReplay: both recordings replay through the real collectors with every unit
// complete, and show the changes the recorder made between the days.
func TestReplay(t *testing.T) {
	t.Parallel()
	day1, failed := collect(t, "day1")
	require.Empty(t, failed, "every unit replays")
	day2, failed := collect(t, "day2")
	require.Empty(t, failed)
	for typ, docs := range day1 {
		t.Logf("day1 %s: %d", typ, len(docs))
	}

	require.ElementsMatch(t, []string{"ana.admin", "ci-deployer", "read-only-auditor"}, names(day1["aws.iam.user"]))
	require.ElementsMatch(t, []string{"ana.admin", "ci-deployer", "read-only-auditor", "contractor-temp"}, names(day2["aws.iam.user"]))
	require.ElementsMatch(t, []string{"acme-customer-data", "acme-public-website", "acme-access-logs"}, names(day1["aws.s3.bucket"]))
	require.Len(t, day1["aws.account"], 1)
	require.Len(t, day1["aws.ec2.instance"], 2)
	require.Contains(t, names(day1["aws.ec2.volume"]), "scratch-us-east-1")
	require.NotContains(t, names(day2["aws.ec2.volume"]), "scratch-us-east-1", "deleted on day 2")
	require.Contains(t, names(day2["aws.ec2.volume"]), "encrypted-data", "created on day 2")

	var website providers.Resource
	for _, b := range day2["aws.s3.bucket"] {
		if b.Name == "acme-public-website" {
			website = b
		}
	}
	require.NotNil(t, website.Properties["Policy"], "day 2 made the website bucket public")
}
