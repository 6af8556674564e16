package iampolicy

import (
	"net/netip"
	"strings"
)

// PublicGrant is an Allow statement of a resource policy that grants access to
// everyone, with no condition restricting it to known parties.
type PublicGrant struct {
	// Sid and Index locate the statement.
	Sid   string `json:"sid,omitempty"`
	Index int    `json:"index"`
	// Actions or NotActions are the statement's action patterns as written.
	Actions    []string `json:"actions,omitempty"`
	NotActions []string `json:"not_actions,omitempty"`
	// Resources or NotResources are the statement's resource patterns as written.
	Resources    []string `json:"resources,omitempty"`
	NotResources []string `json:"not_resources,omitempty"`
	// NotPrincipal is true when the grant comes from Allow with NotPrincipal.
	NotPrincipal bool `json:"not_principal,omitempty"`
	// AccessLevels are the access levels of the granted actions according to the
	// default catalog (List, Read, Write, Permissions management, Tagging), sorted.
	// Actions of services the catalog does not cover add nothing; a grant of "*" or of
	// NotAction yields every level.
	AccessLevels []AccessLevel `json:"access_levels"`

	st *Statement
}

// Allows reports whether the public grant covers action (case-insensitive).
func (g PublicGrant) Allows(action string) bool {
	return g.st != nil && g.st.matchAction(strings.ToLower(action))
}

// restrictingKeys are the condition keys that, compared with concrete values by a
// positive operator, limit a grant to known parties (an account, an organization, a
// source resource, a network). Lower-cased.
var restrictingKeys = map[string]keyShape{
	"aws:sourcearn":            shapeARN,
	"aws:principalarn":         shapeARN,
	"aws:sourceaccount":        shapePlain,
	"aws:sourceowner":          shapePlain,
	"aws:principalaccount":     shapePlain,
	"aws:principalorgid":       shapePlain,
	"aws:sourceorgid":          shapePlain,
	"aws:principalorgpaths":    shapeOrgPath,
	"aws:sourceorgpaths":       shapeOrgPath,
	"aws:sourcevpce":           shapePlain,
	"aws:sourcevpc":            shapePlain,
	"aws:sourceip":             shapeIP,
	"aws:userid":               shapePlain,
	"aws:principalservicename": shapePlain,
	"kms:calleraccount":        shapePlain,
}

type keyShape int

const (
	shapePlain keyShape = iota
	shapeARN
	shapeOrgPath
	shapeIP
)

// Minimum prefix lengths for an aws:SourceIp range to count as restrictive: a /0 (or
// anything wider than a /8 in IPv4, /16 in IPv6) is the internet, not a known network.
const (
	minRestrictiveIPv4Bits = 8
	minRestrictiveIPv6Bits = 16
)

// IsPublic reports whether the policy grants access to everyone: an Allow statement with
// Principal "*" (or {"AWS": "*"}) or with NotPrincipal, not restricted by a condition
// on a known party, and not neutralised by a Deny for everyone outside known parties.
// See PublicStatements and docs/iam.md for the exact rules.
func (p *Policy) IsPublic() bool {
	for i := range p.Statements {
		if p.publicStatement(&p.Statements[i]) {
			return true
		}
	}
	return false
}

// publicStatement reports whether one statement grants access to everyone. IsPublic
// stops at the first one, without classifying what it grants (expanding the actions
// against the catalog costs far more than the decision).
func (p *Policy) publicStatement(st *Statement) bool {
	if st.Effect != Allow {
		return false
	}
	everyone := (st.Principal != nil && st.Principal.Wildcard) || st.NotPrincipal != nil
	return everyone && !restricted(st) && !p.denyNeutralises(st)
}

// PublicStatements lists the statements that grant access to everyone. A statement is
// restricted (not public) when one of its conditions compares aws:SourceArn,
// aws:SourceAccount, aws:SourceOwner, aws:PrincipalOrgID, aws:PrincipalOrgPaths,
// aws:PrincipalAccount, aws:PrincipalArn, aws:SourceVpce, aws:SourceVpc, aws:SourceIp
// (and a few similar keys) with a positive operator (StringEquals, StringLike,
// ArnEquals, ArnLike, IpAddress, with or without ForAnyValue:) against values that are
// all concrete: no wildcard standing for the account or organisation, no policy
// variable, no IP range wider than /8 (IPv4) or /16 (IPv6). IfExists and ForAllValues:
// forms never restrict, because a missing key satisfies them.
func (p *Policy) PublicStatements() []PublicGrant {
	var out []PublicGrant
	for i := range p.Statements {
		st := &p.Statements[i]
		if !p.publicStatement(st) {
			continue
		}
		g := PublicGrant{
			Sid: st.Sid, Index: st.Index,
			Actions: st.Action, NotActions: st.NotAction,
			Resources: st.Resource, NotResources: st.NotResource,
			NotPrincipal: st.NotPrincipal != nil,
			st:           st,
		}
		g.AccessLevels = DefaultCatalog().statementLevels(st)
		out = append(out, g)
	}
	return out
}

