package aws_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	vaws "github.com/vigilsec/vigil/providers/aws"
)

// TestAccountMonitoringChain checks that the CIS monitoring keys of the account
// document follow the trail -> metric filter -> alarm -> subscription chain of the
// estate, and that a failed call makes its key and every later key a gap naming that
// call, never an empty (and so failing) list.
func TestAccountMonitoringChain(t *testing.T) {
	srv := seededServer(t)
	keys := []string{"MetricFilters", "MetricAlarms", "SnsTopicSubscriptions"}
	account := func(t *testing.T, deny string) providers.Resource {
		p, tr := newProvider(t, srv, func(c *vaws.Config) { c.Types = []string{vaws.TypeAccount} })
		if deny != "" {
			tr.set(deny, rule{status: 403, code: accessDeniedCode(deny)})
		}
		docs, results := collect(t, p)
		for _, r := range results {
			require.NoError(t, r.Err)
		}
		require.Len(t, docs, 1)
		return docs[0]
	}

	t.Run("collected", func(t *testing.T) {
		t.Parallel()
		doc := account(t, "")
		require.Empty(t, doc.Gaps)
		filters := doc.Properties["MetricFilters"].([]any)
		require.Len(t, filters, 1)
		require.Equal(t, "/aws/cloudtrail", filters[0].(map[string]any)["LogGroupName"])
		alarms := doc.Properties["MetricAlarms"].([]any)
		require.Len(t, alarms, 1)
		alarm := alarms[0].(map[string]any)
		require.Equal(t, "RootUsage", alarm["MetricName"])
		require.NotContains(t, alarm, "StateValue", "alarm state churns the account document")
		subs := doc.Properties["SnsTopicSubscriptions"].(map[string]any)
		require.Len(t, subs, 1)
		for topic, list := range subs {
			require.Equal(t, "arn:aws:sns:us-east-1:123456789012:alerts", topic)
			sub := list.([]any)[0].(map[string]any)
			require.Equal(t, "email", sub["Protocol"])
			require.NotContains(t, sub, "Endpoint", "subscription endpoints are never collected")
		}
	})

	for _, tc := range []struct {
		deny string
		gaps []string // the keys that become gaps, each naming op
		op   string
	}{
		{"CloudTrail:GetTrailStatus", append([]string{"MultiRegionTrails"}, keys...), ""},
		{"CloudWatch Logs:DescribeMetricFilters", keys, "logs:DescribeMetricFilters"},
		{"CloudWatch:DescribeAlarms", keys[1:], "cloudwatch:DescribeAlarms"},
		{"SNS:ListSubscriptionsByTopic", keys[2:], "sns:ListSubscriptionsByTopic"},
	} {
		t.Run("denied "+tc.deny, func(t *testing.T) {
			t.Parallel()
			doc := account(t, tc.deny)
			var got []string
			for _, g := range doc.Gaps {
				require.Equal(t, providers.KindAccessDenied, g.Kind)
				require.NotContains(t, doc.Properties, g.Property)
				if tc.op != "" {
					require.Equal(t, tc.op, g.Operation, g.Property)
				}
				got = append(got, g.Property)
			}
			require.ElementsMatch(t, tc.gaps, got)
			for _, k := range keys {
				if !slices.Contains(tc.gaps, k) {
					require.Contains(t, doc.Properties, k, "a key before the failed call is kept")
				}
			}
		})
	}
}
