package iamgraph

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// externalRestrictingKeys are the condition keys that, compared positively with
// concrete values, protect a cross-account trust (lower case).
var externalRestrictingKeys = map[string]bool{
	"sts:externalid":        true,
	"aws:principalorgid":    true,
	"aws:principalorgpaths": true,
	"aws:sourceaccount":     true,
}

// assumeActions are the actions a trust policy grants.
var assumeActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"}

// positive reports whether a condition is a positive comparison a missing key fails:
// not negated, not IfExists, not ForAllValues:, not Null.
func positive(c *iampolicy.Condition) bool {
	return !strings.Contains(c.Base, "Not") && c.Base != "Null" && !c.IfExists && c.Set != iampolicy.SetAllValues
}

// concreteValues reports whether every value of c says something: no empty value and
// none made only of wildcards.
func concreteValues(c *iampolicy.Condition) bool {
	if len(c.Values) == 0 {
		return false
	}
	for _, v := range c.Values {
		if strings.Trim(v, "*?") == "" {
			return false
		}
	}
	return true
}

// hasCondition reports whether st has a positive condition with concrete values on a
// key for which accept returns true.
func hasCondition(st *iampolicy.Statement, accept func(lowerKey string, c *iampolicy.Condition) bool) bool {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if positive(c) && concreteValues(c) && accept(strings.ToLower(c.Key), c) {
			return true
		}
	}
	return false
}

// ExternalTrust is a trust statement admitting principals of other accounts.
type ExternalTrust struct {
	Index int    `json:"index"`
	Sid   string `json:"sid,omitempty"`
	// Principals are the foreign principals named.
	Principals []string `json:"principals"`
	// Restricted is true when an external-id or organization condition protects it.
	Restricted bool `json:"restricted"`
}

// ExternalTrusts lists the Allow statements of role's trust policy that let principals
// of accounts other than the role's own and trusted (sts:AssumeRole) assume it.
func ExternalTrusts(role *Principal, trusted map[string]bool) []ExternalTrust {
	if role.Trust == nil {
		return nil
	}
	var out []ExternalTrust
	for i := range role.Trust.Statements {
		st := &role.Trust.Statements[i]
		if st.Effect != iampolicy.Allow || st.Principal == nil || st.Principal.Wildcard || !statementHasAction(st, "sts:AssumeRole") {
			continue
		}
		var foreign []string
		for _, a := range st.Principal.AWS {
			acct := arnAccount(a)
			if acct != "" && acct != role.Account && !trusted[acct] {
				foreign = append(foreign, a)
			}
		}
		if len(foreign) == 0 {
			continue
		}
		out = append(out, ExternalTrust{Index: st.Index, Sid: st.Sid, Principals: foreign,
			Restricted: hasCondition(st, func(k string, _ *iampolicy.Condition) bool { return externalRestrictingKeys[k] })})
	}
	return out
}

// FederatedTrust is a trust statement admitting a web-identity or SAML provider.
type FederatedTrust struct {
	Index    int    `json:"index"`
	Sid      string `json:"sid,omitempty"`
	Provider string `json:"provider"`
	// Kind is "oidc" or "saml".
	Kind string `json:"kind"`
	// Audience and Subject say whether the respective condition is present.
	Audience bool `json:"audience"`
	Subject  bool `json:"subject"`
	// Restricted is the verdict: OIDC needs audience and subject, SAML an audience.
	Restricted bool `json:"restricted"`
}

// providerKey returns the condition-key prefix of a federated principal: the provider
// URL of an OIDC provider ARN ("token.actions.githubusercontent.com",
// "oidc.eks.eu-west-1.amazonaws.com/id/ABC") or the principal as written for the
// built-in providers ("cognito-identity.amazonaws.com", "accounts.google.com").
func providerKey(federated string) string {
	if _, rest, ok := strings.Cut(federated, ":oidc-provider/"); ok {
		return rest
	}
	return federated
}

