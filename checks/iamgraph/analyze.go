package iamgraph

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"time"
)

// DefaultUnusedDays is the default threshold of the unused-access analyses.
const DefaultUnusedDays = 90

// Config configures Analyze. The zero value is usable.
type Config struct {
	// UnusedDays is the threshold of the unused-access analyses; default 90.
	UnusedDays int
	// NowFunc is the clock; default time.Now.
	NowFunc func() time.Time
	// TrustedAccounts are account ids whose principals may assume roles without an
	// external-id condition (accounts of the same organization, typically).
	TrustedAccounts []string
	// MaxChainDepth bounds chain searches; default DefaultMaxDepth (5).
	MaxChainDepth int
	// Methods is the escalation-method table; nil means Methods().
	Methods []Method
	// ServiceLastAccessed holds GetServiceLastAccessedDetails output by principal ARN.
	// When nil, the aws.iam.principal_services_unused analysis does not run; when set,
	// principals without an entry get unknown.
	ServiceLastAccessed map[string]*ServiceLastAccessedDetails
}

// Analyze runs every analysis over the graph and returns one finding per analyzer and
// principal it covers (users and roles; trust analyses roles only; user and key
// analyses users only), sorted by check id then resource.
func Analyze(ctx context.Context, g *Graph, cfg Config) ([]Finding, error) {
	days := cmp.Or(cfg.UnusedDays, DefaultUnusedDays)
	if days < 0 {
		return nil, fmt.Errorf("analyze iam graph: negative UnusedDays %d", days)
	}
	now := time.Now
	if cfg.NowFunc != nil {
		now = cfg.NowFunc
	}
	depth := cmp.Or(cfg.MaxChainDepth, DefaultMaxDepth)
	methods := cfg.Methods
	if methods == nil {
		methods = Methods()
	}
	trusted := map[string]bool{}
	for _, a := range cfg.TrustedAccounts {
		trusted[a] = true
	}

	admins := g.adminSet()
	esc := map[*Principal][]MethodMatch{}
	for _, p := range g.Principals {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("analyze iam graph: %w", err)
		}
		if !admins[p].Admin {
			esc[p] = g.Escalations(p, methods)
		}
	}
	edges, err := g.Edges(ctx, methods)
	if err != nil {
		return nil, fmt.Errorf("analyze iam graph: %w", err)
	}

	var out []Finding
	out = append(out, adminFindings(g, admins)...)
	out = append(out, escalationFindings(g, admins, esc)...)
	out = append(out, chainFindings(g, admins, esc, edges, depth)...)
	out = append(out, trustFindings(g, trusted)...)
	out = append(out, unusedFindings(g, now(), days)...)
	if cfg.ServiceLastAccessed != nil {
		out = append(out, servicesFindings(g, cfg.ServiceLastAccessed, now(), days)...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].CheckID != out[j].CheckID {
			return out[i].CheckID < out[j].CheckID
		}
		return out[i].ResourceNativeID < out[j].ResourceNativeID
	})
	return out, nil
}
