package iampolicy

import (
	"fmt"
	"strings"
)

// PrincipalType is the kind of principal making a request.
type PrincipalType string

// Principal types.
const (
	// PrincipalUser is an IAM user.
	PrincipalUser PrincipalType = "user"
	// PrincipalRole is an IAM role considered without a particular session (effective
	// permission analysis): a resource policy naming the role ARN applies, one naming
	// a specific session cannot.
	PrincipalRole PrincipalType = "role"
	// PrincipalAssumedRole is a role session (ARN arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
	PrincipalAssumedRole PrincipalType = "assumed-role"
	// PrincipalFederatedUser is a GetFederationToken session.
	PrincipalFederatedUser PrincipalType = "federated-user"
	// PrincipalRoot is the account root user.
	PrincipalRoot PrincipalType = "root"
	// PrincipalService is an AWS service principal such as "lambda.amazonaws.com".
	PrincipalService PrincipalType = "service"
	// PrincipalAnonymous is an unauthenticated caller.
	PrincipalAnonymous PrincipalType = "anonymous"
)

// RequestPrincipal identifies who makes a request.
type RequestPrincipal struct {
	// ARN is the caller's ARN: the user ARN, the role session ARN, the role ARN (for
	// PrincipalRole), or the service name for PrincipalService.
	ARN string
	// Account is the principal's account id; derived from ARN when empty.
	Account string
	// Type is the kind of principal.
	Type PrincipalType
	// RoleARN is, for role sessions, the ARN of the role (with its path). When empty
	// it is derived from the session ARN without path.
	RoleARN string
	// Tags are the principal's tags (aws:PrincipalTag/KEY).
	Tags map[string]string
	// UserID is the unique id (aws:userid), when known.
	UserID string
}

// Request is one authorization question: may Principal perform Action on Resource?
type Request struct {
	Principal RequestPrincipal
	// Action is "service:Action", matched case-insensitively.
	Action string
	// Resource is the resource ARN, or "*" for actions without a resource.
	Resource string
	// ResourceAccount is the account owning the resource; empty means the
	// principal's own account.
	ResourceAccount string
	// Context holds request context keys (matched case-insensitively) and their values.
	// Keys derived from Principal (aws:PrincipalArn, aws:PrincipalAccount,
	// aws:PrincipalType, aws:username, aws:userid, aws:PrincipalTag/*,
	// aws:ResourceAccount) are added when absent.
	Context map[string][]string
}

// PolicyKind names the kind of policy a statement came from.
type PolicyKind string

// Policy kinds.
const (
	KindSCP      PolicyKind = "scp"
	KindRCP      PolicyKind = "rcp"
	KindBoundary PolicyKind = "permissions_boundary"
	KindSession  PolicyKind = "session_policy"
	KindIdentity PolicyKind = "identity"
	KindResource PolicyKind = "resource"
)

// NamedPolicy is a parsed policy with a name for explanations (an ARN, a policy name,
// "inline:UserName/PolicyName"...).
type NamedPolicy struct {
	Name   string
	Policy *Policy
}

// PolicySet holds every policy that applies to one request.
type PolicySet struct {
	// SCPs are the service control policies by organization level (root, each OU, the
	// account). Every level must allow the action. Empty means no SCPs apply (no
	// organization, or the management account).
	SCPs [][]NamedPolicy
	// RCPs are the resource control policies by level, like SCPs, evaluated with the
	// request's principal against their Principal elements.
	RCPs [][]NamedPolicy
	// PermissionsBoundary is the principal's boundary, nil when none.
	PermissionsBoundary *NamedPolicy
	// SessionPolicies are the policies passed when the session was created; an allow
	// in any of them counts. Empty means no session policy.
	SessionPolicies []NamedPolicy
	// IdentityPolicies are the principal's inline and managed policies (and its
	// groups').
	IdentityPolicies []NamedPolicy
	// ResourcePolicy is the resource's policy, nil when none.
	ResourcePolicy *NamedPolicy
}

// Reason classifies a decision.
type Reason string

// Decision reasons.
const (
	ReasonAllowed      Reason = "allowed"
	ReasonExplicitDeny Reason = "explicit_deny"
	ReasonImplicitDeny Reason = "implicit_deny"
)

