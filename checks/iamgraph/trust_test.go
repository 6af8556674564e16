package iamgraph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func findingFor(t *testing.T, fs []Finding, check, arn string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.CheckID == check && f.ResourceNativeID == arn {
			return f
		}
	}
	t.Fatalf("no %s finding for %s", check, arn)
	return Finding{}
}

func TestTrustAnalyses(t *testing.T) {
	t.Parallel()
	const gh = `arn:aws:iam::` + acct + `:oidc-provider/token.actions.githubusercontent.com`
	oidc := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + gh + `"},"Action":"sts:AssumeRoleWithWebIdentity"` + cond + `}]}`
	}
	cases := []struct {
		name                string
		trust               string
		trusted             []string
		anyP, external, fed string // expected statuses
	}{
		{name: "service", trust: trustService("lambda.amazonaws.com"), anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "same_account_root", trust: trustAWS(acct), anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "other_account_without_external_id", trust: trustAWS("arn:aws:iam::444455556666:root"), anyP: StatusPass, external: StatusFail, fed: StatusPass},
		{name: "other_account_role_without_external_id", trust: trustAWS("arn:aws:iam::444455556666:role/deployer"), anyP: StatusPass, external: StatusFail, fed: StatusPass},
		{name: "other_account_trusted_by_config", trust: trustAWS("444455556666"), trusted: []string{"444455556666"}, anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "other_account_with_external_id", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-123"}}}]}`,
			anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "other_account_with_org_id", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`,
			anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "other_account_with_negated_external_id", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"sts:ExternalId":"x"}}}]}`,
			anyP: StatusPass, external: StatusFail, fed: StatusPass},
		{name: "other_account_with_wildcard_external_id", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ExternalId":"*"}}}]}`,
			anyP: StatusPass, external: StatusFail, fed: StatusPass},
		{name: "any_principal", trust: trustAWS("*"), anyP: StatusFail, external: StatusPass, fed: StatusPass},
		{name: "star_principal", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, anyP: StatusFail, external: StatusPass, fed: StatusPass},
		{name: "any_principal_with_external_id_only", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`,
			anyP: StatusFail, external: StatusPass, fed: StatusPass},
		{name: "any_principal_in_org", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`,
			anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "github_without_conditions", trust: oidc(""), anyP: StatusPass, external: StatusPass, fed: StatusFail},
		{name: "github_audience_only", trust: oidc(`,"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`), anyP: StatusPass, external: StatusPass, fed: StatusFail},
		{name: "github_any_repo", trust: oidc(`,"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}`), anyP: StatusPass, external: StatusPass, fed: StatusFail},
		{name: "github_audience_and_subject", trust: oidc(`,"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/main"}}`), anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "github_subject_if_exists", trust: oidc(`,"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLikeIfExists":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}`), anyP: StatusPass, external: StatusPass, fed: StatusFail},
		{name: "eks_irsa", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + acct + `:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com","oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:ns:sa"}}}]}`,
			anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "saml_with_audience", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + acct + `:saml-provider/okta"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`,
			anyP: StatusPass, external: StatusPass, fed: StatusPass},
		{name: "saml_without_audience", trust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + acct + `:saml-provider/okta"},"Action":"sts:AssumeRoleWithSAML"}]}`,
			anyP: StatusPass, external: StatusPass, fed: StatusFail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := build(t, role(t, "r", tc.trust))
			fs := trustFindings(g, toSet(tc.trusted))
			require.Len(t, fs, 3)
			arn := roleARN("r")
			require.Equal(t, tc.anyP, findingFor(t, fs, IDTrustAnyPrincipal, arn).Status, "any principal")
			require.Equal(t, tc.external, findingFor(t, fs, IDTrustExternalNoExtID, arn).Status, "external")
			require.Equal(t, tc.fed, findingFor(t, fs, IDTrustOIDCUnrestrict, arn).Status, "federated")
		})
	}
}

func toSet(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

func TestTrustUnreadable(t *testing.T) {
	t.Parallel()
	r := role(t, "r", trustService("ec2.amazonaws.com"))
	r.Properties["AssumeRolePolicyDocument"] = "not json"
	g := build(t, r)
	for _, f := range trustFindings(g, nil) {
		require.Equal(t, StatusUnknown, f.Status, f.CheckID)
	}
}