// restricted reports whether one of the statement's conditions limits it to known
// parties.
func restricted(st *Statement) bool {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.op.negated || c.IfExists || c.Set == SetAllValues {
			continue
		}
		if restrictiveCondition(c) {
			return true
		}
	}
	return false
}

// restrictiveCondition reports whether c names a restricting key and every one of its
// values is concrete. The operator's polarity is checked by the caller.
func restrictiveCondition(c *Condition) bool {
	shape, ok := restrictingKeys[c.key]
	if !ok || len(c.Values) == 0 {
		return false
	}
	switch c.op.kind {
	case kStringEquals, kStringEqualsIgnoreCase, kStringLike, kArnLike:
		if shape == shapeIP {
			return false
		}
	case kIPAddress:
		if shape != shapeIP {
			return false
		}
	default:
		return false
	}
	for _, v := range c.Values {
		if !concreteValue(shape, v, c.op.kind) {
			return false
		}
	}
	return true
}

func concreteValue(shape keyShape, v string, kind opKind) bool {
	if v == "" || strings.Contains(v, "${") {
		return false
	}
	wild := func(s string) bool {
		return (kind == kStringLike || kind == kArnLike) && strings.ContainsAny(s, "*?")
	}
	switch shape {
	case shapeIP:
		pfx, ok := parseCIDR(v)
		if !ok {
			return false
		}
		if pfx.Addr().Is4() || pfx.Addr().Is4In6() {
			return pfx.Bits() >= minRestrictiveIPv4Bits && pfx.Addr() != netip.IPv4Unspecified()
		}
		return pfx.Bits() >= minRestrictiveIPv6Bits
	case shapeARN:
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 {
			return !wild(v)
		}
		if parts[4] != "" {
			return !wild(parts[4])
		}
		// Account-less ARNs (S3 buckets): the bucket name must be concrete.
		bucket, _, _ := strings.Cut(parts[5], "/")
		return bucket != "" && !wild(bucket)
	case shapeOrgPath:
		org, _, _ := strings.Cut(v, "/")
		return org != "" && !wild(org)
	default:
		return !wild(v)
	}
}

// denyNeutralises reports whether a Deny statement for everyone covers every action and
// resource of the public allow st and is conditioned only on the requester NOT being a
// known party (StringNotEquals aws:PrincipalOrgID, NotIpAddress aws:SourceIp, ...): the
// usual "allow *, deny everyone outside my organisation" pattern.
func (p *Policy) denyNeutralises(allow *Statement) bool {
	for i := range p.Statements {
		d := &p.Statements[i]
		if d.Effect != Deny || d.notAction || d.NotPrincipal != nil || len(d.Conditions) == 0 {
			continue
		}
		if d.Principal != nil && !d.Principal.Wildcard {
			continue
		}
		if !coversActions(d, allow) || !coversResources(d, allow) {
			continue
		}
		ok := true
		for j := range d.Conditions {
			c := &d.Conditions[j]
			if !c.op.negated || c.Set != SetNone || !restrictiveCondition(c) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func coversActions(deny, allow *Statement) bool {
	if allow.notAction {
		return containsString(deny.actions, "*")
	}
	for _, a := range allow.actions {
		covered := false
		for _, d := range deny.actions {
			if d == "*" || glob(d, a) {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

func coversResources(deny, allow *Statement) bool {
	if !deny.hasRes {
		return true
	}
	if deny.notRes {
		return false
	}
	for i := range deny.resources {
		if deny.resources[i].raw == "*" {
			return true
		}
	}
	if !allow.hasRes || allow.notRes {
		return false
	}
	for _, a := range allow.resources {
		covered := false
		for _, d := range deny.resources {
			if !d.hasVars() && glob(d.raw, a.raw) {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
