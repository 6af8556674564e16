// Package iamgraph analyses the IAM estate of one AWS account as a whole: who is
// effectively an administrator, who can escalate their privileges (alone or through a
// chain of roles), which roles trust too much, which identities and services go unused,
// and who can reach a given resource. These are Vigil's IAM analyzers: questions one
// resource document cannot answer, with the same metadata shape as the YAML checks and
// neutral findings (pass / fail / unknown) the pipeline stores like any other.
//
// The package builds on checks/iampolicy for every authorization decision. It is pure
// computation over providers.Resource documents: it imports no database, queue, HTTP or
// cloud SDK package. docs/iam.md ("IAM analyses") defines each analysis precisely.
package iamgraph

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/checks/iampolicy"
	"github.com/vigilsec/vigil/providers"
)

// Resource types read from the AWS collector (see docs/aws-resources.md).
const (
	TypeUser    = "aws.iam.user"
	TypeGroup   = "aws.iam.group"
	TypeRole    = "aws.iam.role"
	TypePolicy  = "aws.iam.policy"
	TypeAccount = "aws.account"
)

// PrincipalKind says whether a principal is an IAM user or a role.
type PrincipalKind string

// Principal kinds.
const (
	KindUser PrincipalKind = "user"
	KindRole PrincipalKind = "role"
)

// Principal is an IAM user or role with every policy that shapes its permissions.
type Principal struct {
	// ARN is the user or role ARN (with path), Name its name, Account its account id.
	ARN     string
	Name    string
	Account string
	Kind    PrincipalKind
	// Path is the IAM path ("/", "/aws-service-role/...").
	Path string
	// Tags are the principal's tags (aws:PrincipalTag/*).
	Tags map[string]string
	// Groups are the ARNs of the user's groups.
	Groups []string
	// Policies are the identity policies: inline and attached managed (default
	// version), the user's own then its groups'. Names are the managed policy ARN or
	// "inline:<entity ARN>/<policy name>".
	Policies []iampolicy.NamedPolicy
	// ManagedPolicies are the ARNs of the managed policies attached to the principal or
	// (users) to its groups.
	ManagedPolicies []string
	// Boundary is the permissions boundary, nil when none or unresolved.
	Boundary *iampolicy.NamedPolicy
	// BoundaryARN is the boundary's ARN, "" when none.
	BoundaryARN string
	// Trust is a role's trust policy (nil for users or an unparsable document).
	Trust *iampolicy.Policy
	// Unresolved lists policies that shape the principal but could not be read: an
	// attached AWS managed policy without a document, a document that does not parse.
	// An analysis whose pass depends on them reports unknown.
	Unresolved []string
	// Doc is the collector's document.
	Doc *providers.Resource

	set  iampolicy.PolicySet
	req  iampolicy.RequestPrincipal
	mu   sync.Mutex
	memo map[string]bool

	allowsOnce sync.Once
	allows     []allowStmt
	mayMemo    map[string]bool // MayAllow by action as asked
	trustOnce  sync.Once
	trustIndex *trustIndex
	root       string
}

// allowStmt is an identity Allow statement prepared for the mayAllowOn pre-filter.
type allowStmt struct {
	actions   []string // lower case
	notAction bool
	resources []string // policy variables replaced by "*"
	notRes    bool
}

// mayAllowOn reports whether some identity Allow statement of p matches action and
// resource, ignoring conditions (a necessary condition for Decide to allow without a
// resource policy).
func (p *Principal) mayAllowOn(action, resource string) bool {
	p.allowsOnce.Do(func() {
		for _, np := range p.Policies {
			for _, st := range np.Policy.Statements {
				if st.Effect != iampolicy.Allow {
					continue
				}
				a := allowStmt{actions: st.Action, resources: st.Resource}
				if len(st.NotAction) > 0 {
					a.actions, a.notAction = st.NotAction, true
				}
				if len(st.NotResource) > 0 {
					a.resources, a.notRes = st.NotResource, true
				}
				lower := make([]string, len(a.actions))
				for i, x := range a.actions {
					lower[i] = strings.ToLower(x)
				}
				a.actions = lower
				res := make([]string, len(a.resources))
				for i, r := range a.resources {
					res[i] = wildcardVariables(r)
				}
				a.resources = res
				p.allows = append(p.allows, a)
			}
		}
	})
	act := strings.ToLower(action)
	for i := range p.allows {
		a := &p.allows[i]
		hit := false
		for _, pat := range a.actions {
			if glob(pat, act) {
				hit = true
				break
			}
		}
		if hit == a.notAction {
			continue
		}
		if len(a.resources) == 0 || a.notRes {
			// No Resource (not valid in identity policies) or NotResource: the
			// exclusion may not apply; keep the worst case.
			return true
		}
		for _, r := range a.resources {
			if glob(r, resource) {
				return true
			}
		}
	}
	return false
}

