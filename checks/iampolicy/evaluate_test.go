package iampolicy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

func np(name, doc string) NamedPolicy { return NamedPolicy{Name: name, Policy: MustParse(doc)} }
func npp(name, doc string) *NamedPolicy {
	p := np(name, doc)
	return &p
}

var (
	alice   = RequestPrincipal{ARN: "arn:aws:iam::" + acctA + ":user/alice", Type: PrincipalUser}
	session = RequestPrincipal{ARN: "arn:aws:sts::" + acctA + ":assumed-role/Dev/s1", Type: PrincipalAssumedRole}
	bobB    = RequestPrincipal{ARN: "arn:aws:iam::" + acctB + ":user/bob", Type: PrincipalUser}

	allowS3Read  = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`
	allowAll     = `{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}`
	denyS3Delete = `{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}`
	objectARN    = "arn:aws:s3:::b/key"
)

func bucketPolicy(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"BP","Effect":"Allow","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	get := func(p RequestPrincipal) Request {
		return Request{Principal: p, Action: "s3:GetObject", Resource: objectARN}
	}
	cases := []struct {
		name   string
		req    Request
		set    PolicySet
		want   Reason
		detail string
	}{
		{"no policy is implicit deny", get(alice), PolicySet{}, ReasonImplicitDeny, "no identity or resource policy"},
		{"identity allow", get(alice), PolicySet{IdentityPolicies: []NamedPolicy{np("read", allowS3Read)}}, ReasonAllowed, ""},
		{"action case-insensitive", Request{Principal: alice, Action: "S3:GETOBJECT", Resource: objectARN},
			PolicySet{IdentityPolicies: []NamedPolicy{np("read", allowS3Read)}}, ReasonAllowed, ""},
		{"other action implicit deny", Request{Principal: alice, Action: "s3:PutObject", Resource: objectARN},
			PolicySet{IdentityPolicies: []NamedPolicy{np("read", allowS3Read)}}, ReasonImplicitDeny, ""},
		{"deny overrides allow", Request{Principal: alice, Action: "s3:DeleteObject", Resource: objectARN},
			PolicySet{IdentityPolicies: []NamedPolicy{np("all", allowAll), np("nodelete", denyS3Delete)}}, ReasonExplicitDeny, ""},
		{"NotAction allow grants everything else", Request{Principal: alice, Action: "ec2:RunInstances", Resource: "*"},
			PolicySet{IdentityPolicies: []NamedPolicy{np("notiam", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)}}, ReasonAllowed, ""},
		{"NotAction allow excludes listed", Request{Principal: alice, Action: "iam:CreateUser", Resource: "*"},
			PolicySet{IdentityPolicies: []NamedPolicy{np("notiam", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)}}, ReasonImplicitDeny, ""},
		{"NotResource deny", Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::other/x"},
			PolicySet{IdentityPolicies: []NamedPolicy{np("all", allowAll), np("only-b", `{"Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`)}}, ReasonExplicitDeny, ""},
		{"resource mismatch", Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::other/x"},
			PolicySet{IdentityPolicies: []NamedPolicy{np("b", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)}}, ReasonImplicitDeny, ""},
		// SCPs: every level must allow; a deny anywhere wins.
		{"SCP allows at every level", get(alice), PolicySet{
			SCPs:             [][]NamedPolicy{{np("FullAWSAccess", allowAll)}, {np("ou", allowS3Read)}},
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)}}, ReasonAllowed, ""},
		{"SCP level without allow", get(alice), PolicySet{
			SCPs:             [][]NamedPolicy{{np("FullAWSAccess", allowAll)}, {np("ou-ec2-only", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)}},
			IdentityPolicies: []NamedPolicy{np("all", allowAll)}}, ReasonImplicitDeny, "no SCP at level 1"},
		{"SCP deny", Request{Principal: alice, Action: "s3:DeleteObject", Resource: objectARN}, PolicySet{
			SCPs:             [][]NamedPolicy{{np("FullAWSAccess", allowAll), np("deny", denyS3Delete)}},
			IdentityPolicies: []NamedPolicy{np("all", allowAll)}}, ReasonExplicitDeny, ""},
		{"SCP does not grant", get(alice), PolicySet{SCPs: [][]NamedPolicy{{np("FullAWSAccess", allowAll)}}}, ReasonImplicitDeny, ""},
		{"RCP limits resource access", get(alice), PolicySet{
			RCPs:             [][]NamedPolicy{{np("rcp", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:*","Resource":"*"}]}`)}},
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)}}, ReasonImplicitDeny, "no RCP at level 0"},
		{"RCP deny outside org", get(bobB), PolicySet{
			RCPs: [][]NamedPolicy{{np("RCPFullAWSAccess", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`),
				np("org-only", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-123"}}}]}`)}},
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", bucketPolicy(`{"AWS":"`+acctB+`"}`))}, ReasonExplicitDeny, ""},
		// Permissions boundaries intersect with identity policies.
		{"boundary allows too", get(alice), PolicySet{
			PermissionsBoundary: npp("boundary", allowS3Read),
			IdentityPolicies:    []NamedPolicy{np("all", allowAll)}}, ReasonAllowed, ""},
		{"boundary does not allow", Request{Principal: alice, Action: "ec2:RunInstances", Resource: "*"}, PolicySet{
			PermissionsBoundary: npp("boundary", allowS3Read),
			IdentityPolicies:    []NamedPolicy{np("all", allowAll)}}, ReasonImplicitDeny, "permissions boundary"},
		{"boundary alone grants nothing", get(alice), PolicySet{PermissionsBoundary: npp("boundary", allowAll)}, ReasonImplicitDeny, ""},
		// Session policies intersect with identity policies.
		{"session policy allows", get(session), PolicySet{
			SessionPolicies:  []NamedPolicy{np("sess", allowS3Read)},
			IdentityPolicies: []NamedPolicy{np("all", allowAll)}}, ReasonAllowed, ""},
		{"session policy does not allow", Request{Principal: session, Action: "ec2:RunInstances", Resource: "*"}, PolicySet{
			SessionPolicies:  []NamedPolicy{np("sess", allowS3Read)},
			IdentityPolicies: []NamedPolicy{np("all", allowAll)}}, ReasonImplicitDeny, "session policy"},
		{"session policy alone grants nothing", get(session), PolicySet{SessionPolicies: []NamedPolicy{np("sess", allowAll)}}, ReasonImplicitDeny, ""},
		// Resource policies within one account.
		{"bucket policy grants IAM user without identity policy", get(alice), PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`{"AWS":"`+alice.ARN+`"}`))}, ReasonAllowed, ""},
		{"bucket policy to user not limited by boundary", get(alice), PolicySet{
			PermissionsBoundary: npp("boundary", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`),
			ResourcePolicy:      npp("bucket", bucketPolicy(`{"AWS":"`+alice.ARN+`"}`))}, ReasonAllowed, ""},
		{"bucket policy to role ARN limited by boundary", get(session), PolicySet{
			PermissionsBoundary: npp("boundary", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`),
			ResourcePolicy:      npp("bucket", bucketPolicy(`{"AWS":"arn:aws:iam::`+acctA+`:role/Dev"}`))}, ReasonImplicitDeny, ""},
		{"bucket policy to role ARN without boundary", get(session), PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`{"AWS":"arn:aws:iam::`+acctA+`:role/team/Dev"}`))}, ReasonAllowed, ""},
		{"bucket policy to role ARN limited by session policy", get(session), PolicySet{
			SessionPolicies: []NamedPolicy{np("sess", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)},
			ResourcePolicy:  npp("bucket", bucketPolicy(`{"AWS":"arn:aws:iam::`+acctA+`:role/Dev"}`))}, ReasonImplicitDeny, ""},
		{"bucket policy to session ARN not limited by boundary", get(session), PolicySet{
			PermissionsBoundary: npp("boundary", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`),
			ResourcePolicy:      npp("bucket", bucketPolicy(`{"AWS":"`+session.ARN+`"}`))}, ReasonAllowed, ""},
		{"bucket policy naming the account delegates to IAM", get(alice), PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`{"AWS":"arn:aws:iam::`+acctA+`:root"}`))}, ReasonImplicitDeny, ""},
		{"bucket policy naming the account plus identity allow", get(alice), PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", bucketPolicy(`{"AWS":"`+acctA+`"}`))}, ReasonAllowed, ""},
		{"conditional bucket deny without its key does not apply", get(alice), PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy: npp("bucket", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*",
				"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)}, ReasonAllowed, ""},
		{"bucket policy deny insecure transport", Request{Principal: alice, Action: "s3:GetObject", Resource: objectARN, Context: ctx("aws:SecureTransport", "false")}, PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy: npp("bucket", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*",
				"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)}, ReasonExplicitDeny, ""},
		{"resource deny for other principal does not apply", get(alice), PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::`+acctA+`:user/mallory"},"Action":"s3:*","Resource":"*"}]}`)}, ReasonAllowed, ""},
		{"NotPrincipal deny spares the listed user", get(alice), PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["`+alice.ARN+`"]},"Action":"s3:*","Resource":"*"}]}`)}, ReasonAllowed, ""},
		{"NotPrincipal deny hits others", get(RequestPrincipal{ARN: "arn:aws:iam::" + acctA + ":user/carol", Type: PrincipalUser}), PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["`+alice.ARN+`"]},"Action":"s3:*","Resource":"*"}]}`)}, ReasonExplicitDeny, ""},
		// Cross-account: both sides must allow.
		{"cross-account needs resource policy", Request{Principal: bobB, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{
			IdentityPolicies: []NamedPolicy{np("all", allowAll)}}, ReasonImplicitDeny, "resource policy does not allow"},
		{"cross-account needs identity policy", Request{Principal: bobB, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`{"AWS":"`+bobB.ARN+`"}`))}, ReasonImplicitDeny, "cross-account request: no identity"},
		{"cross-account both allow via account principal", Request{Principal: bobB, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", bucketPolicy(`{"AWS":"arn:aws:iam::`+acctB+`:root"}`))}, ReasonAllowed, ""},
		{"cross-account boundary applies", Request{Principal: bobB, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{
			PermissionsBoundary: npp("boundary", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`),
			IdentityPolicies:    []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:      npp("bucket", bucketPolicy(`{"AWS":"`+bobB.ARN+`"}`))}, ReasonImplicitDeny, "permissions boundary"},
		{"cross-account other account named", Request{Principal: bobB, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{
			IdentityPolicies: []NamedPolicy{np("read", allowS3Read)},
			ResourcePolicy:   npp("bucket", bucketPolicy(`{"AWS":"999999999999"}`))}, ReasonImplicitDeny, ""},
		// Anonymous, service and root principals.
		{"anonymous via public bucket policy", get(RequestPrincipal{Type: PrincipalAnonymous}), PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`"*"`))}, ReasonAllowed, ""},
		{"anonymous not named", get(RequestPrincipal{Type: PrincipalAnonymous}), PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`{"AWS":"`+acctA+`"}`))}, ReasonImplicitDeny, ""},
		{"service principal", Request{Principal: RequestPrincipal{ARN: "cloudtrail.amazonaws.com", Type: PrincipalService}, Action: "s3:GetObject", Resource: objectARN, ResourceAccount: acctA}, PolicySet{
			ResourcePolicy: npp("bucket", bucketPolicy(`{"Service":["cloudtrail.amazonaws.com"]}`))}, ReasonAllowed, ""},
		{"root user needs no identity policy", get(RequestPrincipal{ARN: "arn:aws:iam::" + acctA + ":root", Type: PrincipalRoot}), PolicySet{}, ReasonAllowed, ""},
		{"root user bound by SCP", get(RequestPrincipal{ARN: "arn:aws:iam::" + acctA + ":root", Type: PrincipalRoot}), PolicySet{
			SCPs: [][]NamedPolicy{{np("ec2", `{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)}}}, ReasonImplicitDeny, ""},
		{"identity condition on principal tag", Request{Principal: RequestPrincipal{ARN: alice.ARN, Type: PrincipalUser, Tags: map[string]string{"Team": "red"}}, Action: "s3:GetObject", Resource: objectARN}, PolicySet{
			IdentityPolicies: []NamedPolicy{np("abac", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}}]}`)}}, ReasonImplicitDeny, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Evaluate(tc.req, tc.set)
			require.Equal(t, tc.want, d.Reason, "detail: %s, statements: %+v", d.Detail, d.Statements)
			require.Equal(t, tc.want == ReasonAllowed, d.Allowed)
			if tc.detail != "" {
				require.Contains(t, d.Detail, tc.detail)
			}
		})
	}
}

func TestEvaluateExplains(t *testing.T) {
	t.Parallel()
	set := PolicySet{
		SCPs:             [][]NamedPolicy{{np("FullAWSAccess", allowAll)}},
		IdentityPolicies: []NamedPolicy{np("all", allowAll), np("nodelete", denyS3Delete)},
	}
	d := Evaluate(Request{Principal: alice, Action: "s3:DeleteObject", Resource: objectARN}, set)
	require.Equal(t, []Match{{Kind: KindIdentity, Policy: "nodelete", Sid: "NoDelete", Index: 0, Effect: Deny}}, d.Statements)

	d = Evaluate(Request{Principal: alice, Action: "s3:GetObject", Resource: objectARN}, set)
	require.True(t, d.Allowed)
	require.Equal(t, []Match{
		{Kind: KindSCP, Policy: "FullAWSAccess", Sid: "All", Effect: Allow},
		{Kind: KindIdentity, Policy: "all", Sid: "All", Effect: Allow},
	}, d.Statements)
}
