package iamgraph

import "github.com/vigilsec/vigil/checks/iampolicy"

// Simulate evaluates one request of principal p with request context keys (aws:SourceIp,
// aws:MultiFactorAuthPresent, ...), its identity policies, boundary and SCPs, and an
// optional resource policy. The decision explains itself.
func (g *Graph) Simulate(p *Principal, action, resource string, context map[string][]string, resourcePolicy *iampolicy.NamedPolicy) iampolicy.Decision {
	set := p.set
	set.ResourcePolicy = resourcePolicy
	return iampolicy.Evaluate(iampolicy.Request{Principal: p.req, Action: action, Resource: resource,
		ResourceAccount: arnAccountOr(resource, p.Account), Context: context}, set)
}
