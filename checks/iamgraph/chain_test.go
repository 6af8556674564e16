package iamgraph

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

func TestChains(t *testing.T) {
	t.Parallel()
	assume := func(roles ...string) string {
		var arns []string
		for _, r := range roles {
			arns = append(arns, roleARN(r))
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":` + jsonList(arns) + `}]}`
	}
	cases := []struct {
		name string
		res  func(t *testing.T) []providers.Resource
		// want maps a principal ARN to the expected hops (nil: chain finding passes).
		want map[string][]Hop
	}{
		{
			// dev -> ops -> deploy; deploy can assume admin (a direct method), so the
			// chain of dev ends at deploy, and ops' chain too.
			name: "assume_role_chain",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "dev", inline(t, "UserPolicyList", assume("ops"))),
					role(t, "ops", trustAWS(acct), inline(t, "RolePolicyList", assume("deploy"))),
					role(t, "deploy", trustAWS(roleARN("ops")), inline(t, "RolePolicyList", assume("admin"))),
					role(t, "admin", trustAWS(roleARN("deploy")), attached("arn:aws:iam::aws:policy/AdministratorAccess")),
				}
			},
			want: map[string][]Hop{
				userARN("dev"): {{From: userARN("dev"), To: roleARN("ops"), Via: "sts:AssumeRole"}, {From: roleARN("ops"), To: roleARN("deploy"), Via: "sts:AssumeRole"}},
				roleARN("ops"): {{From: roleARN("ops"), To: roleARN("deploy"), Via: "sts:AssumeRole"}},
			},
		},
		{
			// The trust policy of ops names the account, but dev's identity policies do
			// not allow sts:AssumeRole on it: no edge.
			name: "trust_without_identity_grant",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "dev", inline(t, "UserPolicyList", allow("s3:GetObject"))),
					role(t, "ops", trustAWS(acct), inline(t, "RolePolicyList", allow("iam:PutUserPolicy"))),
				}
			},
			want: map[string][]Hop{},
		},
		{
			// dev may assume ci; ci may pass the lambda admin role to Lambda (a direct
			// method of ci): dev reaches ci in one hop.
			name: "assume_then_passrole",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					user(t, "dev", inline(t, "UserPolicyList", assume("ci"))),
					role(t, "ci", trustAWS(userARN("dev")), inline(t, "RolePolicyList", allow("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"))),
					role(t, "fn-admin", trustService("lambda.amazonaws.com"), attached("arn:aws:iam::aws:policy/AdministratorAccess")),
				}
			},
			want: map[string][]Hop{
				userARN("dev"): {{From: userARN("dev"), To: roleARN("ci"), Via: "sts:AssumeRole"}},
			},
		},
		{
			// A boundary on dev that does not allow sts:AssumeRole breaks the chain.
			name: "boundary_breaks_chain",
			res: func(t *testing.T) []providers.Resource {
				return []providers.Resource{
					managed(t, "b", allow("s3:*"), 1),
					user(t, "dev", inline(t, "UserPolicyList", assume("ci")), boundary(policyARN("b"))),
					role(t, "ci", trustAWS(acct), attached("arn:aws:iam::aws:policy/AdministratorAccess")),
				}
			},
			want: map[string][]Hop{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := build(t, tc.res(t)...)
			fs, err := Analyze(context.Background(), g, Config{})
			require.NoError(t, err)
			for _, p := range g.Principals {
				f := findingFor(t, fs, IDEscalationChain, p.ARN)
				hops, want := tc.want[p.ARN]
				if !want {
					require.NotEqual(t, StatusFail, f.Status, "%s: %s", p.ARN, f.Message)
					continue
				}
				require.Equal(t, StatusFail, f.Status, p.ARN)
				require.Equal(t, toJSON(hops), f.Evidence["path"], f.Message)
			}
		})
	}
}

func TestShortestChainDepth(t *testing.T) {
	t.Parallel()
	edges := map[string][]Hop{}
	names := []string{"a", "b", "c", "d", "e", "f", "g"}
	for i := 0; i+1 < len(names); i++ {
		edges[names[i]] = []Hop{{From: names[i], To: names[i+1], Via: "sts:AssumeRole"}}
	}
	edges["g"] = []Hop{{From: "g", To: "a", Via: "sts:AssumeRole"}} // a cycle
	isTarget := func(s string) bool { return s == "f" }
	require.Len(t, ShortestChain("a", edges, isTarget, 5), 5)
	require.Nil(t, ShortestChain("a", edges, isTarget, 4))
	require.Nil(t, ShortestChain("a", edges, func(string) bool { return false }, 10), "cycles terminate")
}

func jsonList(s []string) string { return string(mustJSON(s)) }

// TestGraphConcurrentUse runs the memoising queries from several goroutines (run with
// -race).
func TestGraphConcurrentUse(t *testing.T) {
	t.Parallel()
	g := build(t, benchEstate(t, 30)...)
	want, err := Analyze(context.Background(), build(t, benchEstate(t, 30)...), Config{})
	require.NoError(t, err)
	done := make(chan []Finding, 4)
	for i := 0; i < 4; i++ {
		go func() {
			for _, p := range g.Principals {
				g.EffectiveSummary(p)
				g.AdminEquivalent(p)
			}
			fs, err := Analyze(context.Background(), g, Config{})
			if err != nil {
				fs = nil
			}
			done <- fs
		}()
	}
	for i := 0; i < 4; i++ {
		require.Equal(t, want, <-done)
	}
}
