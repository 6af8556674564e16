package iamgraph

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/iampolicy"
	"github.com/vigilsec/vigil/providers"
)

var testNow = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func key(id, status, created string, lastUsed any) map[string]any {
	return map[string]any{"AccessKeyId": id, "Status": status, "CreateDate": created, "UserName": "x",
		"LastUsed": map[string]any{"LastUsedDate": lastUsed, "Region": "N/A", "ServiceName": "N/A"}}
}

func TestUnused(t *testing.T) {
	t.Parallel()
	old := "2020-01-01T00:00:00Z"
	gapUser := user(t, "gap", props(map[string]any{"CreateDate": old}))
	delete(gapUser.Properties, "AccessKeys")
	gapUser.Gaps = []providers.Gap{{Property: "AccessKeys", Operation: "iam:ListAccessKeys", Kind: providers.KindAccessDenied, Message: "denied"}}
	account := providers.Resource{Provider: "aws", AccountID: acct, NativeID: "arn:aws:iam::" + acct + ":root", Type: TypeAccount, Region: "global",
		Properties: map[string]any{"CredentialReport": []any{
			map[string]any{"user": "report", "arn": userARN("report"), "password_last_used": "no_information", "access_key_1_last_used_date": "2026-11-10T08:00:00+00:00", "access_key_2_last_used_date": "N/A"},
		}}}
	res := []providers.Resource{
		account,
		user(t, "fresh", props(map[string]any{"CreateDate": "2026-11-01T00:00:00Z"})),
		user(t, "active", props(map[string]any{"CreateDate": old, "PasswordLastUsed": "2026-11-01T00:00:00Z"})),
		user(t, "dormant", props(map[string]any{"CreateDate": old, "PasswordLastUsed": "2025-01-01T00:00:00Z"})),
		user(t, "never", props(map[string]any{"CreateDate": old})),
		user(t, "report", props(map[string]any{"CreateDate": old})),
		gapUser,
		user(t, "stalekey", props(map[string]any{"CreateDate": old, "PasswordLastUsed": "2026-11-20T00:00:00Z", "AccessKeys": []any{
			key("AKIASTALE", "Active", old, "2025-01-01T00:00:00Z"), key("AKIAOFF", "Inactive", old, nil)}})),
		user(t, "newkey", props(map[string]any{"CreateDate": old, "AccessKeys": []any{key("AKIANEW", "Active", "2026-11-15T00:00:00Z", nil)}})),
		role(t, "linked", trustService("ec2.amazonaws.com"), props(map[string]any{"Path": "/aws-service-role/ec2.amazonaws.com/"})),
		role(t, "used", trustService("ec2.amazonaws.com"), props(map[string]any{"RoleLastUsed": map[string]any{"LastUsedDate": "2026-11-01T00:00:00Z", "Region": "eu-west-1"}})),
		role(t, "stale", trustService("ec2.amazonaws.com"), props(map[string]any{"RoleLastUsed": map[string]any{"LastUsedDate": "2025-01-01T00:00:00Z", "Region": "eu-west-1"}})),
		role(t, "never-used", trustService("ec2.amazonaws.com")),
		role(t, "new", trustService("ec2.amazonaws.com"), props(map[string]any{"CreateDate": "2026-11-20T00:00:00Z"})),
	}
	g := build(t, res...)
	fs := unusedFindings(g, testNow, 90)
	want := map[string]map[string]string{
		IDUserUnused: {
			userARN("fresh"): StatusPass, userARN("active"): StatusPass, userARN("dormant"): StatusFail, userARN("never"): StatusFail,
			userARN("report"): StatusPass, userARN("gap"): StatusUnknown, userARN("stalekey"): StatusPass, userARN("newkey"): StatusFail,
		},
		IDAccessKeyUnused: {
			userARN("fresh"): StatusPass, userARN("active"): StatusPass, userARN("dormant"): StatusPass, userARN("never"): StatusPass,
			userARN("report"): StatusPass, userARN("gap"): StatusUnknown, userARN("stalekey"): StatusFail, userARN("newkey"): StatusPass,
		},
		IDRoleUnused: {
			roleARN("linked"): StatusPass, roleARN("used"): StatusPass, roleARN("stale"): StatusFail, roleARN("never-used"): StatusFail, roleARN("new"): StatusPass,
		},
	}
	n := 0
	for check, byARN := range want {
		for arn, status := range byARN {
			f := findingFor(t, fs, check, arn)
			require.Equal(t, status, f.Status, "%s %s: %s", check, arn, f.Message)
			n++
		}
	}
	require.Len(t, fs, n, "one finding per analyzer and principal")
	stale := findingFor(t, fs, IDAccessKeyUnused, userARN("stalekey"))
	require.Contains(t, stale.Message, "AKIASTALE")
	require.NotContains(t, stale.Message, "AKIAOFF")

	// A shorter threshold turns "active" (last used 21 days ago) into a failure.
	fs = unusedFindings(g, testNow, 14)
	require.Equal(t, StatusFail, findingFor(t, fs, IDUserUnused, userARN("active")).Status)
}

