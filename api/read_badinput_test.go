package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/auth"
)

// TestReadBadInput: every malformed query of the read side is a clear 4xx problem
// naming the parameter, never a 500 and never a silently wider result.
func TestReadBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	resource := "/api/v1/resources/" + e.A.Estate.Resources["alpha-public"].String()
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code, contains     string
	}{
		{"unknown filter", "GET", "/api/v1/findings?severty=high", nil, 400, "bad_request", "severty"},
		{"repeated filter", "GET", "/api/v1/findings?state=open&state=muted", nil, 400, "bad_request", "more than once"},
		{"bad severity", "GET", "/api/v1/findings?severity=high,severe", nil, 422, "validation_failed", "severity"},
		{"bad status", "GET", "/api/v1/findings?status=failed", nil, 422, "validation_failed", "status"},
		{"bad state", "GET", "/api/v1/findings?state=closed", nil, 422, "validation_failed", "or `all`"},
		{"bad provider", "GET", "/api/v1/findings?provider=oracle", nil, 422, "validation_failed", "provider"},
		{"bad account id", "GET", "/api/v1/findings?account_id=42", nil, 422, "validation_failed", "UUID"},
		{"bad sort", "GET", "/api/v1/findings?sort=resource_name", nil, 422, "validation_failed", "sort"},
		{"bad cursor", "GET", "/api/v1/findings?cursor=abc", nil, 422, "validation_failed", "cursor"},
		{"limit too large", "GET", "/api/v1/findings?limit=501", nil, 422, "validation_failed", "limit"},
		{"limit zero", "GET", "/api/v1/findings?limit=0", nil, 422, "validation_failed", "limit"},
		{"bad time", "GET", "/api/v1/findings?first_seen_since=yesterday", nil, 422, "validation_failed", "RFC 3339"},
		{"control without framework", "GET", "/api/v1/findings?control=1.4", nil, 422, "validation_failed", "needs framework"},
		{"unknown framework", "GET", "/api/v1/findings?framework=iso-9001", nil, 422, "validation_failed", "framework"},
		{"unknown control", "GET", "/api/v1/findings?framework=cis-aws-5.0&control=99", nil, 422, "validation_failed", "control"},
		{"over-long text", "GET", "/api/v1/findings?q=" + longText(201), nil, 422, "validation_failed", "at most 200 characters"},
		{"facets take no cursor", "GET", "/api/v1/findings/facets?cursor=x", nil, 400, "bad_request", "cursor"},
		{"export without format", "GET", "/api/v1/findings/export", nil, 422, "validation_failed", "format"},
		{"export bad format", "GET", "/api/v1/findings/export?format=xml", nil, 422, "validation_failed", "format"},
		{"finding not a uuid", "GET", "/api/v1/findings/12", nil, 404, "not_found", ""},
		{"unknown finding", "GET", "/api/v1/findings/6f1c3bde-0d7e-4c41-9a57-1f7f3c1a9b10", nil, 404, "not_found", ""},
		{"mute without ids", "POST", "/api/v1/findings/mute", map[string]any{"justification": "x"}, 422, "validation_failed", "finding_ids"},
		{"mute without justification", "POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{"6f1c3bde-0d7e-4c41-9a57-1f7f3c1a9b10"}}, 422, "validation_failed", "justification"},
		{"mute bad id", "POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{"x"}, "justification": "x"}, 422, "validation_failed", "finding_ids/0"},
		{"mute in the past", "POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{"6f1c3bde-0d7e-4c41-9a57-1f7f3c1a9b10"}, "justification": "x", "expires_at": "2001-01-01T00:00:00Z"}, 422, "validation_failed", "future"},
		{"summary bad days", "GET", "/api/v1/summary?days=7", nil, 422, "validation_failed", "one of 30, 90"},
		{"bad tag", "GET", "/api/v1/resources?tag=env", nil, 422, "validation_failed", "key=value"},
		{"bad include_deleted", "GET", "/api/v1/resources?include_deleted=yes", nil, 422, "validation_failed", "true or false"},
		{"resource cursor of findings", "GET", "/api/v1/resources?cursor=" + findingsCursor(t, e), nil, 422, "validation_failed", "cursor"},
		{"bad version", "GET", resource + "/versions/first", nil, 404, "not_found", ""},
		{"missing version", "GET", resource + "/versions/9", nil, 404, "not_found", ""},
		{"versions bad cursor", "GET", resource + "/versions?cursor=0", nil, 422, "validation_failed", "cursor"},
		{"diff without versions", "GET", resource + "/diff", nil, 422, "validation_failed", "from"},
		{"diff of a missing version", "GET", resource + "/diff?from=1&to=7", nil, 404, "not_found", ""},
		{"at without time", "GET", resource + "/at", nil, 422, "validation_failed", "time"},
		{"at bad time", "GET", resource + "/at?time=now", nil, 422, "validation_failed", "RFC 3339"},
		{"drift bad change", "GET", "/api/v1/drift?change=renamed", nil, 422, "validation_failed", "change"},
		{"drift until before since", "GET", "/api/v1/drift?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", nil, 422, "validation_failed", "until"},
		{"drift bad cursor", "GET", "/api/v1/drift?cursor=" + findingsCursor(t, e), nil, 422, "validation_failed", "cursor"},
		{"checks bad kind", "GET", "/api/v1/checks?kind=rule", nil, 422, "validation_failed", "kind"},
		{"checks unknown framework", "GET", "/api/v1/checks?framework=nope", nil, 422, "validation_failed", "framework"},
		{"custom check without yaml", "POST", "/api/v1/custom-checks", map[string]any{}, 422, "validation_failed", "yaml"},
		{"custom check unknown field", "POST", "/api/v1/custom-checks", map[string]any{"yaml": "x", "id": "y"}, 400, "bad_request", "unknown field"},
		{"custom check not a mapping", "POST", "/api/v1/custom-checks", map[string]any{"yaml": "- a\n- b\n"}, 422, "validation_failed", "errors"},
		{"unknown framework page", "GET", "/api/v1/compliance/frameworks/iso-9001", nil, 404, "not_found", ""},
		{"framework bad account", "GET", "/api/v1/compliance/frameworks/cis-aws-5.0?account_id=x", nil, 422, "validation_failed", "UUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, bearer(e.A.Keys[auth.RoleOwner])...)
			require.Equal(t, tt.status, r.Code, string(r.Body))
			require.Equal(t, tt.code, r.problemCode(t))
			require.Contains(t, string(r.Body), tt.contains)
		})
	}
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/findings?state=all", nil, bearer(e.A.Keys[auth.RoleViewer])...).Code)
}

func longText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

// findingsCursor is a valid cursor of the findings list, to feed other endpoints.
func findingsCursor(t *testing.T, e *env) string {
	r := e.do("GET", "/api/v1/findings?state=all&limit=1", nil, bearer(e.A.Keys[auth.RoleViewer])...)
	return r.json(t)["next_cursor"].(string)
}
