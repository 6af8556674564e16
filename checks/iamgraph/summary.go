package iamgraph

import (
	"sort"
	"strings"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// ActionGrant is one catalog action a principal may perform.
type ActionGrant struct {
	Action string                `json:"action"`
	Level  iampolicy.AccessLevel `json:"level"`
	// Resource is the first resource pattern (from the principal's own Allow
	// statements) on which the action was allowed; "*" for every resource.
	Resource string `json:"resource"`
}

// expandIdx returns the indexes (into g.actions) of the catalog actions matching an
// action pattern, cached per graph.
func (g *Graph) expandIdx(pattern string) []int {
	key := strings.ToLower(pattern)
	g.expandMu.Lock()
	defer g.expandMu.Unlock()
	if g.actionIdx == nil {
		g.actions = g.catalog.ExpandActions("*")
		g.actionIdx = make(map[string]int, len(g.actions))
		for i, a := range g.actions {
			g.actionIdx[a] = i
		}
	}
	if v, ok := g.expanded[key]; ok {
		return v
	}
	names := g.catalog.ExpandActions(pattern)
	v := make([]int, len(names))
	for i, n := range names {
		v[i] = g.actionIdx[n]
	}
	g.expanded[key] = v
	return v
}

// catalogSize is the number of catalog actions.
func (g *Graph) catalogSize() int { return len(g.expandIdx("*")) }

// requestResource turns a statement's resource pattern into a resource to ask about:
// ${aws:username} becomes the user's name, other variables "*".
func requestResource(p *Principal, pattern string) string {
	if !strings.Contains(pattern, "${") {
		return pattern
	}
	var b strings.Builder
	for {
		i := strings.Index(pattern, "${")
		if i < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		b.WriteString(pattern[:i])
		name := strings.ToLower(strings.TrimSpace(pattern[i+2 : i+j]))
		if name == "aws:username" && p.Kind == KindUser {
			b.WriteString(p.Name)
		} else {
			b.WriteByte('*')
		}
		pattern = pattern[i+j+1:]
	}
}

// EffectiveActions lists the catalog actions p may perform on at least one resource its
// own Allow statements name, after denies, the permissions boundary and the SCPs,
// sorted by action. Candidates come from the Allow statements (Action patterns
// expanded with the catalog; NotAction as the catalog minus its patterns); each is
// decided with iampolicy.Evaluate on the statement's resource patterns as written
// (a pattern names the set it matches) until one is allowed.
func (g *Graph) EffectiveActions(p *Principal) []ActionGrant {
	n := g.catalogSize()
	resources := make([][]string, n)
	var candidates []int
	add := func(k int, res []string) {
		cur := resources[k]
		if cur == nil {
			candidates = append(candidates, k)
		}
	next:
		for _, r := range res {
			for _, c := range cur {
				if c == r {
					continue next
				}
			}
			cur = append(cur, r)
		}
		resources[k] = cur
	}
	for _, np := range p.Policies {
		for i := range np.Policy.Statements {
			st := &np.Policy.Statements[i]
			if st.Effect != iampolicy.Allow {
				continue
			}
			res := []string{"*"}
			if len(st.Resource) > 0 {
				res = make([]string, len(st.Resource))
				for k, r := range st.Resource {
					res[k] = requestResource(p, r)
				}
			}
			for _, k := range g.statementActions(st) {
				add(k, res)
			}
		}
	}
	// Evaluate depends on the action only through which statements' Action/NotAction
	// match it, so actions with the same matching statements (across identity
	// policies, boundary and SCPs) share their decision on a resource: one Evaluate
	// per distinct signature and resource instead of one per action. Signatures are
	// exact bitsets; a principal with more than sigBits statements is evaluated
	// action by action.
	sigs, exact := g.actionSignatures(p, n)
	type decisionKey struct {
		sig signature
		res string
	}
	decided := map[decisionKey]bool{}
	sort.Ints(candidates) // g.actions is sorted: the output is sorted by action
	out := make([]ActionGrant, 0, len(candidates))
	for _, k := range candidates {
		action := g.actions[k]
		for _, r := range resources[k] {
			var ok bool
			if exact {
				key := decisionKey{sigs[k], r}
				var seen bool
				if ok, seen = decided[key]; !seen {
					ok = g.Decide(p, action, r, nil).Allowed
					decided[key] = ok
				}
			} else {
				ok = g.Decide(p, action, r, nil).Allowed
			}
			if ok {
				info, _ := g.catalog.Lookup(action)
				out = append(out, ActionGrant{Action: action, Level: info.Level, Resource: r})
				break
			}
		}
	}
	return out
}

// statementActions returns the indexes of the catalog actions a statement's Action
// (or NotAction, as the complement) matches, without duplicates, cached per graph by
// the statement's action patterns (policies repeat the same lists).
func (g *Graph) statementActions(st *iampolicy.Statement) []int {
	pats, not := st.Action, false
	if len(st.NotAction) > 0 {
		pats, not = st.NotAction, true
	}
	if len(pats) == 1 && !not {
		return g.expandIdx(pats[0])
	}
	key := strings.ToLower(strings.Join(pats, "\x00"))
	if not {
		key = "!" + key
	}
	g.expandMu.Lock()
	v, ok := g.stmtActions[key]
	g.expandMu.Unlock()
	if ok {
		return v
	}
	n := g.catalogSize()
	hit := make([]bool, n)
	for _, pat := range pats {
		for _, k := range g.expandIdx(pat) {
			hit[k] = true
		}
	}
	v = make([]int, 0, n)
	for k := 0; k < n; k++ {
		if hit[k] != not {
			v = append(v, k)
		}
	}
	g.expandMu.Lock()
	g.stmtActions[key] = v
	g.expandMu.Unlock()
	return v
}

// EffectiveSummary answers "what can this principal do?": the number of catalog
// actions it may perform (see EffectiveActions), by service prefix and access level.
func (g *Graph) EffectiveSummary(p *Principal) map[string]map[iampolicy.AccessLevel]int {
	out := map[string]map[iampolicy.AccessLevel]int{}
	for _, a := range g.EffectiveActions(p) {
		svc, _, _ := strings.Cut(a.Action, ":")
		if out[svc] == nil {
			out[svc] = map[iampolicy.AccessLevel]int{}
		}
		out[svc][a.Level]++
	}
	return out
}

// sigBits is the number of statements a signature can tell apart.
const sigBits = 128

// signature is a bitset of statement positions.
type signature [sigBits / 64]uint64

// actionSignatures returns, for every catalog action (by index), the set of statements
// across the principal's identity policies, boundary and SCPs whose Action or
// NotAction matches it; exact is false when there are more than sigBits statements.
func (g *Graph) actionSignatures(p *Principal, n int) (sigs []signature, exact bool) {
	var pols []*iampolicy.Policy
	total := 0
	for _, np := range p.Policies {
		pols = append(pols, np.Policy)
	}
	if p.Boundary != nil {
		pols = append(pols, p.Boundary.Policy)
	}
	for _, level := range g.SCPs {
		for _, np := range level {
			pols = append(pols, np.Policy)
		}
	}
	for _, pol := range pols {
		total += len(pol.Statements)
	}
	if total > sigBits {
		return nil, false
	}
	sigs = make([]signature, n)
	k := 0
	for _, pol := range pols {
		for i := range pol.Statements {
			for _, a := range g.statementActions(&pol.Statements[i]) {
				sigs[a][k/64] |= 1 << (k % 64)
			}
			k++
		}
	}
	return sigs, true
}
