package iamgraph

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

func TestSimulateHonoursContext(t *testing.T) {
	t.Parallel()
	user := providers.Resource{Provider: "aws", AccountID: "111122223333", Type: TypeUser, Region: "global",
		NativeID: "arn:aws:iam::111122223333:user/ana", Name: "ana",
		Properties: map[string]any{"UserName": "ana", "Arn": "arn:aws:iam::111122223333:user/ana", "Path": "/",
			"UserPolicyList": []any{map[string]any{"PolicyName": "mfa-only", "PolicyDocument": map[string]any{
				"Version": "2012-10-17",
				"Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:DeleteBucket", "Resource": "*",
					"Condition": map[string]any{"Bool": map[string]any{"aws:MultiFactorAuthPresent": "true"}}}}}}}}}
	g, err := Build([]providers.Resource{user}, BuildConfig{})
	require.NoError(t, err)
	p := g.Principal("arn:aws:iam::111122223333:user/ana")
	require.NotNil(t, p)

	without := g.Simulate(p, "s3:DeleteBucket", "arn:aws:s3:::b", nil, nil)
	require.False(t, without.Allowed)
	with := g.Simulate(p, "s3:DeleteBucket", "arn:aws:s3:::b", map[string][]string{"aws:MultiFactorAuthPresent": {"true"}}, nil)
	require.True(t, with.Allowed, with.Detail)
	require.NotEmpty(t, with.Statements)
}