// Match is one statement that took part in a decision.
type Match struct {
	Kind PolicyKind `json:"kind"`
	// Policy is the NamedPolicy's name.
	Policy string `json:"policy"`
	// Level is the organization level for SCPs and RCPs, else 0.
	Level int `json:"level,omitempty"`
	// Sid and Index locate the statement.
	Sid    string `json:"sid,omitempty"`
	Index  int    `json:"index"`
	Effect Effect `json:"effect"`
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Reason  Reason `json:"reason"`
	// Statements explain the decision: the denying statements for an explicit deny;
	// the allowing statements that made the request pass each gate for an allow; the
	// allows found so far for an implicit deny.
	Statements []Match `json:"statements,omitempty"`
	// Detail says in words which gate decided, e.g. "no SCP at level 1 allows the action".
	Detail string `json:"detail,omitempty"`
}

// reqContext is a request prepared for evaluation: lower-cased action, context keys
// folded to lower case, derived keys added.
type reqContext struct {
	req     *Request
	action  string
	keys    map[string][]string
	roleARN string
}

func (c *reqContext) get(lowerKey string) []string { return c.keys[lowerKey] }

func newReqContext(req *Request) *reqContext {
	c := &reqContext{req: req, action: strings.ToLower(req.Action)}
	p := &req.Principal
	if p.Account == "" {
		p.Account = arnAccount(p.ARN)
	}
	if req.ResourceAccount == "" {
		req.ResourceAccount = p.Account
	}
	switch p.Type {
	case PrincipalAssumedRole:
		c.roleARN = p.RoleARN
		if c.roleARN == "" {
			c.roleARN = roleFromSession(p.ARN)
		}
	case PrincipalRole:
		c.roleARN = p.ARN
	}
	c.keys = make(map[string][]string, len(req.Context)+8)
	for k, v := range req.Context {
		lk := strings.ToLower(k)
		c.keys[lk] = append(c.keys[lk], v...)
	}
	add := func(k, v string) {
		if v == "" {
			return
		}
		if _, ok := c.keys[k]; !ok {
			c.keys[k] = []string{v}
		}
	}
	switch p.Type {
	case PrincipalAssumedRole:
		add("aws:principalarn", c.roleARN)
		add("aws:principaltype", "AssumedRole")
	case PrincipalUser:
		add("aws:principalarn", p.ARN)
		add("aws:principaltype", "User")
		if i := strings.LastIndexByte(p.ARN, '/'); i >= 0 {
			add("aws:username", p.ARN[i+1:])
		}
	case PrincipalRole:
		add("aws:principalarn", p.ARN)
		add("aws:principaltype", "AssumedRole")
	case PrincipalFederatedUser:
		add("aws:principalarn", p.ARN)
		add("aws:principaltype", "FederatedUser")
	case PrincipalRoot:
		add("aws:principalarn", p.ARN)
		add("aws:principaltype", "Account")
	case PrincipalAnonymous:
		add("aws:principaltype", "Anonymous")
	case PrincipalService:
		add("aws:principalservicename", p.ARN)
	}
	if p.Type != PrincipalAnonymous && p.Type != PrincipalService {
		add("aws:principalaccount", p.Account)
	}
	add("aws:userid", p.UserID)
	add("aws:resourceaccount", req.ResourceAccount)
	for k, v := range p.Tags {
		add("aws:principaltag/"+strings.ToLower(k), v)
	}
	return c
}

// arnAccount returns the account field of an ARN, or "".
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 {
		return parts[4]
	}
	return ""
}

// roleFromSession turns arn:aws:sts::A:assumed-role/R/S into arn:aws:iam::A:role/R.
func roleFromSession(session string) string {
	parts := strings.SplitN(session, ":", 6)
	if len(parts) != 6 || parts[2] != "sts" {
		return ""
	}
	res, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return ""
	}
	role, _, _ := strings.Cut(res, "/")
	return fmt.Sprintf("%s:%s:iam::%s:role/%s", parts[0], parts[1], parts[4], role)
}

// grant grades how a resource-policy statement's principal names the requester; the
// grade decides which other policies must also allow (see Evaluate).
type grant int

const (
	grantNone grant = iota
	// grantAccount: the requester's account is named; the account must delegate
	// through identity policies.
	grantAccount
	// grantRole: the role (or federated user's IAM user) ARN is named; the grant is
	// added to the identity policies and so is limited by boundary and session
	// policies.
	grantRole
	// grantDirect: the IAM user, the exact session, or everyone ("*") is named; the
	// grant is not limited by an implicit deny in boundary or session policies.
	grantDirect
)