func loadSLA(t *testing.T) *ServiceLastAccessedDetails {
	data, err := os.ReadFile("testdata/service-last-accessed.json")
	require.NoError(t, err)
	d, err := ParseServiceLastAccessed(data)
	require.NoError(t, err)
	return d
}

func TestServiceLastAccessed(t *testing.T) {
	t.Parallel()
	d := loadSLA(t)
	require.Len(t, d.ServicesLastAccessed, 5)
	used, unused := d.UsedServices(testNow.AddDate(0, 0, -90))
	require.Equal(t, []string{"kms", "s3"}, used)
	require.Equal(t, []string{"dynamodb", "ec2", "sqs"}, unused)

	_, err := ParseServiceLastAccessed([]byte(`{"ServicesLastAccessed":[]}`))
	require.Error(t, err, "a response without JobStatus")

	app := role(t, "app", trustService("ec2.amazonaws.com"), inline(t, "RolePolicyList",
		`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["s3:*","dynamodb:GetItem","sqs:*","kms:Decrypt","ec2:Describe*"],"Resource":"*"},
			{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::logs/*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`))
	other := role(t, "other", trustService("ec2.amazonaws.com"))
	g := build(t, app, other)
	fs, err := Analyze(context.Background(), g, Config{NowFunc: func() time.Time { return testNow }, ServiceLastAccessed: map[string]*ServiceLastAccessedDetails{roleARN("app"): d}})
	require.NoError(t, err)
	require.Equal(t, StatusUnknown, findingFor(t, fs, IDServicesUnused, roleARN("other")).Status, "no data")
	f := findingFor(t, fs, IDServicesUnused, roleARN("app"))
	require.Equal(t, StatusFail, f.Status)
	require.Equal(t, []any{"dynamodb", "ec2", "sqs"}, f.Evidence["removed_services"])

	// The suggestion is a valid policy that keeps the used grants and the deny, and
	// drops the unused services.
	pol, err := iampolicy.Parse(f.Evidence["suggested_policy"])
	require.NoError(t, err)
	set := iampolicy.PolicySet{IdentityPolicies: []iampolicy.NamedPolicy{{Name: "suggested", Policy: pol}}}
	decide := func(action, resource string, ctx map[string][]string) bool {
		return iampolicy.Evaluate(iampolicy.Request{Principal: iampolicy.RequestPrincipal{ARN: roleARN("app"), Type: iampolicy.PrincipalRole}, Action: action, Resource: resource, Context: ctx}, set).Allowed
	}
	require.True(t, decide("s3:GetObject", "arn:aws:s3:::b/k", nil))
	require.True(t, decide("kms:Decrypt", "*", nil))
	require.False(t, decide("s3:DeleteBucket", "arn:aws:s3:::b", nil), "deny kept")
	require.False(t, decide("dynamodb:GetItem", "*", nil))
	require.False(t, decide("sqs:SendMessage", "*", nil))
	require.False(t, decide("ec2:DescribeInstances", "*", nil))
	// "*" on the logs bucket became s3:* and kms:* there, condition kept.
	require.True(t, decide("kms:Encrypt", "arn:aws:s3:::logs/x", map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}))
	require.False(t, decide("kms:Encrypt", "arn:aws:s3:::logs/x", nil))
}

func TestSuggestPolicyNotAction(t *testing.T) {
	t.Parallel()
	g := build(t, user(t, "u", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","s3:DeleteBucket"],"Resource":"*"}]}`)))
	s := SuggestPolicy(g.Principals[0], []string{"ec2", "iam", "s3"}, []string{"sqs"})
	stmts := s.Policy["Statement"].([]any)
	require.Len(t, stmts, 1)
	require.Equal(t, []any{"ec2:*", "s3:*"}, stmts[0].(map[string]any)["Action"])
	require.NotEmpty(t, s.Notes, "the NotAction widening is recorded")
}
