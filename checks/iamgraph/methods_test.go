package iamgraph

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

func TestMethodsTable(t *testing.T) {
	t.Parallel()
	ms := Methods()
	require.GreaterOrEqual(t, len(ms), 60, "at least 60 escalation methods")
	seen := map[string]bool{}
	for _, m := range ms {
		require.False(t, seen[m.ID], "duplicate method %s", m.ID)
		seen[m.ID] = true
		require.NotEmpty(t, m.Requires, m.ID)
		require.NotEmpty(t, m.Description, m.ID)
		require.True(t, strings.HasPrefix(m.Reference, "https://"), m.ID)
		kinds := map[Target]bool{}
		for _, r := range m.Requires {
			require.Contains(t, r.Action, ":", m.ID)
			if r.Target != TargetAny {
				kinds[r.Target] = true
			}
		}
		require.LessOrEqual(t, len(kinds), 1, "%s: one concrete target kind at most", m.ID)
		if kinds[TargetPassRole] {
			require.NotEmpty(t, m.Service, "%s: a PassRole method names the service", m.ID)
		}
	}
}

// methodEnv is the estate around the attacker: another user, a group the attacker
// belongs to and one it does not, a role trusting every compute service of the table,
// an administrator role trusting the account, a role trusting the attacker.
func methodEnv(t *testing.T) []providers.Resource {
	var services []string
	for _, m := range Methods() {
		for _, s := range []string{m.Service, m.RoleForService} {
			if s != "" && !contains(services, s) {
				services = append(services, s)
			}
		}
	}
	return []providers.Resource{
		user(t, "victim"),
		group(t, "devs"),
		group(t, "admins", attached("arn:aws:iam::aws:policy/AdministratorAccess")),
		role(t, "compute", trustService(services...)),
		role(t, "admin-role", trustAWS(acct), attached("arn:aws:iam::aws:policy/AdministratorAccess")),
		role(t, "assumable", trustAWS(userARN("attacker"))),
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestMethods runs three fixtures per method: the attacker holds exactly the method's
// actions (applies); the same plus a Deny of its first action (blocked by a deny); the
// same with a permissions boundary that allows everything but its first action
// (blocked by the boundary).
func TestMethods(t *testing.T) {
	t.Parallel()
	for _, m := range Methods() {
		var actions []string
		for _, r := range m.Requires {
			if !contains(actions, r.Action) {
				actions = append(actions, r.Action)
			}
		}
		first, _ := json.Marshal(m.Requires[0].Action)
		grant := allow(actions...)
		deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":` + string(first) + `,"Resource":"*"}]}`
		allButFirst := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":` + string(first) + `,"Resource":"*"}]}`
		allowAllDoc := allow("*")
		roleAttacker := m.methodTarget() == TargetSelfRoleBounded
		needsBoundary := roleAttacker || m.methodTarget() == TargetSelfUserBounded

		cases := []struct {
			name     string
			extra    []string // extra inline policies
			boundary string   // boundary document, "" for none
			want     bool
		}{
			{name: "applies", want: true},
			{name: "blocked_by_deny", extra: []string{deny}},
			{name: "blocked_by_boundary", boundary: allButFirst},
		}
		for _, tc := range cases {
			t.Run(m.ID+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				res := methodEnv(t)
				// The grant is a customer-managed policy attached to the attacker, so
				// that own-policy methods have a target.
				res = append(res, managed(t, "grant", grant, 2))
				opts := []docOpt{attached(policyARN("grant"))}
				listKey := "UserPolicyList"
				if roleAttacker {
					listKey = "RolePolicyList"
				}
				opts = append(opts, inline(t, listKey, tc.extra...))
				b := tc.boundary
				if b == "" && needsBoundary {
					b = allowAllDoc
				}
				if b != "" {
					res = append(res, managed(t, "boundary", b, 1))
					opts = append(opts, boundary(policyARN("boundary")))
				}
				attacker := userARN("attacker")
				if roleAttacker {
					attacker = roleARN("attacker")
					res = append(res, role(t, "attacker", trustService("ec2.amazonaws.com"), opts...))
				} else {
					res = append(res, user(t, "attacker", append(opts, memberOf("devs"))...))
				}
				g := build(t, res...)
				p := g.Principal(attacker)
				require.NotNil(t, p)
				require.Empty(t, p.Unresolved)
				require.False(t, g.AdminEquivalent(p).Admin)
				mm, ok := g.EvaluateMethod(p, &m)
				require.Equal(t, tc.want, ok, "method %s %s: %+v", m.ID, tc.name, mm)
				if ok {
					require.NotEmpty(t, mm.Targets)
				}
			})
		}
	}
}
