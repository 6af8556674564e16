package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/auth"
)

func TestChecksCatalog(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := auth.RoleViewer

	all := items(t, e.get(t, "/api/v1/checks", v))
	require.Greater(t, len(all), 200)
	kinds := map[string]int{}
	for _, c := range all {
		kinds[c["kind"].(string)]++
		require.NotEmpty(t, c["title"], c["id"])
	}
	require.Equal(t, 10, kinds["analyzer"])
	require.Equal(t, 1, kinds["custom"], "only the tenant's own custom check")
	require.NotContains(t, field(all, "id"), e.B.Estate.CustomCheck)

	tests := []struct {
		query string
		check func(t *testing.T, got []map[string]any)
	}{
		{"kind=analyzer&severity=critical", func(t *testing.T, got []map[string]any) {
			require.Equal(t, []string{"aws.iam.role_trust_any_principal", "aws.iam.role_trust_oidc_unrestricted"}, field(got, "id"))
		}},
		{"service=s3&severity=critical", func(t *testing.T, got []map[string]any) {
			require.Contains(t, field(got, "id"), "aws.s3.bucket_no_public_read")
			for _, c := range got {
				require.Equal(t, "critical", c["severity"])
				require.Equal(t, "s3", c["service"])
			}
		}},
		{"q=owner&provider=aws&kind=custom", func(t *testing.T, got []map[string]any) {
			require.Equal(t, []string{"custom.aws.s3.alpha_owner_tag"}, field(got, "id"))
		}},
		{"framework=cis-aws-5.0", func(t *testing.T, got []map[string]any) {
			ids := field(got, "id")
			require.Contains(t, ids, "aws.s3.bucket_public_access_blocked")
			require.Contains(t, ids, "aws.iam.principal_admin_equivalent", "analyzers map to frameworks too")
			require.NotContains(t, ids, "aws.ec2.security_group_all_ports_restricted")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) { tt.check(t, items(t, e.get(t, "/api/v1/checks?"+tt.query, v))) })
	}

	t.Run("detail of a built-in, an analyzer and a custom check", func(t *testing.T) {
		c := e.get(t, "/api/v1/checks/aws.s3.bucket_mfa_delete_enabled", v).json(t)
		require.Equal(t, []any{"2.1.2"}, c["compliance"].(map[string]any)["cis-aws-5.0"])
		require.NotEmpty(t, c["assert"])
		a := e.get(t, "/api/v1/checks/aws.iam.privilege_escalation", v).json(t)
		require.Equal(t, "analyzer", a["kind"])
		require.NotEmpty(t, a["remediation"].(map[string]any)["text"])
		golden(t, "custom_check_detail.json", e.get(t, "/api/v1/checks/"+e.A.Estate.CustomCheck, v).Body)
		r := e.do("GET", "/api/v1/checks/aws.s3.no_such_check", nil, bearer(e.A.Keys[v])...)
		require.Equal(t, http.StatusNotFound, r.Code)
	})
}

