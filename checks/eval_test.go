package checks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/providers"
)

// checkYAML builds a minimal valid check file around the expressions.
func checkYAML(id, when, assert, message string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "id: %s\ntitle: T\nseverity: high\nresource: aws.s3.bucket\ndescription: D\nrisk: R\nremediation: {text: fix it}\n", id)
	if when != "" {
		fmt.Fprintf(&b, "when: %q\n", when)
	}
	fmt.Fprintf(&b, "assert: %q\nmessage: %q\n", assert, message)
	return []byte(b.String())
}

func mustParse(t *testing.T, when, assert, message string) *checks.Check {
	t.Helper()
	c, err := checks.ParseCheck(checkYAML("aws.s3.test_check", when, assert, message))
	require.NoError(t, err)
	return c
}

func bucket(props map[string]any, gaps ...string) providers.Resource {
	r := providers.Resource{Provider: "aws", AccountID: "123456789012", Type: "aws.s3.bucket", Region: "us-east-1",
		Name: "b1", NativeID: "arn:aws:s3:::b1", Tags: map[string]string{"env": "prod"}, Properties: props}
	for _, g := range gaps {
		r.Gaps = append(r.Gaps, providers.Gap{Property: g, Operation: "s3:Get" + g, Kind: providers.KindAccessDenied, Message: "denied"})
	}
	return r
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	acct := &providers.Resource{Type: "aws.account", Properties: map[string]any{"PasswordPolicy": map[string]any{"MinimumPasswordLength": 14.0}}}
	tests := []struct {
		name                  string
		when, assert, message string
		doc                   checks.Document
		want                  checks.Status
		wantMessage           string
		reasonHas             string
		wantEvidence          map[string]any
	}{
		{name: "pass", assert: `resource.properties.Versioning.Status == "Enabled"`,
			doc: checks.Document{Resource: bucket(map[string]any{"Versioning": map[string]any{"Status": "Enabled"}})}, want: checks.StatusPass},
		{name: "fail with message and evidence", assert: `resource.properties.Versioning.Status == "Enabled"`, message: `"bucket " + resource.name + " in " + resource.region`,
			doc:  checks.Document{Resource: bucket(map[string]any{"Versioning": map[string]any{"Status": "Suspended"}, "Other": 1.0})},
			want: checks.StatusFail, wantMessage: "bucket b1 in us-east-1",
			wantEvidence: map[string]any{"resource.properties.Versioning": map[string]any{"Status": "Suspended"}}},
		{name: "gap read is unknown", assert: `resource.properties.Policy == null`,
			doc: checks.Document{Resource: bucket(map[string]any{}, "Policy")}, want: checks.StatusUnknown, reasonHas: "resource.properties.Policy (s3:GetPolicy: access_denied: denied)"},
		{name: "has() on a gap is unknown", assert: `!has(resource.properties.Policy)`,
			doc: checks.Document{Resource: bucket(map[string]any{}, "Policy")}, want: checks.StatusUnknown},
		{name: "true || gap passes", assert: `resource.properties.A == true || resource.properties.Policy == null`,
			doc: checks.Document{Resource: bucket(map[string]any{"A": true}, "Policy")}, want: checks.StatusPass},
		{name: "gap || true passes", assert: `resource.properties.Policy == null || resource.properties.A == true`,
			doc: checks.Document{Resource: bucket(map[string]any{"A": true}, "Policy")}, want: checks.StatusPass},
		{name: "false && gap fails", assert: `resource.properties.A == true && resource.properties.Policy == null`,
			doc: checks.Document{Resource: bucket(map[string]any{"A": false}, "Policy")}, want: checks.StatusFail},
		{name: "false || gap is unknown", assert: `resource.properties.A == true || resource.properties.Policy == null`,
			doc: checks.Document{Resource: bucket(map[string]any{"A": false}, "Policy")}, want: checks.StatusUnknown},
		{name: "gap in a list comprehension is unknown", assert: `resource.properties.Rules.all(r, r.On == true)`,
			doc: checks.Document{Resource: bucket(map[string]any{}, "Rules")}, want: checks.StatusUnknown},
		{name: "unrelated gap keeps the fast path", assert: `resource.properties.A == true`,
			doc: checks.Document{Resource: bucket(map[string]any{"A": true}, "Policy")}, want: checks.StatusPass},
		{name: "dynamic use of properties with a gap is unknown", assert: `size(resource.properties) > 0`,
			doc: checks.Document{Resource: bucket(map[string]any{"A": true}, "Policy")}, want: checks.StatusUnknown},
		{name: "missing key that is not a gap is unknown with the error", assert: `resource.properties.Nope == true`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusUnknown, reasonHas: "no such key: Nope"},
		{name: "has() guards a missing key", assert: `!has(resource.properties.Nope) || resource.properties.Nope == true`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusPass},
		{name: "when false skips", when: `resource.properties.Kind == "x"`, assert: `false`,
			doc: checks.Document{Resource: bucket(map[string]any{"Kind": "y"})}, want: checks.StatusSkip},
		{name: "when on a gap is unknown", when: `resource.properties.Kind == "x"`, assert: `true`,
			doc: checks.Document{Resource: bucket(map[string]any{}, "Kind")}, want: checks.StatusUnknown, reasonHas: "when depends on"},
		{name: "account pass", assert: `account.properties.PasswordPolicy.MinimumPasswordLength >= 14`,
			doc: checks.Document{Resource: bucket(map[string]any{}), Account: acct}, want: checks.StatusPass},
		{name: "account gap is unknown", assert: `account.properties.PasswordPolicy.MinimumPasswordLength >= 14`,
			doc: checks.Document{Resource: bucket(map[string]any{}), Account: &providers.Resource{Type: "aws.account", Properties: map[string]any{},
				Gaps: []providers.Gap{{Property: "PasswordPolicy", Operation: "iam:GetAccountPasswordPolicy", Kind: providers.KindAccessDenied}}}},
			want: checks.StatusUnknown, reasonHas: "account.properties.PasswordPolicy"},
		{name: "absent account is unknown", assert: `account.properties.PasswordPolicy.MinimumPasswordLength >= 14`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusUnknown, reasonHas: "no such key: properties"},
		{name: "absent account is an empty map", assert: `!has(account.properties)`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusPass},
		{name: "document fields", assert: `resource.name == "b1" && resource.tags.env == "prod" && resource.account_id == "123456789012" && resource.type == "aws.s3.bucket" && resource.native_id.startsWith("arn:")`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusPass},
		{name: "related documents", assert: `related("kms_key").all(k, k.properties.KeyRotationEnabled == true) && size(related("none")) == 0`,
			doc:  checks.Document{Resource: bucket(map[string]any{}), Related: map[string][]providers.Resource{"kms_key": {{Properties: map[string]any{"KeyRotationEnabled": true}}}}},
			want: checks.StatusPass},
		{name: "related gap is unknown", assert: `related("kms_key").all(k, k.properties.KeyRotationEnabled == true)`,
			doc:  checks.Document{Resource: bucket(map[string]any{}), Related: map[string][]providers.Resource{"kms_key": {{Properties: map[string]any{}}}}},
			want: checks.StatusUnknown, reasonHas: "KeyRotationEnabled"},
		{name: "now and age_days use the injected clock", assert: `age_days(resource.properties.Created) == 31 && now == timestamp("2026-06-01T00:00:00Z")`,
			doc: checks.Document{Resource: bucket(map[string]any{"Created": "2026-05-01T00:00:00Z"}), Now: now}, want: checks.StatusPass},
		{name: "numbers compare across int and double", assert: `resource.properties.Port <= 22 && resource.properties.Port == 22`,
			doc: checks.Document{Resource: bucket(map[string]any{"Port": 22.0})}, want: checks.StatusPass},
		{name: "optional access", assert: `resource.properties.?Missing.orValue("d") == "d"`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusPass},
		{name: "message error falls back to title", assert: `false`, message: `string(resource.properties.Nope)`,
			doc: checks.Document{Resource: bucket(map[string]any{})}, want: checks.StatusFail, wantMessage: "T"},
		{name: "large evidence is truncated", assert: `size(resource.properties.Big) == 0`,
			doc: checks.Document{Resource: bucket(map[string]any{"Big": strings.Repeat("x", 5000)})}, want: checks.StatusFail,
			wantEvidence: map[string]any{"resource.properties.Big": strings.Repeat("x", 2048) + "...(truncated, 5000 bytes)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := tc.message
			if msg == "" {
				msg = `"failed"`
			}
			c := mustParse(t, tc.when, tc.assert, msg)
			got := c.Evaluate(context.Background(), tc.doc)
			require.Equal(t, tc.want, got.Status, "reason: %s", got.Reason)
			require.Equal(t, "aws.s3.test_check", got.CheckID)
			if tc.wantMessage != "" {
				require.Equal(t, tc.wantMessage, got.Message)
			}
			if tc.reasonHas != "" {
				require.Contains(t, got.Reason, tc.reasonHas)
			}
			if tc.wantEvidence != nil {
				require.Equal(t, tc.wantEvidence, got.Evidence.Map())
			}
		})
	}
}