// wildcardVariables replaces every ${...} policy variable of a resource pattern by "*".
func wildcardVariables(pattern string) string {
	for {
		i := strings.Index(pattern, "${")
		if i < 0 {
			return pattern
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return pattern
		}
		pattern = pattern[:i] + "*" + pattern[i+j+1:]
	}
}

// Graph is the IAM estate of one account: principals, groups, customer-managed
// policies, SCPs, and the account document. Build it with Build. A Graph is safe for
// concurrent use once built.
type Graph struct {
	// Account is the account id.
	Account string
	// Principals are every user and role, sorted by ARN.
	Principals []*Principal
	// AccountDoc is the aws.account document, nil when absent.
	AccountDoc *providers.Resource
	// SCPs are the service control policies that apply, by organization level.
	SCPs [][]iampolicy.NamedPolicy

	byARN    map[string]*Principal
	groups   map[string]*providers.Resource // by ARN
	policies map[string]*managedPolicy      // customer-managed and supplied, by ARN
	catalog  *iampolicy.Catalog

	expandMu  sync.Mutex
	expanded  map[string][]int // lower-case pattern -> indexes into actions
	actions   []string         // every catalog action, sorted
	actionIdx map[string]int
	// stmtActions caches statementActions by action-pattern list.
	stmtActions map[string][]int
	// trusting caches rolesTrusting by service principal.
	trusting map[string][]string

	probesOnce sync.Once
	probes     []string
}

type managedPolicy struct {
	arn      string
	policy   *iampolicy.Policy
	versions int
	err      string
}

// BuildConfig configures Build. The zero value is usable.
type BuildConfig struct {
	// SCPs are the service control policies applying to the account, one slice per
	// organization level (root, each OU, the account). The AWS collector does not read
	// SCPs; pass them when known.
	SCPs [][]iampolicy.NamedPolicy
	// ManagedPolicies maps a managed policy ARN to its default-version document (JSON
	// text or a decoded map), for AWS managed policies, which the collector does not
	// emit. A few well-known ones are built in (see BuiltinManagedPolicies).
	ManagedPolicies map[string]any
	// Catalog is the action catalog; nil means iampolicy.DefaultCatalog().
	Catalog *iampolicy.Catalog
}

// Build assembles the graph from the IAM documents of one account scan (types
// aws.iam.user, aws.iam.group, aws.iam.role, aws.iam.policy and aws.account; other
// types are ignored). Documents of several accounts are an error: a graph is one
// account.
func Build(resources []providers.Resource, cfg BuildConfig) (*Graph, error) {
	g := &Graph{
		SCPs:        cfg.SCPs,
		byARN:       map[string]*Principal{},
		groups:      map[string]*providers.Resource{},
		policies:    map[string]*managedPolicy{},
		catalog:     cfg.Catalog,
		expanded:    map[string][]int{},
		stmtActions: map[string][]int{},
		trusting:    map[string][]string{},
	}
	if g.catalog == nil {
		g.catalog = iampolicy.DefaultCatalog()
	}
	for arn, doc := range BuiltinManagedPolicies() {
		g.addManaged(arn, doc, 1)
	}
	for arn, doc := range cfg.ManagedPolicies {
		g.addManaged(arn, doc, 1)
	}
	var users, roles []*providers.Resource
	for i := range resources {
		r := &resources[i]
		switch r.Type {
		case TypeUser, TypeGroup, TypeRole, TypePolicy, TypeAccount:
		default:
			continue
		}
		if g.Account == "" {
			g.Account = r.AccountID
		} else if r.AccountID != g.Account {
			return nil, fmt.Errorf("build iam graph: documents of accounts %s and %s", g.Account, r.AccountID)
		}
		switch r.Type {
		case TypeUser:
			users = append(users, r)
		case TypeRole:
			roles = append(roles, r)
		case TypeGroup:
			g.groups[r.NativeID] = r
		case TypePolicy:
			versions := 1
			if l, ok := r.Properties["PolicyVersionList"].([]any); ok && len(l) > 0 {
				versions = len(l)
			}
			g.addManaged(r.NativeID, r.Properties["Document"], versions)
		case TypeAccount:
			g.AccountDoc = r
		}
	}
	groupByName := map[string]string{}
	for arn, gr := range g.groups {
		if n, ok := gr.Properties["GroupName"].(string); ok {
			groupByName[n] = arn
		}
	}
	for _, u := range users {
		p := g.newPrincipal(u, KindUser, "UserName")
		g.addInline(p, p.ARN, u.Properties["UserPolicyList"])
		g.addAttached(p, u.Properties["AttachedManagedPolicies"])
		for _, garn := range userGroups(u, groupByName) {
			p.Groups = append(p.Groups, garn)
			gr, ok := g.groups[garn]
			if !ok {
				p.Unresolved = append(p.Unresolved, garn+" (group document missing)")
				continue
			}
			g.addInline(p, garn, gr.Properties["GroupPolicyList"])
			g.addAttached(p, gr.Properties["AttachedManagedPolicies"])
		}
		g.finish(p)
	}
	for _, r := range roles {
		p := g.newPrincipal(r, KindRole, "RoleName")
		g.addInline(p, p.ARN, r.Properties["RolePolicyList"])
		g.addAttached(p, r.Properties["AttachedManagedPolicies"])
		if doc, ok := r.Properties["AssumeRolePolicyDocument"]; ok && doc != nil {
			t, err := iampolicy.Parse(doc)
			if err != nil {
				p.Unresolved = append(p.Unresolved, "trust policy: "+err.Error())
			} else {
				p.Trust = t
			}
		}
		g.finish(p)
	}
	sort.Slice(g.Principals, func(i, j int) bool { return g.Principals[i].ARN < g.Principals[j].ARN })
	return g, nil
}