func TestCustomChecks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	analyst := bearer(e.A.Keys[auth.RoleAnalyst])

	t.Run("invalid yaml gets every problem with its position", func(t *testing.T) {
		bad := strings.Replace(customCheckYAML("gamma"), `assert: "'owner' in resource.tags"`, `assert: "resource.tags.owner =="`, 1)
		bad = strings.Replace(bad, "severity: medium", "severity: urgent", 1)
		r := e.do("POST", "/api/v1/custom-checks", map[string]any{"yaml": bad}, analyst...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code, string(r.Body))
		require.Equal(t, "validation_failed", r.problemCode(t))
		golden(t, "custom_check_invalid.json", r.Body)
	})
	t.Run("an id without the custom prefix is refused", func(t *testing.T) {
		bad := strings.Replace(customCheckYAML("gamma"), "id: custom.aws.s3.gamma_owner_tag", "id: aws.s3.bucket_no_public_read", 1)
		r := e.do("POST", "/api/v1/custom-checks", map[string]any{"yaml": bad}, analyst...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Contains(t, string(r.Body), `must start with \"custom.\"`)
		require.Contains(t, string(r.Body), `"line":1`)
	})
	t.Run("lifecycle", func(t *testing.T) {
		r := e.do("POST", "/api/v1/custom-checks", map[string]any{"yaml": customCheckYAML("gamma")}, analyst...)
		require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
		cc := r.json(t)
		id := cc["id"].(string)
		require.Equal(t, "custom.aws.s3.gamma_owner_tag", cc["check_id"])
		require.Equal(t, "medium", cc["severity"])
		// The same check id twice is a conflict.
		r = e.do("POST", "/api/v1/custom-checks", map[string]any{"yaml": customCheckYAML("gamma")}, analyst...)
		require.Equal(t, http.StatusConflict, r.Code)

		updated := strings.Replace(customCheckYAML("gamma"), "severity: medium", "severity: high", 1)
		r = e.do("PUT", "/api/v1/custom-checks/"+id, map[string]any{"yaml": updated}, analyst...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		require.Equal(t, "high", r.json(t)["severity"])
		got := e.get(t, "/api/v1/custom-checks/"+id, auth.RoleViewer).json(t)
		require.Equal(t, updated, got["yaml"])
		require.Len(t, items(t, e.get(t, "/api/v1/custom-checks", auth.RoleViewer)), 2)
		require.Equal(t, "high", e.get(t, "/api/v1/checks/custom.aws.s3.gamma_owner_tag", auth.RoleViewer).json(t)["severity"])

		require.Equal(t, http.StatusNoContent, e.do("DELETE", "/api/v1/custom-checks/"+id, nil, analyst...).Code)
		require.Equal(t, http.StatusNotFound, e.do("GET", "/api/v1/custom-checks/"+id, nil, analyst...).Code)
		audit := items(t, e.do("GET", "/api/v1/audit-log?action=custom_check", nil, bearer(e.A.Keys[auth.RoleAdmin])...))
		require.Equal(t, []string{"custom_check.deleted", "custom_check.updated", "custom_check.created"}, field(audit, "action"))
	})
	t.Run("dry run over the inventory", func(t *testing.T) {
		r := e.do("POST", "/api/v1/custom-checks/dry-run", map[string]any{"yaml": customCheckYAML("gamma")}, analyst...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		d := r.json(t)
		require.EqualValues(t, 2, d["evaluated"])
		require.Equal(t, map[string]any{"pass": 1.0, "fail": 1.0, "unknown": 0.0, "skip": 0.0}, d["counts"])
		byName := map[string]map[string]any{}
		for _, res := range d["results"].([]any) {
			m := res.(map[string]any)
			byName[m["name"].(string)] = m
		}
		require.Equal(t, "fail", byName["alpha-public"]["status"])
		require.Equal(t, "bucket alpha-public has no owner tag", byName["alpha-public"]["message"])
		require.Equal(t, e.A.Estate.Resources["alpha-public"].String(), byName["alpha-public"]["resource_id"])
		require.Equal(t, "pass", byName["alpha-logs"]["status"])
		// Nothing was stored.
		require.Len(t, items(t, e.get(t, "/api/v1/custom-checks", auth.RoleViewer)), 1)
	})
}

func TestSummaryAndCompliance(t *testing.T) {
	t.Parallel()
	e := setup(t)
	v := auth.RoleViewer

	t.Run("summary", func(t *testing.T) {
		r := e.get(t, "/api/v1/summary", v)
		golden(t, "summary.json", r.Body)
		s := r.json(t)
		// Passed: 3 pass results (critical 10 + high 5 + high 5) = 20; failed: open fails
		// critical 10 + medium 3 + low 1 = 14 (the deleted group's finding counts nowhere).
		score := s["score"].(map[string]any)
		require.EqualValues(t, 20, score["passed_weight"])
		require.EqualValues(t, 14, score["failed_weight"])
		require.InDelta(t, 58.8, score["value"], 0.001)
		require.Len(t, s["trend"], 30)
		require.Len(t, e.get(t, "/api/v1/summary?days=90", v).json(t)["trend"], 90)
	})
	t.Run("frameworks", func(t *testing.T) {
		list := items(t, e.get(t, "/api/v1/compliance/frameworks", v))
		require.Equal(t, []string{"aws-fsbp", "cis-aws-5.0"}, field(list, "id"))
		fw := e.get(t, "/api/v1/compliance/frameworks/cis-aws-5.0", v).json(t)
		status := map[string]string{}
		for _, c := range fw["controls_posture"].([]any) {
			m := c.(map[string]any)
			status[m["id"].(string)] = m["status"].(string)
		}
		require.Equal(t, "pass", status["2.1.4"], "public access is blocked on both buckets now")
		require.Equal(t, "manual", status["2.1.2"])
		require.Equal(t, "unknown", status["2.1.1"], "nothing evaluated")
		require.Equal(t, fw["posture"], list[1]["posture"])

		fsbp := e.get(t, "/api/v1/compliance/frameworks/aws-fsbp", v).json(t)
		for _, c := range fsbp["controls_posture"].([]any) {
			m := c.(map[string]any)
			if strings.Contains(strings.Join(toStrings(m["checks"]), " "), "aws.s3.bucket_no_public_read") {
				require.Equal(t, "fail", m["status"], m["id"])
			}
		}
	})
	t.Run("control", func(t *testing.T) {
		r := e.get(t, "/api/v1/compliance/frameworks/cis-aws-5.0/controls/2.1.4", v)
		golden(t, "compliance_control.json", r.Body)
		other := e.get(t, "/api/v1/compliance/frameworks/cis-aws-5.0/controls/2.1.4?account_id="+e.B.AccountID.String(), v).json(t)
		require.Equal(t, "unknown", other["status"], "another tenant's account has nothing here")
		require.Equal(t, http.StatusNotFound, e.do("GET", "/api/v1/compliance/frameworks/cis-aws-5.0/controls/99.9", nil, bearer(e.A.Keys[v])...).Code)
	})
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
