package iampolicy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func seedPolicies(f *testing.F) {
	files, err := filepath.Glob("testdata/policies/*.json")
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(string(b))
	}
}

// FuzzParse requires Parse never to panic, and every accepted policy to be usable by
// every query without panicking.
func FuzzParse(f *testing.F) {
	seedPolicies(f)
	f.Add(`{"Statement":{"Effect":"Allow","Action":"*"}}`)
	f.Add(`%7B%22Statement%22%3A%5B%5D%7D`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		_ = p.IsPublic()
		_ = p.AllowsAdmin()
		_ = p.Allows("s3:GetObject", "arn:aws:s3:::b/k")
		_ = p.PublicStatements()
	})
}

// FuzzEvaluate evaluates a fuzzed policy against fuzzed requests: no panic, and the
// decision is consistent (explicit deny lists statements, allowed agrees with reason).
func FuzzEvaluate(f *testing.F) {
	seedPolicies(f)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		set := PolicySet{
			IdentityPolicies: []NamedPolicy{{Name: "id", Policy: p}},
			ResourcePolicy:   &NamedPolicy{Name: "res", Policy: p},
			SCPs:             [][]NamedPolicy{{{Name: "scp", Policy: p}}},
		}
		for _, req := range []Request{
			{Principal: RequestPrincipal{ARN: "arn:aws:iam::111122223333:user/alice", Type: PrincipalUser, Tags: map[string]string{"team": "x"}},
				Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx("aws:SourceIp", "10.0.0.1", "aws:CurrentTime", "2024-01-01T00:00:00Z")},
			{Principal: RequestPrincipal{ARN: "arn:aws:sts::444455556666:assumed-role/R/s", Type: PrincipalAssumedRole},
				Action: "iam:PassRole", Resource: "*", ResourceAccount: "111122223333"},
			{Principal: RequestPrincipal{Type: PrincipalAnonymous}, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:1:q"},
		} {
			d := Evaluate(req, set)
			if d.Allowed != (d.Reason == ReasonAllowed) {
				t.Fatalf("inconsistent decision %+v", d)
			}
			if d.Reason == ReasonExplicitDeny && len(d.Statements) == 0 {
				t.Fatalf("explicit deny without statements")
			}
		}
	})
}
