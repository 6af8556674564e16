package iamgraph

import (
	"fmt"
	"strings"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// Admin kinds.
const (
	// AdminFull: every probe action on every resource is allowed.
	AdminFull = "full"
	// AdminIAMWrite: unrestricted IAM write access (create roles and users, attach and
	// write policies, pass and re-trust roles) plus sts:AssumeRole on any role: the
	// principal can create an administrator role and assume it.
	AdminIAMWrite = "iam_write"
)

// uncataloguedProbe is an action of no real service: only "*", "*:*" or a NotAction
// grant allows it, which is what tells "every action" from a long list of services.
const uncataloguedProbe = "vigilprobe:AnyAction"

// AdminResult says whether a principal is administrator-equivalent.
type AdminResult struct {
	Admin bool
	// Kind is AdminFull or AdminIAMWrite when Admin.
	Kind string
	// Denied lists, for a non-admin, the first probe of each kind that was denied.
	Denied []string
}

// fullProbes returns the probe actions of AdminFull: the uncatalogued action, the
// most sensitive action (first by name at the highest access level) of every catalog
// service, and the IAM write probes.
func (g *Graph) fullProbes() []string {
	g.probesOnce.Do(func() { g.probes = g.computeFullProbes() })
	return g.probes
}

func (g *Graph) computeFullProbes() []string {
	out := []string{uncataloguedProbe}
	for _, svc := range g.catalog.Services() {
		var best iampolicy.ActionInfo
		rank := -1
		for _, a := range g.catalog.Actions(svc) {
			r := 0
			switch a.Level {
			case iampolicy.LevelPermissions:
				r = 2
			case iampolicy.LevelWrite:
				r = 1
			}
			if r > rank {
				best, rank = a, r
			}
		}
		if rank >= 0 {
			out = append(out, best.String())
		}
	}
	return out
}

// iamWriteProbes are the IAM actions (with the kind of resource each takes) whose
// unrestricted grant lets a principal mint an administrator.
var iamWriteProbes = []struct{ action, kind string }{
	{"iam:CreateRole", "role"}, {"iam:AttachRolePolicy", "role"}, {"iam:PutRolePolicy", "role"},
	{"iam:UpdateAssumeRolePolicy", "role"}, {"iam:PassRole", "role"},
	{"iam:CreateUser", "user"}, {"iam:AttachUserPolicy", "user"}, {"iam:PutUserPolicy", "user"},
	{"iam:CreateAccessKey", "user"}, {"iam:CreatePolicyVersion", "policy"},
}

// probeARN is an ARN of a resource that does not exist, of the given IAM kind, in the
// principal's account: a policy scoped to "arn:aws:iam::ACCOUNT:role/*" matches it,
// one scoped to specific names does not.
func probeARN(p *Principal, kind string) string {
	partition := "aws"
	if parts := strings.SplitN(p.ARN, ":", 3); len(parts) == 3 {
		partition = parts[1]
	}
	return fmt.Sprintf("arn:%s:iam::%s:%s/vigil-probe-%s", partition, p.Account, kind, kind)
}

// AdminEquivalent decides whether p is administrator-equivalent after its boundary and
// the SCPs (see docs/iam.md, "IAM analyses"): either every full probe is allowed on
// "*", or every IAM write probe is allowed on a fresh resource of its kind and
// sts:AssumeRole on a fresh role.
func (g *Graph) AdminEquivalent(p *Principal) AdminResult {
	var res AdminResult
	full := true
	for _, a := range g.fullProbes() {
		if !g.Allowed(p, a, "*") {
			full = false
			res.Denied = append(res.Denied, a)
			break
		}
	}
	if full {
		return AdminResult{Admin: true, Kind: AdminFull}
	}
	iamWrite := g.Allowed(p, "sts:AssumeRole", probeARN(p, "role"))
	if !iamWrite {
		res.Denied = append(res.Denied, "sts:AssumeRole")
	}
	for _, pr := range iamWriteProbes {
		if !iamWrite {
			break
		}
		if !g.Allowed(p, pr.action, probeARN(p, pr.kind)) {
			iamWrite = false
			res.Denied = append(res.Denied, pr.action)
		}
	}
	if iamWrite {
		return AdminResult{Admin: true, Kind: AdminIAMWrite}
	}
	return res
}

// adminSet computes AdminEquivalent for every principal once.
func (g *Graph) adminSet() map[*Principal]AdminResult {
	out := make(map[*Principal]AdminResult, len(g.Principals))
	for _, p := range g.Principals {
		out[p] = g.AdminEquivalent(p)
	}
	return out
}

func adminFindings(g *Graph, admins map[*Principal]AdminResult) []Finding {
	a := analyzer(IDAdminEquivalent)
	var out []Finding
	for _, p := range g.Principals {
		r := admins[p]
		ev := map[string]any{"boundary": p.BoundaryARN, "policies": policyNames(p)}
		switch {
		case r.Admin:
			ev["admin_kind"] = r.Kind
			out = append(out, newFinding(a, p, StatusFail, fmt.Sprintf("%s %s is administrator-equivalent (%s)", p.Kind, p.Name, r.Kind), ev))
		case len(p.Unresolved) > 0:
			ev["unresolved"] = stringsAny(p.Unresolved)
			out = append(out, newFinding(a, p, StatusUnknown, fmt.Sprintf("%s %s: some of its policies could not be read", p.Kind, p.Name), ev))
		default:
			ev["denied_probes"] = stringsAny(r.Denied)
			out = append(out, newFinding(a, p, StatusPass, fmt.Sprintf("%s %s is not administrator-equivalent", p.Kind, p.Name), ev))
		}
	}
	return out
}

func policyNames(p *Principal) []any {
	out := make([]any, 0, len(p.Policies))
	for _, np := range p.Policies {
		out = append(out, np.Name)
	}
	return out
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
