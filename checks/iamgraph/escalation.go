package iamgraph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// MethodMatch is one escalation method a principal can use.
type MethodMatch struct {
	// Method is the method id.
	Method string `json:"method"`
	// Targets are the concrete resources (ARNs) the method works on, "*" for methods
	// acting on unlisted resources; at most maxTargets.
	Targets []string `json:"targets"`
	// Actions are the method's required actions.
	Actions []string `json:"actions"`
	// Description says how the method works.
	Description string `json:"description"`
}

const maxTargets = 10

// allowAll is the identity policy used to ask what a trust policy alone admits.
var allowAll = iampolicy.MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

// foreignAccount is a resource account no principal has: evaluating a trust policy
// as cross-account makes the engine require the trust policy itself to name the
// caller, instead of delegating to identity policies.
const foreignAccount = "000000000000"

// trustAdmits reports whether role's trust policy, on its own, lets p call action
// (sts:AssumeRole): some Allow statement names p, its account or everyone, its
// conditions hold on a context-free request, and no Deny applies.
func trustAdmits(p *Principal, role *Principal, action string) bool {
	if role.Trust == nil {
		return false
	}
	d := iampolicy.Evaluate(iampolicy.Request{Principal: p.req, Action: action, Resource: role.ARN, ResourceAccount: foreignAccount},
		iampolicy.PolicySet{IdentityPolicies: []iampolicy.NamedPolicy{{Name: "probe", Policy: allowAll}}, ResourcePolicy: &iampolicy.NamedPolicy{Name: "trust", Policy: role.Trust}})
	return d.Allowed
}

// CanAssume reports whether p may assume role: the role's trust policy admits p, and
// the full decision (identity policies, boundary, SCPs, trust policy as the resource
// policy) allows sts:AssumeRole on the role. A trust policy naming the account root
// delegates to p's identity policies; one naming p itself suffices on its own.
func (g *Graph) CanAssume(p, role *Principal) bool {
	if p == role || role.Kind != KindRole {
		return false
	}
	// Cheap pre-filters first, unmemoised: most pairs of a large estate stop here.
	if !trustNames(role, p) || !(role.trustsNamedDirectly(p) || g.MayAllow(p, "sts:AssumeRole")) {
		return false
	}
	key := "assume\x00" + role.ARN
	p.mu.Lock()
	v, ok := p.memo[key]
	p.mu.Unlock()
	if ok {
		return v
	}
	v = trustAdmits(p, role, "sts:AssumeRole") &&
		g.Decide(p, "sts:AssumeRole", role.ARN, &iampolicy.NamedPolicy{Name: "trust:" + role.ARN, Policy: role.Trust}).Allowed
	p.mu.Lock()
	p.memo[key] = v
	p.mu.Unlock()
	return v
}

// trustIndex summarises whom a trust policy's Allow statements name, for the cheap
// pre-filters of CanAssume.
type trustIndex struct {
	everyone bool            // Principal "*" or NotPrincipal
	named    map[string]bool // AWS principals as written (ARNs, account ids)
}

func (role *Principal) trustIdx() *trustIndex {
	role.trustOnce.Do(func() {
		role.trustIndex = &trustIndex{named: map[string]bool{}}
		if role.Trust == nil {
			return
		}
		for _, st := range role.Trust.Statements {
			if st.Effect != iampolicy.Allow {
				continue
			}
			if st.NotPrincipal != nil || (st.Principal != nil && st.Principal.Wildcard) {
				role.trustIndex.everyone = true
			}
			if st.Principal != nil {
				for _, a := range st.Principal.AWS {
					role.trustIndex.named[a] = true
				}
			}
		}
	})
	return role.trustIndex
}

// trustNames is a cheap pre-filter of CanAssume: some Allow statement of the trust
// policy names p's ARN, p's account, everyone, or uses NotPrincipal.
func trustNames(role, p *Principal) bool {
	ti := role.trustIdx()
	return ti.everyone || ti.named[p.ARN] || ti.named[p.Account] || ti.named[p.rootARN()]
}

// trustsNamedDirectly reports whether the trust policy names p itself (not only its
// account): then p needs no identity grant in the same account.
func (role *Principal) trustsNamedDirectly(p *Principal) bool {
	ti := role.trustIdx()
	return ti.everyone || ti.named[p.ARN]
}

func (p *Principal) rootARN() string { return p.root }

