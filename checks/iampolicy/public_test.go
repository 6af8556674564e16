package iampolicy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func stmt(principal, action, cond string) string {
	s := `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":` + principal + `,"Action":` + action + `,"Resource":"arn:aws:s3:::b/*"`
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + `}]}`
}

func TestIsPublic(t *testing.T) {
	t.Parallel()
	get := `"s3:GetObject"`
	cases := []struct {
		name string
		doc  string
		want bool
	}{
		{"principal star", stmt(`"*"`, get, ""), true},
		{"AWS star", stmt(`{"AWS":"*"}`, get, ""), true},
		{"AWS star in list", stmt(`{"AWS":["arn:aws:iam::111122223333:root","*"]}`, get, ""), true},
		{"specific account", stmt(`{"AWS":"111122223333"}`, get, ""), false},
		{"service principal", stmt(`{"Service":"cloudtrail.amazonaws.com"}`, get, ""), false},
		{"NotPrincipal with Allow", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}]}`, true},
		{"deny only", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, false},
		{"SourceAccount restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`), false},
		{"SourceArn restricts", stmt(`{"Service":"sns.amazonaws.com","AWS":"*"}`, get, `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`), false},
		{"SourceArn with wildcard account is public", stmt(`"*"`, get, `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:topic"}}`), true},
		{"SourceArn bucket restricts", stmt(`"*"`, get, `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::logs-bucket"}}`), false},
		{"SourceArn any bucket is public", stmt(`"*"`, get, `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`), true},
		{"PrincipalOrgID restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}`), false},
		{"PrincipalOrgID wildcard is public", stmt(`"*"`, get, `{"StringLike":{"aws:PrincipalOrgID":"*"}}`), true},
		{"PrincipalOrgID literal star with StringEquals restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:PrincipalOrgID":"o-*"}}`), false},
		{"PrincipalOrgPaths restricts", stmt(`"*"`, get, `{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-abc/r-ab12/ou-x/*"}}`), false},
		{"PrincipalAccount restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`), false},
		{"one wildcard value among several is public", stmt(`"*"`, get, `{"StringLike":{"aws:PrincipalAccount":["111122223333","*"]}}`), true},
		{"PrincipalArn restricts", stmt(`"*"`, get, `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/x"}}`), false},
		{"SourceVpce restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}`), false},
		{"SourceVpc restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:SourceVpc":"vpc-111bbb22"}}`), false},
		{"SourceOwner restricts", stmt(`"*"`, get, `{"StringEquals":{"aws:SourceOwner":"111122223333"}}`), false},
		{"IP range restricts", stmt(`"*"`, get, `{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.7"]}}`), false},
		{"IP 0.0.0.0/0 is public", stmt(`"*"`, get, `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`), true},
		{"IP /1 halves are public", stmt(`"*"`, get, `{"IpAddress":{"aws:SourceIp":["0.0.0.0/1","128.0.0.0/1"]}}`), true},
		{"IP ::/0 is public", stmt(`"*"`, get, `{"IpAddress":{"aws:SourceIp":"::/0"}}`), true},
		{"NotIpAddress does not restrict an allow", stmt(`"*"`, get, `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), true},
		{"StringNotEquals does not restrict an allow", stmt(`"*"`, get, `{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}`), true},
		{"IfExists does not restrict", stmt(`"*"`, get, `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`), true},
		{"ForAllValues does not restrict", stmt(`"*"`, get, `{"ForAllValues:StringEquals":{"aws:PrincipalOrgPaths":"o-abc/*"}}`), true},
		{"policy variable does not restrict", stmt(`"*"`, get, `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`), true},
		{"unrelated condition does not restrict", stmt(`"*"`, get, `{"Bool":{"aws:SecureTransport":"true"}}`), true},
		{"unrelated plus restricting", stmt(`"*"`, get, `{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:SourceVpce":"vpce-1"}}`), false},
		{"deny outside org neutralises", `{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
			{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`, false},
		{"deny outside network neutralises", `{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
			{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, false},
		{"deny not covering the action", `{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
			{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`, true},
		{"deny with an extra condition does not neutralise", `{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
			{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"},"Bool":{"aws:SecureTransport":"false"}}}]}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tc.doc)
			require.NoError(t, err)
			require.Equal(t, tc.want, p.IsPublic())
			require.Equal(t, tc.want, len(p.PublicStatements()) > 0)
		})
	}
}

func TestPublicStatementsLevels(t *testing.T) {
	t.Parallel()
	p := MustParse(`{"Statement":[
		{"Sid":"Read","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"},
		{"Sid":"Write","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:Put*","Resource":"*"},
		{"Sid":"Org","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`)
	g := p.PublicStatements()
	require.Len(t, g, 2)
	require.Equal(t, "Read", g[0].Sid)
	require.Equal(t, []AccessLevel{LevelList, LevelRead}, g[0].AccessLevels)
	require.True(t, g[0].Allows("S3:GETOBJECT"))
	require.False(t, g[0].Allows("s3:PutObject"))
	require.Equal(t, "Write", g[1].Sid)
	require.Contains(t, g[1].AccessLevels, LevelWrite)
	require.Contains(t, g[1].AccessLevels, LevelPermissions) // s3:PutBucketPolicy
	require.Contains(t, g[1].AccessLevels, LevelTagging)     // s3:PutObjectTagging
}

func TestAllows(t *testing.T) {
	t.Parallel()
	p := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
		{"Effect":"Allow","NotAction":["iam:*","s3:*"],"Resource":"*"},
		{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
		{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"},
		{"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}
	]}`)
	cases := []struct {
		action, resource string
		want             bool
	}{
		{"s3:GetObject", "arn:aws:s3:::b/key", true},
		{"S3:getobject", "arn:aws:s3:::b/key", true},
		{"s3:GetObject", "arn:aws:s3:::other/key", false},
		{"s3:GetObject", "arn:aws:s3:::b/secret/x", false},
		{"s3:PutObject", "arn:aws:s3:::b/key", true}, // conditions ignored: worst case
		{"s3:DeleteObject", "arn:aws:s3:::b/key", false},
		{"ec2:RunInstances", "*", true},       // NotAction
		{"ec2:TerminateInstances", "*", true}, // conditional deny may not apply
		{"iam:CreateUser", "*", false},
		{"s3:ListBucket", "arn:aws:s3:::b", true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, p.Allows(tc.action, tc.resource), "%s on %s", tc.action, tc.resource)
	}
}

func TestAllowsAdmin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, doc string
		want      bool
	}{
		{"star", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{"star colon star", `{"Statement":{"Effect":"Allow","Action":["*:*"],"Resource":["*"]}}`, true},
		{"conditioned", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, false},
		{"limited resource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}]}`, false},
		{"service star", `{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`, false},
		{"NotAction", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, false},
		{"cancelled by deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, MustParse(tc.doc).AllowsAdmin())
		})
	}
}
