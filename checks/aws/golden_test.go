package awschecks_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/providers"
)

// goldenDir holds the documents the AWS collectors emit against moto_server, one file
// per type (providers/aws golden tests keep them current).
const goldenDir = "../../providers/aws/testdata/golden"

// TestBuiltinChecksOnCollectedDocuments runs every check over the documents the
// collectors really emit, so that a property key that does not exist (a typo, or a
// collector that names an enrichment differently) shows up as an error instead of a
// silent unknown in production.
func TestBuiltinChecksOnCollectedDocuments(t *testing.T) {
	t.Parallel()
	reg := loadBuiltins(t)
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no golden documents in %s", goldenDir)

	docs := map[string][]providers.Resource{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var list []providers.Resource
		require.NoError(t, json.Unmarshal(data, &list), f)
		for _, r := range list {
			r.Properties = unscrub(r.Properties).(map[string]any)
			docs[r.Type] = append(docs[r.Type], r)
		}
	}
	require.Len(t, docs["aws.account"], 1)
	account := docs["aws.account"][0]

	ctx := context.Background()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	counts := map[checks.Status]int{}
	byCheck := map[string]map[checks.Status]int{}
	for typ, list := range docs {
		for _, c := range reg.ForType(typ) {
			for _, r := range list {
				got := c.Evaluate(ctx, checks.Document{Resource: r, Account: &account, Now: now})
				counts[got.Status]++
				if byCheck[c.ID] == nil {
					byCheck[c.ID] = map[checks.Status]int{}
				}
				byCheck[c.ID][got.Status]++
				// Golden documents have no gaps: every unknown is an evaluation error (a key
				// the collector does not emit, a wrong type), i.e. a broken check.
				if got.Status == checks.StatusUnknown {
					t.Errorf("%s on %s %s: unknown because of an evaluation error: %s", c.ID, typ, r.Name, got.Reason)
				}
			}
		}
	}
	t.Logf("results over %d golden types: %v", len(docs), counts)

	// Results the seeded estate decides (providers/aws estate_test.go): they prove that
	// the checks read the enrichments the collectors add, in both directions.
	pass, fail := checks.StatusPass, checks.StatusFail
	for id, want := range map[string]map[checks.Status]int{
		// Trail -> /aws/cloudtrail log group with the CIS root filter -> alarm -> topic
		// with a confirmed e-mail subscription; no other CIS filter exists.
		"aws.cloudwatch.root_usage_monitored":             {pass: 1},
		"aws.cloudwatch.unauthorized_api_calls_monitored": {fail: 1},
		"aws.cloudtrail.multi_region_trail_logging":       {pass: 1},
		// Recorder, detector and hub in us-east-1 only.
		"aws.config.recorder_enabled_in_region":       {fail: 1},
		"aws.guardduty.enabled_in_region":             {fail: 1},
		"aws.securityhub.enabled_in_region":           {fail: 1},
		"aws.accessanalyzer.enabled_in_region":        {pass: 1},
		"aws.iam.support_role_exists":                 {fail: 1},
		"aws.iam.cloudshell_full_access_not_attached": {pass: 1},
		// One file system with automatic backups, one without; one public policy.
		"aws.efs.file_system_backup_enabled":    {pass: 1, fail: 1},
		"aws.efs.file_system_policy_not_public": {pass: 1, fail: 1},
		// API_TOKEN holds a literal value (redacted by the collector).
		"aws.lambda.function_no_secrets_in_environment":          {fail: 1},
		"aws.elasticloadbalancingv2.lb_deletion_protection":      {pass: 1},
		"aws.elasticloadbalancing.clb_access_logging_enabled":    {fail: 1},
		"aws.elasticache.replication_group_encrypted_in_transit": {pass: 1},
	} {
		require.Equal(t, want, byCheck[id], id)
	}

	// Every check must apply to a type the collectors emit: a check on another type is
	// dead code that never produces a result.
	for _, c := range reg.Checks() {
		_, ok := docs[c.Resource]
		require.True(t, ok, "%s checks %s, which no collector emits (no golden document)", c.ID, c.Resource)
	}
}

// unscrub replaces the "<time>" placeholders of golden files with a real time, so that
// date arithmetic in checks can run.
func unscrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = unscrub(e)
		}
	case []any:
		for i, e := range x {
			x[i] = unscrub(e)
		}
	case string:
		if x == "<time>" {
			return "2026-11-01T00:00:00Z"
		}
	}
	return v
}