// FederatedTrusts analyses the statements of role's trust policy that admit a federated
// principal through sts:AssumeRoleWithWebIdentity or sts:AssumeRoleWithSAML.
func FederatedTrusts(role *Principal) []FederatedTrust {
	if role.Trust == nil {
		return nil
	}
	var out []FederatedTrust
	for i := range role.Trust.Statements {
		st := &role.Trust.Statements[i]
		if st.Effect != iampolicy.Allow || st.Principal == nil {
			continue
		}
		for _, fed := range st.Principal.Federated {
			switch {
			case statementHasAction(st, "sts:AssumeRoleWithWebIdentity"):
				prefix := strings.ToLower(providerKey(fed))
				ft := FederatedTrust{Index: st.Index, Sid: st.Sid, Provider: fed, Kind: "oidc"}
				ft.Audience = hasCondition(st, func(k string, _ *iampolicy.Condition) bool { return k == prefix+":aud" })
				ft.Subject = hasCondition(st, func(k string, c *iampolicy.Condition) bool {
					if k == prefix+":sub" || (prefix == "cognito-identity.amazonaws.com" && k == prefix+":amr") {
						return subjectConcrete(prefix, c)
					}
					return false
				})
				ft.Restricted = ft.Audience && ft.Subject
				out = append(out, ft)
			case statementHasAction(st, "sts:AssumeRoleWithSAML"):
				ft := FederatedTrust{Index: st.Index, Sid: st.Sid, Provider: fed, Kind: "saml"}
				ft.Audience = hasCondition(st, func(k string, _ *iampolicy.Condition) bool { return k == "saml:aud" })
				ft.Subject = hasCondition(st, func(k string, _ *iampolicy.Condition) bool { return k == "saml:sub" })
				ft.Restricted = ft.Audience
				out = append(out, ft)
			}
		}
	}
	return out
}

// subjectConcrete rejects subject patterns that admit every identity of a shared
// provider: for GitHub Actions, "repo:*" or "repo:*/..." (any organisation).
func subjectConcrete(prefix string, c *iampolicy.Condition) bool {
	if prefix != "token.actions.githubusercontent.com" {
		return true
	}
	for _, v := range c.Values {
		rest, ok := strings.CutPrefix(v, "repo:")
		if !ok {
			continue
		}
		org, _, _ := strings.Cut(rest, "/")
		if org == "" || strings.ContainsAny(org, "*?") {
			return false
		}
	}
	return true
}

func trustFindings(g *Graph, trusted map[string]bool) []Finding {
	anyA, extA, oidcA := analyzer(IDTrustAnyPrincipal), analyzer(IDTrustExternalNoExtID), analyzer(IDTrustOIDCUnrestrict)
	var out []Finding
	for _, r := range g.Principals {
		if r.Kind != KindRole {
			continue
		}
		if r.Trust == nil {
			msg := fmt.Sprintf("role %s: its trust policy could not be read", r.Name)
			for _, a := range []Analyzer{anyA, extA, oidcA} {
				out = append(out, newFinding(a, r, StatusUnknown, msg, nil))
			}
			continue
		}
		// Any principal.
		var public []iampolicy.PublicGrant
		for _, pg := range r.Trust.PublicStatements() {
			for _, act := range assumeActions {
				if pg.Allows(act) {
					public = append(public, pg)
					break
				}
			}
		}
		if len(public) > 0 {
			out = append(out, newFinding(anyA, r, StatusFail, fmt.Sprintf("role %s can be assumed by any AWS principal", r.Name), map[string]any{"statements": toJSON(public)}))
		} else {
			out = append(out, newFinding(anyA, r, StatusPass, fmt.Sprintf("role %s does not trust every principal", r.Name), nil))
		}
		// Other accounts.
		ext := ExternalTrusts(r, trusted)
		var open []string
		for _, e := range ext {
			if !e.Restricted {
				open = append(open, e.Principals...)
			}
		}
		sort.Strings(open)
		if len(open) > 0 {
			out = append(out, newFinding(extA, r, StatusFail, fmt.Sprintf("role %s can be assumed from %s without an external ID or organization condition", r.Name, strings.Join(open, ", ")), map[string]any{"statements": toJSON(ext)}))
		} else {
			out = append(out, newFinding(extA, r, StatusPass, fmt.Sprintf("role %s has no unprotected cross-account trust", r.Name), map[string]any{"statements": toJSON(ext)}))
		}
		// Federated.
		fed := FederatedTrusts(r)
		var weak []string
		for _, f := range fed {
			if !f.Restricted {
				weak = append(weak, f.Provider)
			}
		}
		if len(weak) > 0 {
			out = append(out, newFinding(oidcA, r, StatusFail, fmt.Sprintf("role %s trusts %s without audience and subject conditions", r.Name, strings.Join(weak, ", ")), map[string]any{"statements": toJSON(fed)}))
		} else {
			out = append(out, newFinding(oidcA, r, StatusPass, fmt.Sprintf("role %s has no unrestricted federated trust", r.Name), map[string]any{"statements": toJSON(fed)}))
		}
	}
	return out
}