// MayAllow is a cheap necessary condition for p being allowed action on anything:
// some Allow statement of its identity policies matches the action (resources and
// conditions ignored). It prunes the pairwise searches of Edges and CanAssume.
func (g *Graph) MayAllow(p *Principal, action string) bool {
	p.mu.Lock()
	v, ok := p.mayMemo[action]
	p.mu.Unlock()
	if ok {
		return v
	}
	for _, np := range p.Policies {
		for i := range np.Policy.Statements {
			st := &np.Policy.Statements[i]
			if st.Effect == iampolicy.Allow && statementHasAction(st, action) {
				v = true
				break
			}
		}
		if v {
			break
		}
	}
	p.mu.Lock()
	p.mayMemo[action] = v
	p.mu.Unlock()
	return v
}

func partitionOf(arn string) string {
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}

// rolesTrusting returns the ARNs of the roles whose trust policy names service
// (TrustsService), sorted, computed once per service.
func (g *Graph) rolesTrusting(service string) []string {
	g.expandMu.Lock()
	defer g.expandMu.Unlock()
	if v, ok := g.trusting[service]; ok {
		return v
	}
	var out []string
	for _, r := range g.Principals {
		if r.Kind == KindRole && TrustsService(r, service) {
			out = append(out, r.ARN)
		}
	}
	g.trusting[service] = out
	return out
}

// TrustsService reports whether a role's trust policy has an Allow statement naming
// the service principal for sts:AssumeRole. Conditions are ignored (worst case): a
// service principal's requests carry keys (aws:SourceArn...) the scan cannot know.
func TrustsService(role *Principal, service string) bool {
	if role.Trust == nil {
		return false
	}
	for _, st := range role.Trust.Statements {
		if st.Effect != iampolicy.Allow || st.Principal == nil {
			continue
		}
		named := false
		for _, s := range st.Principal.Service {
			if strings.EqualFold(s, service) {
				named = true
			}
		}
		if named && statementHasAction(&st, "sts:AssumeRole") {
			return true
		}
	}
	return false
}

func statementHasAction(st *iampolicy.Statement, action string) bool {
	if len(st.NotAction) > 0 {
		for _, a := range st.NotAction {
			if matchAction(a, action) {
				return false
			}
		}
		return true
	}
	for _, a := range st.Action {
		if matchAction(a, action) {
			return true
		}
	}
	return false
}

// anyResources are the resources an action with TargetAny is evaluated on: "*", plus
// for IAM actions that create or modify identities a fresh resource of their kind, so
// that a grant scoped to "arn:aws:iam::ACCOUNT:user/*" counts.
func anyResources(p *Principal, action string) []string {
	switch strings.ToLower(action) {
	case "iam:createuser", "iam:attachuserpolicy", "iam:putuserpolicy", "iam:createaccesskey":
		return []string{"*", probeARN(p, "user")}
	case "iam:createrole", "iam:attachrolepolicy", "iam:putrolepolicy", "sts:assumerole":
		return []string{"*", probeARN(p, "role")}
	}
	return []string{"*"}
}

// candidates lists the concrete targets of kind t for p under method m.
func (g *Graph) candidates(p *Principal, t Target, m *Method) []string {
	var out []string
	switch t {
	case TargetSelfUser:
		if p.Kind == KindUser {
			out = append(out, p.ARN)
		}
	case TargetSelfUserBounded:
		if p.Kind == KindUser && p.BoundaryARN != "" {
			out = append(out, p.ARN)
		}
	case TargetSelfRoleBounded:
		if p.Kind == KindRole && p.BoundaryARN != "" {
			out = append(out, p.ARN)
		}
	case TargetOwnGroup:
		out = append(out, p.Groups...)
	case TargetGroup:
		for arn := range g.groups {
			out = append(out, arn)
		}
		sort.Strings(out)
	case TargetOtherUser:
		for _, u := range g.Principals {
			if u.Kind == KindUser && u != p {
				out = append(out, u.ARN)
			}
		}
	case TargetOwnPolicy, TargetOwnPolicyVersions:
		for _, arn := range p.ManagedPolicies {
			mp, ok := g.policies[arn]
			if !ok || isAWSManaged(arn) {
				continue
			}
			if t == TargetOwnPolicyVersions && mp.versions < 2 {
				continue
			}
			out = append(out, arn)
		}
	case TargetAssumableRole:
		if p.Kind == KindRole {
			out = append(out, p.ARN)
		}
		for _, r := range g.Principals {
			if r.Kind == KindRole && g.CanAssume(p, r) {
				out = append(out, r.ARN)
			}
		}
	case TargetRole:
		for _, r := range g.Principals {
			if r.Kind == KindRole && r != p {
				out = append(out, r.ARN)
			}
		}
	case TargetPassRole:
		out = append(out, g.rolesTrusting(m.Service)...)
	case TargetPrivilegedRole:
		for _, r := range g.Principals {
			if r.Kind == KindRole && r != p && g.CanAssume(p, r) && g.AdminEquivalent(r).Admin {
				out = append(out, r.ARN)
			}
		}
	}
	return out
}

func isAWSManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

// requirementHolds evaluates one requirement on a target ("*" for TargetAny).
func (g *Graph) requirementHolds(p *Principal, r Requirement, target string) bool {
	switch r.Target {
	case TargetAny:
		for _, res := range anyResources(p, r.Action) {
			if g.Allowed(p, r.Action, res) {
				return true
			}
		}
		return false
	case TargetPrivilegedRole:
		// candidates already checked the full assume decision.
		return true
	}
	return g.Allowed(p, r.Action, target)
}

// methodTarget returns the method's one non-"*" target kind, or TargetAny.
func (m *Method) methodTarget() Target {
	for _, r := range m.Requires {
		if r.Target != TargetAny {
			return r.Target
		}
	}
	return TargetAny
}

// Actions returns the method's required actions.
func (m *Method) Actions() []string {
	out := make([]string, len(m.Requires))
	for i, r := range m.Requires {
		out[i] = r.Action
	}
	return out
}

// EvaluateMethod reports whether p can use m, and on which targets.
func (g *Graph) EvaluateMethod(p *Principal, m *Method) (MethodMatch, bool) {
	for _, r := range m.Requires {
		if r.Target == TargetAny && !g.requirementHolds(p, r, "*") {
			return MethodMatch{}, false
		}
	}
	if m.RoleForService != "" && len(g.rolesTrusting(m.RoleForService)) == 0 {
		return MethodMatch{}, false
	}
	for _, r := range m.Requires {
		if r.Target != TargetAny && r.Target != TargetPrivilegedRole && !g.MayAllow(p, r.Action) {
			return MethodMatch{}, false
		}
	}
	match := MethodMatch{Method: m.ID, Actions: m.Actions(), Description: m.Description}
	kind := m.methodTarget()
	if kind == TargetAny {
		match.Targets = []string{"*"}
		return match, true
	}
	for _, t := range g.candidates(p, kind, m) {
		ok := true
		for _, r := range m.Requires {
			if r.Target == kind && !g.requirementHolds(p, r, t) {
				ok = false
				break
			}
		}
		if ok {
			match.Targets = append(match.Targets, t)
			if len(match.Targets) == maxTargets {
				break
			}
		}
	}
	return match, len(match.Targets) > 0
}

// Escalations returns every method of methods p can use, in table order.
func (g *Graph) Escalations(p *Principal, methods []Method) []MethodMatch {
	var out []MethodMatch
	for i := range methods {
		if mm, ok := g.EvaluateMethod(p, &methods[i]); ok {
			out = append(out, mm)
		}
	}
	return out
}

func escalationFindings(g *Graph, admins map[*Principal]AdminResult, esc map[*Principal][]MethodMatch) []Finding {
	a := analyzer(IDPrivilegeEscalation)
	var out []Finding
	for _, p := range g.Principals {
		ms := esc[p]
		switch {
		case admins[p].Admin:
			out = append(out, newFinding(a, p, StatusPass, fmt.Sprintf("%s %s is already administrator-equivalent (see %s)", p.Kind, p.Name, IDAdminEquivalent), map[string]any{"admin_kind": admins[p].Kind}))
		case len(ms) > 0:
			ids := make([]string, len(ms))
			for i, m := range ms {
				ids[i] = m.Method
			}
			out = append(out, newFinding(a, p, StatusFail, fmt.Sprintf("%s %s can escalate its privileges: %s", p.Kind, p.Name, strings.Join(ids, ", ")), map[string]any{"methods": toJSON(ms)}))
		case len(p.Unresolved) > 0:
			out = append(out, newFinding(a, p, StatusUnknown, fmt.Sprintf("%s %s: some of its policies could not be read", p.Kind, p.Name), map[string]any{"unresolved": stringsAny(p.Unresolved)}))
		default:
			out = append(out, newFinding(a, p, StatusPass, fmt.Sprintf("%s %s has no known privilege-escalation method", p.Kind, p.Name), nil))
		}
	}
	return out
}
