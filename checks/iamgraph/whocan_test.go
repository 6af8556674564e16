package iamgraph

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

func TestWhoCan(t *testing.T) {
	t.Parallel()
	g := build(t,
		user(t, "admin", attached("arn:aws:iam::aws:policy/AdministratorAccess")),
		user(t, "reader", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`)),
		user(t, "other-bucket", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::logs/*"}]}`)),
		managed(t, "b", allow("ec2:*"), 1),
		user(t, "bounded", inline(t, "UserPolicyList", allow("s3:*")), boundary(policyARN("b"))),
		role(t, "named-in-policy", trustService("ec2.amazonaws.com")),
		role(t, "nothing", trustService("ec2.amazonaws.com")),
	)
	bucketPolicy := iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"` + roleARN("named-in-policy") + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]},
		{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"aws:PrincipalArn":"` + userARN("admin") + `"}}}]}`)

	got := WhoCan(g, []string{"s3:GetObject"}, "arn:aws:s3:::data/report.csv", bucketPolicy)
	require.Equal(t, []Access{
		{Principal: roleARN("named-in-policy"), Kind: "role", Actions: []string{"s3:GetObject"}, Via: "resource_policy"},
		{Principal: userARN("reader"), Kind: "user", Actions: []string{"s3:GetObject"}, Via: "identity"},
		{Principal: "arn:aws:iam::444455556666:root", Kind: "external", Actions: []string{"s3:GetObject"}, Via: "resource_policy"},
	}, got, "the admin is denied by the bucket policy, the bounded user by its boundary")

	// Without the bucket policy, the admin can read and the role cannot.
	got = WhoCan(g, []string{"s3:GetObject"}, "arn:aws:s3:::data/report.csv", nil)
	var arns []string
	for _, a := range got {
		arns = append(arns, a.Principal)
	}
	require.Equal(t, []string{userARN("admin"), userARN("reader")}, arns)
}

func TestEffectiveSummary(t *testing.T) {
	t.Parallel()
	g := build(t,
		user(t, "u", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"]},
			{"Effect":"Allow","Action":"sqs:*","Resource":"*"},
			{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"},
			{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}]}`)),
		managed(t, "b", allow("s3:*", "sqs:Get*", "sqs:List*"), 1),
		user(t, "bounded", inline(t, "UserPolicyList", allow("s3:GetObject", "sqs:*")), boundary(policyARN("b"))),
		user(t, "notaction", inline(t, "UserPolicyList", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`)),
	)
	cat := iampolicy.DefaultCatalog()
	countLevels := func(svc string) map[iampolicy.AccessLevel]int {
		m := map[iampolicy.AccessLevel]int{}
		for _, a := range cat.Actions(svc) {
			m[a.Level]++
		}
		return m
	}
	sum := g.EffectiveSummary(g.Principal(userARN("u")))
	require.Equal(t, map[iampolicy.AccessLevel]int{iampolicy.LevelRead: 1, iampolicy.LevelList: 1}, sum["s3"], "PutObject denied")
	require.Equal(t, countLevels("sqs"), sum["sqs"])
	require.NotContains(t, sum, "ssm", "services outside the catalog are not counted")

	sum = g.EffectiveSummary(g.Principal(userARN("bounded")))
	require.Equal(t, map[iampolicy.AccessLevel]int{iampolicy.LevelRead: 1}, sum["s3"])
	var sqsBounded int
	for _, a := range g.EffectiveActions(g.Principal(userARN("bounded"))) {
		if a.Action[:4] == "sqs:" {
			sqsBounded++
			require.Contains(t, []iampolicy.AccessLevel{iampolicy.LevelRead, iampolicy.LevelList}, a.Level, a.Action)
		}
	}
	require.Positive(t, sqsBounded)

	sum = g.EffectiveSummary(g.Principal(userARN("notaction")))
	require.NotContains(t, sum, "s3")
	require.Equal(t, countLevels("ec2"), sum["ec2"])
	require.Len(t, sum, len(cat.Services())-1)
}

// TestEffectiveActionsMatchesNaive checks the signature sharing of EffectiveActions
// against one Evaluate per candidate action and resource, on the benchmark's policy
// shapes plus a boundary and SCPs.
func TestEffectiveActionsMatchesNaive(t *testing.T) {
	t.Parallel()
	res := benchEstate(t, 40)
	res = append(res, managed(t, "b", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["ec2:Terminate*","lambda:Delete*"],"Resource":"*"},{"Effect":"Deny","Action":"s3:GetObjectAcl","Resource":"*"}]}`, 1))
	res = append(res, user(t, "bounded", inline(t, "UserPolicyList", allow("*")), boundary(policyARN("b"))))
	scps := [][]iampolicy.NamedPolicy{{{Name: "full", Policy: iampolicy.MustParse(allow("*"))}, {Name: "deny-logs", Policy: iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["logs:Delete*","kms:Schedule*"],"Resource":"*"}]}`)}}}
	g, err := Build(res, BuildConfig{SCPs: scps})
	require.NoError(t, err)
	for _, p := range g.Principals {
		got := g.EffectiveActions(p)
		var want []ActionGrant
		for _, a := range g.actions {
			for _, r := range naiveResources(p, a) {
				if g.Decide(p, a, r, nil).Allowed {
					info, _ := g.catalog.Lookup(a)
					want = append(want, ActionGrant{Action: a, Level: info.Level, Resource: r})
					break
				}
			}
		}
		require.Equal(t, len(want), len(got), p.ARN)
		require.Equal(t, want, got, p.ARN)
	}
}

// naiveResources lists, in statement order, the resources the Allow statements of p
// that match action name.
func naiveResources(p *Principal, action string) []string {
	var out []string
	for _, np := range p.Policies {
		for _, st := range np.Policy.Statements {
			if st.Effect != iampolicy.Allow || !statementHasAction(&st, action) {
				continue
			}
			res := []string{"*"}
			if len(st.Resource) > 0 {
				res = nil
				for _, r := range st.Resource {
					res = append(res, requestResource(p, r))
				}
			}
		next:
			for _, r := range res {
				for _, o := range out {
					if o == r {
						continue next
					}
				}
				out = append(out, r)
			}
		}
	}
	return out
}