func (g *Graph) addManaged(arn string, doc any, versions int) {
	mp := &managedPolicy{arn: arn, versions: versions}
	if doc == nil {
		mp.err = "no default version document"
	} else if pol, err := iampolicy.Parse(doc); err != nil {
		mp.err = err.Error()
	} else {
		mp.policy = pol
	}
	g.policies[arn] = mp
}

func (g *Graph) newPrincipal(r *providers.Resource, kind PrincipalKind, nameKey string) *Principal {
	p := &Principal{ARN: r.NativeID, Kind: kind, Account: r.AccountID, Tags: r.Tags, Doc: r, memo: map[string]bool{}, mayMemo: map[string]bool{}}
	p.Name, _ = r.Properties[nameKey].(string)
	if p.Name == "" {
		p.Name = r.Name
	}
	p.Path, _ = r.Properties["Path"].(string)
	p.BoundaryARN = boundaryARN(r)
	return p
}

// boundaryARN reads the permissions boundary from the document's PermissionsBoundary
// property, falling back to the permissions_boundary relation.
func boundaryARN(r *providers.Resource) string {
	if pb, ok := r.Properties["PermissionsBoundary"].(map[string]any); ok {
		if a, ok := pb["PermissionsBoundaryArn"].(string); ok && a != "" {
			return a
		}
	}
	for _, rel := range r.Relations {
		if rel.Kind == "permissions_boundary" {
			return rel.TargetID
		}
	}
	return ""
}

// userGroups returns the ARNs of a user's groups: the member_of relations, then any
// GroupList name not covered by them.
func userGroups(u *providers.Resource, byName map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, rel := range u.Relations {
		if rel.Kind == "member_of" && !seen[rel.TargetID] {
			seen[rel.TargetID] = true
			out = append(out, rel.TargetID)
		}
	}
	names, _ := u.Properties["GroupList"].([]any)
	for _, n := range names {
		s, _ := n.(string)
		if arn, ok := byName[s]; ok && !seen[arn] {
			seen[arn] = true
			out = append(out, arn)
		}
	}
	return out
}

