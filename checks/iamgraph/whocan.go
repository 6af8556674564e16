package iamgraph

import (
	"sort"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// Access is one principal that may perform some of the asked actions on a resource.
type Access struct {
	// Principal is the ARN of a user or role of the graph, or, for Kind "external", the
	// principal as the resource policy names it (an account, an ARN, "*").
	Principal string `json:"principal"`
	// Kind is "user", "role" or "external".
	Kind string `json:"kind"`
	// Actions are the asked actions allowed, in the order asked.
	Actions []string `json:"actions"`
	// Via says which policies granted access: "identity", "resource_policy" or
	// "identity+resource_policy".
	Via string `json:"via"`
	// Unresolved is true when some of the principal's policies could not be read (it
	// may have more or less access than shown).
	Unresolved bool `json:"unresolved,omitempty"`
}

// WhoCan answers "who can do actions on resourceARN?" ("who can read bucket X" is
// WhoCan(g, []string{"s3:GetObject"}, "arn:aws:s3:::X/*", bucketPolicy)): every user and
// role of the graph for which iampolicy.Evaluate allows at least one of the actions,
// with its identity policies, boundary, SCPs and the resource policy (nil when none),
// then the principals of other accounts (or everyone) the resource policy names that it
// allows on its own side. The resource is taken to belong to the graph's account unless
// its ARN names another.
func WhoCan(g *Graph, actions []string, resourceARN string, resourcePolicy *iampolicy.Policy) []Access {
	var rp *iampolicy.NamedPolicy
	if resourcePolicy != nil {
		rp = &iampolicy.NamedPolicy{Name: "resource policy of " + resourceARN, Policy: resourcePolicy}
	}
	var out []Access
	for _, p := range g.Principals {
		acc := Access{Principal: p.ARN, Kind: string(p.Kind), Unresolved: len(p.Unresolved) > 0}
		viaIdentity, viaResource := false, false
		for _, a := range actions {
			d := g.Decide(p, a, resourceARN, rp)
			if !d.Allowed {
				continue
			}
			acc.Actions = append(acc.Actions, a)
			for _, m := range d.Statements {
				switch m.Kind {
				case iampolicy.KindIdentity:
					viaIdentity = true
				case iampolicy.KindResource:
					viaResource = true
				}
			}
		}
		if len(acc.Actions) == 0 {
			continue
		}
		acc.Via = via(viaIdentity, viaResource)
		out = append(out, acc)
	}
	if resourcePolicy != nil {
		out = append(out, externalAccess(g, actions, resourceARN, rp)...)
	}
	return out
}

func via(identity, resource bool) string {
	switch {
	case identity && resource:
		return "identity+resource_policy"
	case resource:
		return "resource_policy"
	}
	return "identity"
}

// externalAccess lists the principals outside the graph that the resource policy
// names and allows: other accounts (their root, whose administrators may delegate),
// specific foreign ARNs, and "*" (anonymous callers).
func externalAccess(g *Graph, actions []string, resourceARN string, rp *iampolicy.NamedPolicy) []Access {
	named := map[string]iampolicy.RequestPrincipal{}
	for _, st := range rp.Policy.Statements {
		if st.Effect != iampolicy.Allow || st.Principal == nil {
			continue
		}
		if st.Principal.Wildcard {
			named["*"] = iampolicy.RequestPrincipal{Type: iampolicy.PrincipalAnonymous}
		}
		for _, a := range st.Principal.AWS {
			acct := arnAccount(a)
			if acct == "" || acct == g.Account || g.byARN[a] != nil {
				continue
			}
			switch {
			case isAccountID(a) || a == "arn:aws:iam::"+acct+":root":
				named[a] = iampolicy.RequestPrincipal{ARN: "arn:aws:iam::" + acct + ":root", Account: acct, Type: iampolicy.PrincipalRoot}
			case containsRole(a):
				named[a] = iampolicy.RequestPrincipal{ARN: a, Account: acct, Type: iampolicy.PrincipalRole}
			default:
				named[a] = iampolicy.RequestPrincipal{ARN: a, Account: acct, Type: iampolicy.PrincipalUser}
			}
		}
	}
	keys := make([]string, 0, len(named))
	for k := range named {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Access
	for _, k := range keys {
		rq := named[k]
		acc := Access{Principal: k, Kind: "external", Via: "resource_policy"}
		for _, a := range actions {
			// The foreign identity side is unknown: an allow-all identity policy
			// stands for "its administrators delegate".
			set := iampolicy.PolicySet{ResourcePolicy: rp}
			if rq.Type != iampolicy.PrincipalRoot && rq.Type != iampolicy.PrincipalAnonymous {
				set.IdentityPolicies = []iampolicy.NamedPolicy{{Name: "foreign identity (assumed)", Policy: allowAll}}
			}
			d := iampolicy.Evaluate(iampolicy.Request{Principal: rq, Action: a, Resource: resourceARN, ResourceAccount: g.Account}, set)
			if d.Allowed {
				acc.Actions = append(acc.Actions, a)
			}
		}
		if len(acc.Actions) > 0 {
			out = append(out, acc)
		}
	}
	return out
}

func containsRole(arn string) bool {
	parts := splitARN(arn)
	return len(parts) == 6 && len(parts[5]) > 5 && parts[5][:5] == "role/"
}
