package auth

import "slices"

// Role is a member's or API key's role within one tenant.
type Role string

// The roles, from most to least powerful.
const (
	RoleOwner   Role = "owner"
	RoleAdmin   Role = "admin"
	RoleAnalyst Role = "analyst"
	RoleViewer  Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleAnalyst, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// rank is lower for more powerful roles.
func (r Role) rank() int {
	i := slices.Index(Roles, r)
	if i < 0 {
		return len(Roles)
	}
	return i
}

// AtLeast reports whether r is as powerful as other or more.
func (r Role) AtLeast(other Role) bool { return r.Valid() && r.rank() <= other.rank() }

// Permission is one thing a role may do. docs/security.md shows the matrix.
type Permission string

// The permissions checked by the API, one per route.
const (
	PermRead              Permission = "read"                // findings, inventory, drift, checks, compliance, own profile
	PermManageUsers       Permission = "users:manage"        // invite, change role, remove members
	PermManageAPIKeys     Permission = "api_keys:manage"     // create, list, revoke API keys
	PermManageAccounts    Permission = "accounts:manage"     // connect, edit, remove cloud accounts
	PermManageIntegration Permission = "integrations:manage" // Slack, Jira, webhooks, report schedules
	PermRunScans          Permission = "scans:run"           // scan now, cancel a scan
	PermManageMutes       Permission = "mutes:manage"        // mute rules and bulk mutes
	PermManageChecks      Permission = "checks:manage"       // tenant custom checks
	PermManageSettings    Permission = "settings:manage"     // retention and tenant settings
	PermReadAudit         Permission = "audit:read"          // the audit log
)

// matrix is the minimum role of each permission.
var matrix = map[Permission]Role{
	PermRead:              RoleViewer,
	PermRunScans:          RoleAnalyst,
	PermManageMutes:       RoleAnalyst,
	PermManageChecks:      RoleAnalyst,
	PermManageUsers:       RoleAdmin,
	PermManageAPIKeys:     RoleAdmin,
	PermManageAccounts:    RoleAdmin,
	PermManageIntegration: RoleAdmin,
	PermManageSettings:    RoleAdmin,
	PermReadAudit:         RoleAdmin,
}

// Permissions lists every permission in a stable order (for docs and tests).
func Permissions() []Permission {
	return []Permission{PermRead, PermRunScans, PermManageMutes, PermManageChecks, PermManageUsers,
		PermManageAPIKeys, PermManageAccounts, PermManageIntegration, PermManageSettings, PermReadAudit}
}

// MinRole returns the least powerful role holding p.
func MinRole(p Permission) Role {
	r, ok := matrix[p]
	if !ok {
		return RoleOwner
	}
	return r
}

// Can reports whether role r holds permission p. An unknown permission is owner-only.
func (r Role) Can(p Permission) bool { return r.AtLeast(MinRole(p)) }

// CanGrant reports whether a member with role r may give role target to someone (a user
// or an API key): only owners create owners; nobody grants above their own role.
func (r Role) CanGrant(target Role) bool {
	if !target.Valid() || !r.Can(PermManageUsers) {
		return false
	}
	if target == RoleOwner {
		return r == RoleOwner
	}
	return r.AtLeast(target)
}