// principalGrant grades a Principal element against the requester.
func principalGrant(ps *Principals, c *reqContext) grant {
	p := &c.req.Principal
	if ps.Wildcard {
		return grantDirect
	}
	best := grantNone
	up := func(g grant) {
		if g > best {
			best = g
		}
	}
	switch p.Type {
	case PrincipalService:
		for _, s := range ps.Service {
			if strings.EqualFold(s, p.ARN) {
				up(grantDirect)
			}
		}
		return best
	case PrincipalAnonymous:
		return grantNone
	}
	for _, a := range ps.Federated {
		if a == p.ARN {
			up(grantDirect)
		}
	}
	for _, a := range ps.CanonicalUser {
		if a == p.UserID && a != "" {
			up(grantDirect)
		}
	}
	for _, a := range ps.AWS {
		switch {
		case a == p.Account || a == rootARN(p.ARN, p.Account):
			up(grantAccount)
		case a == p.ARN:
			switch p.Type {
			case PrincipalRole:
				up(grantRole)
			default:
				up(grantDirect)
			}
		case c.roleARN != "" && (a == c.roleARN || sameRoleIgnoringPath(a, c.roleARN)):
			up(grantRole)
		}
	}
	return best
}

func rootARN(arn, account string) string {
	partition := "aws"
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 && parts[0] == "arn" {
		partition = parts[1]
	}
	return "arn:" + partition + ":iam::" + account + ":root"
}

// sameRoleIgnoringPath compares a role ARN from a policy (with path) with one derived
// from a session ARN (which carries no path).
func sameRoleIgnoringPath(policyARN, roleARN string) bool {
	pa := strings.SplitN(policyARN, ":", 6)
	ra := strings.SplitN(roleARN, ":", 6)
	if len(pa) != 6 || len(ra) != 6 || pa[2] != "iam" || pa[4] != ra[4] {
		return false
	}
	if !strings.HasPrefix(pa[5], "role/") || !strings.HasPrefix(ra[5], "role/") {
		return false
	}
	return pa[5][strings.LastIndexByte(pa[5], '/')+1:] == ra[5][strings.LastIndexByte(ra[5], '/')+1:]
}

// statementApplies reports whether st matches the request's action, resource,
// principal (for resource-side policies) and conditions, and with which grant.
func (st *Statement) applies(c *reqContext, principalSide bool) (grant, bool) {
	if !st.matchAction(c.action) {
		return grantNone, false
	}
	if st.hasRes && !st.matchResource(c.req.Resource, c) {
		return grantNone, false
	}
	g := grantDirect
	switch {
	case st.Principal != nil:
		g = principalGrant(st.Principal, c)
		if g == grantNone {
			return grantNone, false
		}
	case st.NotPrincipal != nil:
		if principalGrant(st.NotPrincipal, c) != grantNone {
			return grantNone, false
		}
	case principalSide:
		// A resource policy statement without Principal applies to nobody.
		return grantNone, false
	}
	for i := range st.Conditions {
		if !st.Conditions[i].eval(c) {
			return grantNone, false
		}
	}
	return g, true
}

func (st *Statement) matchAction(lowerAction string) bool {
	for _, a := range st.actions {
		if a == "*" || glob(a, lowerAction) {
			return !st.notAction
		}
	}
	return st.notAction
}

func (st *Statement) matchResource(resource string, c *reqContext) bool {
	for i := range st.resources {
		p := &st.resources[i]
		pat := p.raw
		if p.hasVars() {
			if c == nil {
				continue
			}
			s, ok := p.resolve(c)
			if !ok {
				continue
			}
			pat = s
		}
		if pat == "*" || glob(pat, resource) {
			return !st.notRes
		}
	}
	return st.notRes
}

// policyResult is what one policy says about a request.
type policyResult struct {
	allows []Match
	denies []Match
	best   grant // the strongest grant among allows (resource policies)
}

func evalPolicy(np *NamedPolicy, kind PolicyKind, level int, c *reqContext, out *policyResult) {
	if np == nil || np.Policy == nil {
		return
	}
	principalSide := kind == KindResource || kind == KindRCP
	for i := range np.Policy.Statements {
		st := &np.Policy.Statements[i]
		g, ok := st.applies(c, principalSide)
		if !ok {
			continue
		}
		m := Match{Kind: kind, Policy: np.Name, Level: level, Sid: st.Sid, Index: st.Index, Effect: st.Effect}
		if st.Effect == Deny {
			out.denies = append(out.denies, m)
			continue
		}
		out.allows = append(out.allows, m)
		if g > out.best {
			out.best = g
		}
	}
}

