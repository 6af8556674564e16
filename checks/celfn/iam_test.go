package celfn_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/celfn"
)

const (
	publicPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	orgPolicy    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`
	adminPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	denyPolicy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`
)

func TestIAMGo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     any
		public  bool
		admin   bool
		wantErr bool
	}{
		{name: "public text", doc: publicPolicy, public: true},
		{name: "public map", doc: map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": "*"}}}, public: true},
		{name: "org condition restricts", doc: orgPolicy},
		{name: "admin", doc: adminPolicy, admin: true},
		{name: "no policy", doc: nil},
		{name: "malformed", doc: `{"Statement": 3}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pub, err := celfn.PolicyIsPublic(tc.doc)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.public, pub, "public")
			admin, err := celfn.PolicyGrantsAdmin(tc.doc)
			require.NoError(t, err)
			require.Equal(t, tc.admin, admin, "admin")
		})
	}
}

func TestIAMFunctions(t *testing.T) {
	t.Parallel()
	runCases(t, []evalCase{
		{name: "is_public string", expr: `iam.is_public(doc.Policy)`, doc: map[string]any{"Policy": publicPolicy}, want: true},
		{name: "is_public restricted", expr: `iam.is_public(doc.Policy)`, doc: map[string]any{"Policy": orgPolicy}, want: false},
		{name: "is_public null", expr: `iam.is_public(doc.Policy)`, doc: map[string]any{"Policy": nil}, want: false},
		{name: "is_public url-encoded", expr: `iam.is_public(doc.Policy)`, doc: map[string]any{"Policy": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22%2A%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}, want: true},
		{name: "is_public literal map", expr: `iam.is_public({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})`, want: true},
		{name: "grants_admin", expr: `iam.grants_admin(doc.P)`, doc: map[string]any{"P": adminPolicy}, want: true},
		{name: "grants_admin no", expr: `iam.grants_admin(doc.P)`, doc: map[string]any{"P": denyPolicy}, want: false},
		{name: "allows", expr: `iam.allows(doc.P, "s3:GetObject", "arn:aws:s3:::b/k")`, doc: map[string]any{"P": denyPolicy}, want: true},
		{name: "deny wins", expr: `iam.allows(doc.P, "s3:DeleteBucket", "arn:aws:s3:::b")`, doc: map[string]any{"P": denyPolicy}, want: false},
		{name: "other service", expr: `iam.allows(doc.P, "ec2:RunInstances", "*")`, doc: map[string]any{"P": denyPolicy}, want: false},
		{name: "malformed", expr: `iam.is_public(doc.P)`, doc: map[string]any{"P": "{"}, wantErr: "iam.is_public"},
	})
}
