package iamgraph

import (
	"context"
	"fmt"
	"strings"
)

// Hop is one edge of the identity graph: From can act as To, using Via.
type Hop struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Via is the permission used: "sts:AssumeRole", "iam:PassRole+<method id>",
	// "iam:UpdateAssumeRolePolicy+sts:AssumeRole", "iam:CreateAccessKey",
	// "iam:CreateLoginProfile" or "iam:UpdateLoginProfile".
	Via string `json:"via"`
}

// DefaultMaxDepth bounds chain searches.
const DefaultMaxDepth = 5

// Edges computes the identity graph's edges out of every principal, keyed by the
// source ARN. An edge A -> role B exists when A may assume B (CanAssume), may rewrite
// B's trust policy and call sts:AssumeRole on it, or may pass B to a compute service
// through one of methods whose other actions A holds. An edge A -> user B exists when
// A may create an access key or set the console password of B.
func (g *Graph) Edges(ctx context.Context, methods []Method) (map[string][]Hop, error) {
	var passMethods []*Method
	for i := range methods {
		if methods[i].methodTarget() == TargetPassRole {
			passMethods = append(passMethods, &methods[i])
		}
	}
	out := map[string][]Hop{}
	for _, a := range g.Principals {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("compute iam graph edges: %w", err)
		}
		// Which PassRole methods A holds apart from iam:PassRole itself.
		var usable []*Method
		for _, m := range passMethods {
			ok := true
			for _, r := range m.Requires {
				if r.Target == TargetAny && !g.requirementHolds(a, r, "*") {
					ok = false
					break
				}
			}
			if ok {
				usable = append(usable, m)
			}
		}
		f := edgeFlags{
			assume:      g.MayAllow(a, "sts:AssumeRole"),
			updateTrust: g.MayAllow(a, "iam:UpdateAssumeRolePolicy") && g.MayAllow(a, "sts:AssumeRole"),
			passRole:    len(usable) > 0 && g.MayAllow(a, "iam:PassRole"),
			usable:      usable,
		}
		for _, act := range userTakeover {
			if g.MayAllow(a, act) {
				f.userActions = append(f.userActions, act)
			}
		}
		for _, b := range g.Principals {
			if a == b {
				continue
			}
			if via := g.edgeVia(a, b, &f); via != "" {
				out[a.ARN] = append(out[a.ARN], Hop{From: a.ARN, To: b.ARN, Via: via})
			}
		}
	}
	return out, nil
}

// userTakeover are the actions that let a principal act as another user.
var userTakeover = []string{"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"}

// edgeFlags are the pre-computed, per-source facts that prune the pairwise search.
type edgeFlags struct {
	assume, updateTrust, passRole bool
	userActions                   []string
	usable                        []*Method
}

func (g *Graph) edgeVia(a, b *Principal, f *edgeFlags) string {
	if b.Kind == KindUser {
		for _, act := range f.userActions {
			if g.Allowed(a, act, b.ARN) {
				return act
			}
		}
		return ""
	}
	if (f.assume || b.trustsNamedDirectly(a)) && g.CanAssume(a, b) {
		return "sts:AssumeRole"
	}
	if f.updateTrust && g.Allowed(a, "iam:UpdateAssumeRolePolicy", b.ARN) && g.Allowed(a, "sts:AssumeRole", b.ARN) {
		return "iam:UpdateAssumeRolePolicy+sts:AssumeRole"
	}
	if !f.passRole {
		return ""
	}
	for _, m := range f.usable {
		if TrustsService(b, m.Service) && g.Allowed(a, "iam:PassRole", b.ARN) {
			return "iam:PassRole+" + m.ID
		}
	}
	return ""
}

// ShortestChain searches breadth-first, up to maxDepth hops, for the shortest path from
// from to a principal for which isTarget is true, and returns its hops (nil when none).
func ShortestChain(from string, edges map[string][]Hop, isTarget func(arn string) bool, maxDepth int) []Hop {
	type state struct {
		arn  string
		path []Hop
	}
	seen := map[string]bool{from: true}
	frontier := []state{{arn: from}}
	for depth := 0; depth < maxDepth && len(frontier) > 0; depth++ {
		var next []state
		for _, s := range frontier {
			for _, h := range edges[s.arn] {
				if seen[h.To] {
					continue
				}
				seen[h.To] = true
				path := append(append([]Hop(nil), s.path...), h)
				if isTarget(h.To) {
					return path
				}
				next = append(next, state{arn: h.To, path: path})
			}
		}
		frontier = next
	}
	return nil
}

func chainFindings(g *Graph, admins map[*Principal]AdminResult, esc map[*Principal][]MethodMatch, edges map[string][]Hop, maxDepth int) []Finding {
	a := analyzer(IDEscalationChain)
	isTarget := func(arn string) bool {
		p := g.byARN[arn]
		return p != nil && (admins[p].Admin || len(esc[p]) > 0)
	}
	var out []Finding
	for _, p := range g.Principals {
		if admins[p].Admin || len(esc[p]) > 0 {
			out = append(out, newFinding(a, p, StatusPass, fmt.Sprintf("%s %s is itself administrator-equivalent or escalation-capable (see %s, %s)", p.Kind, p.Name, IDAdminEquivalent, IDPrivilegeEscalation), nil))
			continue
		}
		path := ShortestChain(p.ARN, edges, isTarget, maxDepth)
		if path == nil {
			if len(p.Unresolved) > 0 {
				out = append(out, newFinding(a, p, StatusUnknown, fmt.Sprintf("%s %s: some of its policies could not be read", p.Kind, p.Name), map[string]any{"unresolved": stringsAny(p.Unresolved)}))
				continue
			}
			out = append(out, newFinding(a, p, StatusPass, fmt.Sprintf("%s %s reaches no administrator or escalation-capable principal within %d hops", p.Kind, p.Name, maxDepth), nil))
			continue
		}
		end := g.byARN[path[len(path)-1].To]
		reason := "administrator-equivalent"
		if !admins[end].Admin {
			ids := make([]string, len(esc[end]))
			for i, m := range esc[end] {
				ids[i] = m.Method
			}
			reason = "can escalate: " + strings.Join(ids, ", ")
		}
		steps := make([]string, len(path))
		for i, h := range path {
			steps[i] = h.Via + " -> " + h.To
		}
		out = append(out, newFinding(a, p, StatusFail,
			fmt.Sprintf("%s %s reaches %s (%s) in %d hop(s): %s", p.Kind, p.Name, end.ARN, reason, len(path), strings.Join(steps, "; ")),
			map[string]any{"path": toJSON(path), "target": end.ARN, "target_reason": reason}))
	}
	return out
}