func TestRegistryEvaluate(t *testing.T) {
	t.Parallel()
	reg := loadTestdata(t)
	ctx := context.Background()
	doc := checks.Document{
		Resource: providers.Resource{Provider: "aws", Type: "aws.ec2.security_group", Name: "sg-1", Properties: map[string]any{
			"GroupName": "web",
			"IpPermissions": []any{map[string]any{"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0,
				"IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}, "Ipv6Ranges": []any{}}},
			"IpPermissionsEgress": []any{},
		}},
	}
	got := reg.Evaluate(ctx, doc)
	// The default-group check does not apply (when is false) and is left out.
	require.Len(t, got, 2)
	byID := map[string]checks.Result{}
	for _, r := range got {
		byID[r.CheckID] = r
	}
	require.Equal(t, checks.StatusPass, byID["aws.ec2.security_group_all_traffic_restricted"].Status)
	ssh := byID["aws.ec2.security_group_ssh_restricted"]
	require.Equal(t, checks.StatusFail, ssh.Status)
	require.Equal(t, "security group sg-1 exposes tcp/22 from 0.0.0.0/0", ssh.Message)
	require.Contains(t, ssh.Evidence.Map(), "resource.properties.IpPermissions")

	require.Empty(t, reg.Evaluate(ctx, checks.Document{Resource: providers.Resource{Type: "aws.nothing.here"}}))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.Empty(t, reg.Evaluate(cancelled, doc))
}

// TestConcurrentEvaluate runs one registry from many goroutines (run with -race): the
// registry, its compiled programs and its pool of inputs are shared.
func TestConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	reg := loadTestdata(t)
	docs := syntheticDocs(400)
	ctx := context.Background()
	want := make([][]checks.Result, len(docs))
	for i, d := range docs {
		want[i] = reg.Evaluate(ctx, d)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range docs {
				j := (i + g*50) % len(docs)
				got := reg.Evaluate(ctx, docs[j])
				if fmt.Sprint(got) != fmt.Sprint(want[j]) {
					errs <- fmt.Sprintf("document %d: got %v, want %v", j, got, want[j])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestTestdataFixtures(t *testing.T) {
	t.Parallel()
	reg := loadTestdata(t)
	require.Len(t, reg.Checks(), 10)
	require.Empty(t, reg.RunFixtures(context.Background()))
}

// TestEvidence pins the evidence's views: the map, the lookups and the JSON encoding,
// which must be the JSON of the map (the store writes it as a jsonb object).
func TestEvidence(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "", `resource.properties.Versioning.Status == "Enabled" && account.properties.PasswordPolicy != null && resource.properties.?Missing.orValue(1) == 1`, `"failed"`)
	acct := &providers.Resource{Type: "aws.account", Properties: map[string]any{"PasswordPolicy": map[string]any{"Min": 14.0, "Note": "<&>"}}}
	got := c.Evaluate(context.Background(), checks.Document{Resource: bucket(map[string]any{"Versioning": map[string]any{"Status": "Off"}}), Account: acct})
	require.Equal(t, checks.StatusFail, got.Status)
	want := map[string]any{
		"account.properties.PasswordPolicy": map[string]any{"Min": 14.0, "Note": "<&>"},
		"resource.properties.Versioning":    map[string]any{"Status": "Off"},
	}
	require.Equal(t, want, got.Evidence.Map())
	require.Equal(t, 2, got.Evidence.Len())
	v, ok := got.Evidence.Get("resource.properties.Versioning")
	require.True(t, ok)
	require.Equal(t, want["resource.properties.Versioning"], v)
	_, ok = got.Evidence.Get("resource.properties.Missing")
	require.False(t, ok)
	enc, err := json.Marshal(got.Evidence)
	require.NoError(t, err)
	fromMap, err := json.Marshal(want)
	require.NoError(t, err)
	require.Equal(t, string(fromMap), string(enc))

	// No value: an empty object, left out of the result's JSON.
	pass := c.Evaluate(context.Background(), checks.Document{Resource: bucket(map[string]any{})})
	require.Equal(t, checks.StatusUnknown, pass.Status)
	require.Zero(t, pass.Evidence.Len())
	require.Nil(t, pass.Evidence.Map())
	enc, err = json.Marshal(pass.Evidence)
	require.NoError(t, err)
	require.Equal(t, "{}", string(enc))
	res, err := json.Marshal(pass)
	require.NoError(t, err)
	require.NotContains(t, string(res), "evidence")
}

// TestEvidenceCapped: large values are cut when the evidence is read or encoded, by
// their exact JSON size, and the map and the JSON agree.
func TestEvidenceCapped(t *testing.T) {
	t.Parallel()
	// 300 numbers of 8 digits: 2,700 bytes of JSON.
	long := make([]any, 300)
	for i := range long {
		long[i] = 10_000_000.0 + float64(i)
	}
	longJSON, err := json.Marshal(long)
	require.NoError(t, err)
	// 300 booleans: an estimate of 24 bytes per scalar would cut them; their JSON is
	// 1,651 bytes and must be kept whole.
	bools := make([]any, 300)
	for i := range bools {
		bools[i] = i%2 == 0
	}
	// A string of two-byte characters cut inside a character is cut before it.
	accents := "a" + strings.Repeat("é", 2000)
	c := mustParse(t, "", `size(resource.properties.Long) == 0 && size(resource.properties.Bools) == 0 && size(resource.properties.Accents) == 0 && size(resource.properties.Small) == 0`, `"failed"`)
	got := c.Evaluate(context.Background(), checks.Document{Resource: bucket(map[string]any{
		"Long": long, "Bools": bools, "Accents": accents, "Small": []any{"a"}})})
	require.Equal(t, checks.StatusFail, got.Status)
	want := map[string]any{
		"resource.properties.Long":    string(longJSON[:2048]) + fmt.Sprintf("...(truncated, %d bytes)", len(longJSON)),
		"resource.properties.Bools":   bools,
		"resource.properties.Accents": "a" + strings.Repeat("é", 1023) + "...(truncated, 4001 bytes)",
		"resource.properties.Small":   []any{"a"},
	}
	require.Equal(t, want, got.Evidence.Map())
	v, ok := got.Evidence.Get("resource.properties.Long")
	require.True(t, ok)
	require.Equal(t, want["resource.properties.Long"], v)
	enc, err := json.Marshal(got.Evidence)
	require.NoError(t, err)
	fromMap, err := json.Marshal(want)
	require.NoError(t, err)
	require.Equal(t, string(fromMap), string(enc))

	// A value JSON cannot hold is named instead, in the map and in the encoding alike,
	// so that the result can still be stored.
	c = mustParse(t, "", `resource.properties.Ratio > 1.0`, `"failed"`)
	got = c.Evaluate(context.Background(), checks.Document{Resource: bucket(map[string]any{"Ratio": math.NaN()})})
	require.Equal(t, checks.StatusFail, got.Status)
	require.Equal(t, map[string]any{"resource.properties.Ratio": "(unprintable: json: unsupported value: NaN)"}, got.Evidence.Map())
	enc, err = json.Marshal(got.Evidence)
	require.NoError(t, err)
	require.JSONEq(t, `{"resource.properties.Ratio": "(unprintable: json: unsupported value: NaN)"}`, string(enc))
}

// TestFastPathPanic: a panic of the fast path costs a cel-go evaluation, never a wrong
// or missing result. Not parallel: the panic counter is global (the differential
// tests require it to stay zero).
func TestFastPathPanic(t *testing.T) {
	c := mustParse(t, "", `resource.properties.Versioning.Status == "Enabled"`, `"bucket " + resource.name`)
	doc := checks.Document{Resource: bucket(map[string]any{"Versioning": map[string]any{"Status": "Off"}})}
	want := checks.EvaluatePath(context.Background(), c, doc, false)
	repair := checks.BreakFastPath(c)
	defer repair()
	got := c.Evaluate(context.Background(), doc)
	require.Equal(t, int64(1), checks.FastPanics())
	require.Equal(t, want, got)
	require.Equal(t, checks.StatusFail, got.Status)
	require.Equal(t, "bucket b1", got.Message)
}