// Evaluate decides a request following AWS's documented policy evaluation logic:
//
//  1. An explicit deny in any applicable policy (SCP, RCP, resource, boundary,
//     session, identity) denies.
//  2. When SCPs apply, every organization level must allow; likewise RCPs.
//  3. Within one account, the request is allowed when the resource policy grants it
//     directly (to the IAM user, the exact role session, or "*"), or grants it to the
//     role ARN and the boundary and session policies (when present) allow, or the
//     identity policies allow and the boundary and session policies allow. A resource
//     policy naming only the account delegates to identity policies.
//  4. Across accounts, both the resource policy (naming the principal, its role, its
//     account or "*") and the principal's identity side (identity AND boundary AND
//     session) must allow.
//
// Anonymous and service principals have no identity side: only the resource policy
// can grant them access. The root user has an implicit identity allow. Conditions are
// evaluated against req.Context.
func Evaluate(req Request, set PolicySet) Decision {
	c := newReqContext(&req)
	var denies []Match
	var explain []Match

	gate := func(levels [][]NamedPolicy, kind PolicyKind, label string) (bool, string) {
		ok, detail := true, ""
		for li, level := range levels {
			var r policyResult
			for i := range level {
				evalPolicy(&level[i], kind, li, c, &r)
			}
			denies = append(denies, r.denies...)
			if len(r.allows) == 0 && ok {
				ok, detail = false, fmt.Sprintf("no %s at level %d allows the request", label, li)
			}
			explain = append(explain, r.allows...)
		}
		return ok, detail
	}
	scpOK, scpDetail := gate(set.SCPs, KindSCP, "SCP")
	rcpOK, rcpDetail := gate(set.RCPs, KindRCP, "RCP")

	var boundary, session, identity, resource policyResult
	evalPolicy(set.PermissionsBoundary, KindBoundary, 0, c, &boundary)
	for i := range set.SessionPolicies {
		evalPolicy(&set.SessionPolicies[i], KindSession, 0, c, &session)
	}
	for i := range set.IdentityPolicies {
		evalPolicy(&set.IdentityPolicies[i], KindIdentity, 0, c, &identity)
	}
	evalPolicy(set.ResourcePolicy, KindResource, 0, c, &resource)
	denies = append(denies, boundary.denies...)
	denies = append(denies, session.denies...)
	denies = append(denies, identity.denies...)
	denies = append(denies, resource.denies...)
	if len(denies) > 0 {
		return Decision{Reason: ReasonExplicitDeny, Statements: denies, Detail: "an explicit deny overrides every allow"}
	}

	p := &req.Principal
	hasIdentitySide := p.Type != PrincipalAnonymous && p.Type != PrincipalService
	boundaryOK := set.PermissionsBoundary == nil || len(boundary.allows) > 0
	sessionOK := len(set.SessionPolicies) == 0 || len(session.allows) > 0
	identityOK := len(identity.allows) > 0 || p.Type == PrincipalRoot
	if p.Type == PrincipalRoot {
		boundaryOK, sessionOK = true, true
	}
	identitySide := hasIdentitySide && identityOK && boundaryOK && sessionOK

	deny := func(detail string) Decision {
		d := Decision{Reason: ReasonImplicitDeny, Detail: detail}
		for _, m := range [][]Match{explain, boundary.allows, session.allows, identity.allows, resource.allows} {
			d.Statements = append(d.Statements, m...)
		}
		return d
	}
	if !scpOK {
		return deny(scpDetail)
	}
	if !rcpOK {
		return deny(rcpDetail)
	}
	allow := func(parts ...[]Match) Decision {
		d := Decision{Allowed: true, Reason: ReasonAllowed}
		for _, m := range append([][]Match{explain}, parts...) {
			d.Statements = append(d.Statements, m...)
		}
		return d
	}
	sameAccount := req.ResourceAccount == p.Account
	if sameAccount {
		switch {
		case resource.best == grantDirect:
			return allow(resource.allows)
		case resource.best == grantRole && boundaryOK && sessionOK:
			return allow(boundary.allows, session.allows, resource.allows)
		case identitySide:
			return allow(boundary.allows, session.allows, identity.allows)
		}
		return deny(identityGap(hasIdentitySide, identityOK, boundaryOK, sessionOK))
	}
	// Cross-account: the resource side and the identity side must both allow.
	if resource.best == grantNone {
		return deny("cross-account request: the resource policy does not allow the principal")
	}
	if !hasIdentitySide {
		return allow(resource.allows)
	}
	if !identitySide {
		return deny("cross-account request: " + identityGap(true, identityOK, boundaryOK, sessionOK))
	}
	return allow(boundary.allows, session.allows, identity.allows, resource.allows)
}

func identityGap(hasIdentitySide, identityOK, boundaryOK, sessionOK bool) string {
	switch {
	case !hasIdentitySide:
		return "the resource policy does not allow this principal"
	case !identityOK:
		return "no identity or resource policy allows the request"
	case !boundaryOK:
		return "the permissions boundary does not allow the request"
	case !sessionOK:
		return "no session policy allows the request"
	}
	return "implicit deny"
}
