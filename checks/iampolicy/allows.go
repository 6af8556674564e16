package iampolicy

import "strings"

// Allows reports whether the policy, on its own, allows action on resource in the worst
// case: some Allow statement matches the action (Action/NotAction, case-insensitive,
// with * and ? wildcards) and the resource (Resource/NotResource, case-sensitive,
// wildcards; a statement without Resource matches every resource), whatever its
// conditions and principal say, and no unconditional Deny for everyone matches. A Deny
// with conditions or aimed at specific principals may not apply, so it does not count.
// Policy variables in an Allow's Resource match anything; in a Deny's, nothing.
// resource is a concrete ARN (or "*" for actions that take none).
func (p *Policy) Allows(action, resource string) bool {
	a := strings.ToLower(action)
	allowed := false
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matchAction(a) {
			continue
		}
		if st.Effect == Deny {
			if st.unconditionalForEveryone() && (!st.hasRes || st.matchResourceStatic(resource, false)) {
				return false
			}
			continue
		}
		if !st.hasRes || st.matchResourceStatic(resource, true) {
			allowed = true
		}
	}
	return allowed
}

// AllowsAdmin reports whether the policy grants full administrative access: an Allow of
// Action "*" (or "*:*") on Resource "*" without conditions, not cancelled by an
// unconditional Deny of "*" on "*".
func (p *Policy) AllowsAdmin() bool {
	admin := false
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.notAction || st.notRes || len(st.Conditions) > 0 || st.NotPrincipal != nil {
			continue
		}
		if !containsString(st.actions, "*") && !containsString(st.actions, "*:*") {
			continue
		}
		if st.hasRes && !st.hasLiteralResource("*") {
			continue
		}
		if st.Effect == Deny {
			if st.Principal == nil || st.Principal.Wildcard {
				return false
			}
			continue
		}
		admin = true
	}
	return admin
}

func (st *Statement) unconditionalForEveryone() bool {
	if len(st.Conditions) > 0 || st.NotPrincipal != nil {
		return false
	}
	return st.Principal == nil || st.Principal.Wildcard
}

func (st *Statement) hasLiteralResource(r string) bool {
	for i := range st.resources {
		if st.resources[i].raw == r {
			return true
		}
	}
	return false
}

// matchResourceStatic matches a resource without a request context. Patterns with
// policy variables match anything when broad (worst case for an Allow) and nothing
// otherwise (worst case for a Deny).
func (st *Statement) matchResourceStatic(resource string, broad bool) bool {
	// For NotResource, matching more patterns excludes more: flip the worst case.
	broad = broad != st.notRes
	for i := range st.resources {
		p := &st.resources[i]
		pat := p.raw
		if p.hasVars() {
			if !broad {
				continue
			}
			pat = p.wildcarded()
		}
		if pat == "*" || glob(pat, resource) {
			return !st.notRes
		}
	}
	return st.notRes
}

// wildcarded returns the pattern with every variable replaced by "*".
func (p *pattern) wildcarded() string {
	var b strings.Builder
	for _, part := range p.parts {
		if part.isVar {
			b.WriteByte('*')
		} else {
			b.WriteString(part.text)
		}
	}
	return b.String()
}