func (g *Graph) addInline(p *Principal, owner string, list any) {
	items, _ := list.([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		name, _ := m["PolicyName"].(string)
		label := "inline:" + owner + "/" + name
		pol, err := iampolicy.Parse(m["PolicyDocument"])
		if err != nil {
			p.Unresolved = append(p.Unresolved, label+": "+err.Error())
			continue
		}
		p.Policies = append(p.Policies, iampolicy.NamedPolicy{Name: label, Policy: pol})
	}
}

func (g *Graph) addAttached(p *Principal, list any) {
	items, _ := list.([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		arn, _ := m["PolicyArn"].(string)
		if arn == "" {
			continue
		}
		p.ManagedPolicies = append(p.ManagedPolicies, arn)
		mp, ok := g.policies[arn]
		switch {
		case !ok:
			p.Unresolved = append(p.Unresolved, arn+" (managed policy document not available)")
		case mp.policy == nil:
			p.Unresolved = append(p.Unresolved, arn+": "+mp.err)
		default:
			p.Policies = append(p.Policies, iampolicy.NamedPolicy{Name: arn, Policy: mp.policy})
		}
	}
}

func (g *Graph) finish(p *Principal) {
	if p.BoundaryARN != "" {
		mp, ok := g.policies[p.BoundaryARN]
		switch {
		case !ok:
			p.Unresolved = append(p.Unresolved, p.BoundaryARN+" (permissions boundary document not available)")
		case mp.policy == nil:
			p.Unresolved = append(p.Unresolved, p.BoundaryARN+": "+mp.err)
		default:
			p.Boundary = &iampolicy.NamedPolicy{Name: p.BoundaryARN, Policy: mp.policy}
		}
	}
	p.root = "arn:" + partitionOf(p.ARN) + ":iam::" + p.Account + ":root"
	p.set = iampolicy.PolicySet{SCPs: g.SCPs, PermissionsBoundary: p.Boundary, IdentityPolicies: p.Policies}
	p.req = iampolicy.RequestPrincipal{ARN: p.ARN, Account: p.Account, Tags: p.Tags}
	if p.Kind == KindUser {
		p.req.Type = iampolicy.PrincipalUser
		p.req.UserID, _ = p.Doc.Properties["UserId"].(string)
	} else {
		p.req.Type = iampolicy.PrincipalRole
		p.req.UserID, _ = p.Doc.Properties["RoleId"].(string)
	}
	g.Principals = append(g.Principals, p)
	g.byARN[p.ARN] = p
}

// Principal returns the user or role with this ARN, or nil.
func (g *Graph) Principal(arn string) *Principal { return g.byARN[arn] }

// Roles returns the roles, sorted by ARN.
func (g *Graph) Roles() []*Principal { return g.ofKind(KindRole) }

// Users returns the users, sorted by ARN.
func (g *Graph) Users() []*Principal { return g.ofKind(KindUser) }

func (g *Graph) ofKind(k PrincipalKind) []*Principal {
	var out []*Principal
	for _, p := range g.Principals {
		if p.Kind == k {
			out = append(out, p)
		}
	}
	return out
}

// Catalog is the action catalog the graph uses.
func (g *Graph) Catalog() *iampolicy.Catalog { return g.catalog }

// Decide evaluates whether p may perform action on resource, with p's identity
// policies (its own and its groups'), permissions boundary and the SCPs, plus the
// resource's policy when not nil. The request carries no context beyond what the
// principal implies: a condition on any other key fails for positive operators, so a
// grant that needs MFA, a source IP or a tag on the request does not count.
func (g *Graph) Decide(p *Principal, action, resource string, resourcePolicy *iampolicy.NamedPolicy) iampolicy.Decision {
	set := p.set
	set.ResourcePolicy = resourcePolicy
	return iampolicy.Evaluate(iampolicy.Request{Principal: p.req, Action: action, Resource: resource, ResourceAccount: arnAccountOr(resource, p.Account)}, set)
}

// Allowed is Decide without a resource policy, memoised per principal. A cheap
// necessary condition (some identity Allow statement matches the action and the
// resource, conditions ignored) is checked first: most questions of the pairwise
// analyses stop there.
func (g *Graph) Allowed(p *Principal, action, resource string) bool {
	if !p.mayAllowOn(action, resource) {
		return false
	}
	key := strings.ToLower(action) + "\x00" + resource
	p.mu.Lock()
	v, ok := p.memo[key]
	p.mu.Unlock()
	if ok {
		return v
	}
	v = g.Decide(p, action, resource, nil).Allowed
	p.mu.Lock()
	p.memo[key] = v
	p.mu.Unlock()
	return v
}

// arnAccountOr returns the account field of an ARN, or def when it has none (S3
// buckets, "*").
func arnAccountOr(arn, def string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[4] != "" && parts[4] != "*" && parts[4] != "aws" {
		return parts[4]
	}
	return def
}

// arnAccount returns the account field of an ARN or a bare 12-digit account id.
func arnAccount(s string) string {
	if isAccountID(s) {
		return s
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) == 6 {
		return parts[4]
	}
	return ""
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// matchAction matches an IAM action pattern (case-insensitive, * and ?) against an action.
func matchAction(pattern, action string) bool {
	return glob(strings.ToLower(pattern), strings.ToLower(action))
}

// glob matches s against p (case-sensitive) where * is any run and ? one character.
func glob(p, s string) bool {
	px, sx := 0, 0
	nextP, nextS := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				nextP, nextS = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextS > 0 && nextS <= len(s) {
			px, sx = nextP, nextS
			continue
		}
		return false
	}
	return true
}

func splitARN(arn string) []string { return strings.SplitN(arn, ":", 6) }
