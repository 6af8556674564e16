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

// expand returns the catalog actions matching an action pattern, cached per graph.
func (g *Graph) expand(pattern string) []string {
	key := strings.ToLower(pattern)
	g.expandMu.Lock()
	v, ok := g.expanded[key]
	g.expandMu.Unlock()
	if ok {
		return v
	}
	v = g.catalog.ExpandActions(pattern)
	g.expandMu.Lock()
	g.expanded[key] = v
	g.expandMu.Unlock()
	return v
}

// allCatalogActions returns every catalog action.
func (g *Graph) allCatalogActions() []string { return g.expand("*") }

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
	resources := map[string][]string{}
	add := func(action string, res []string) {
		cur := resources[action]
	next:
		for _, r := range res {
			for _, c := range cur {
				if c == r {
					continue next
				}
			}
			cur = append(cur, r)
		}
		resources[action] = cur
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
			if len(st.NotAction) > 0 {
				excluded := map[string]bool{}
				for _, a := range st.NotAction {
					for _, x := range g.expand(a) {
						excluded[x] = true
					}
				}
				for _, a := range g.allCatalogActions() {
					if !excluded[a] {
						add(a, res)
					}
				}
				continue
			}
			for _, pat := range st.Action {
				for _, a := range g.expand(pat) {
					add(a, res)
				}
			}
		}
	}
	out := make([]ActionGrant, 0, len(resources))
	for action, res := range resources {
		for _, r := range res {
			if g.Decide(p, action, r, nil).Allowed {
				info, _ := g.catalog.Lookup(action)
				out = append(out, ActionGrant{Action: action, Level: info.Level, Resource: r})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Action < out[j].Action })
	return out
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
