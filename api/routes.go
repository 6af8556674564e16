package api

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/auth"
)

// routes registers every route of the server. It is the one list of endpoints: each
// authenticated route names the permission it needs (enforced by can and recorded as
// the route's name), and the tenant-isolation and role tests walk the router's own
// list, so a new route is covered by being added here.
func (s *Server) routes(reg *prometheus.Registry) {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", metricsHandler(reg))
	s.specRoutes()

	v1 := e.Group("/api/v1", limitByIP(s.ipLimit))
	v1.POST("/auth/login", s.login, limitByIP(s.loginLimit)).Name = "public"

	a := v1.Group("", s.authenticate, s.cond.middleware, s.idem.middleware)
	route := func(method, path string, perm auth.Permission, h echo.HandlerFunc) {
		a.Add(method, path, can(perm, h)).Name = string(perm)
	}
	route("POST", "/auth/logout", auth.PermRead, s.logout)
	route("POST", "/auth/switch-tenant", auth.PermRead, s.switchTenant)
	route("GET", "/me", auth.PermRead, s.me)
	route("POST", "/me/password", auth.PermRead, s.changePassword)

	route("GET", "/users", auth.PermManageUsers, s.listUsers)
	route("POST", "/users", auth.PermManageUsers, s.inviteUser)
	route("PATCH", "/users/:user_id", auth.PermManageUsers, s.updateUser)
	route("DELETE", "/users/:user_id", auth.PermManageUsers, s.removeUser)

	route("GET", "/api-keys", auth.PermManageAPIKeys, s.listAPIKeys)
	route("POST", "/api-keys", auth.PermManageAPIKeys, s.createAPIKey)
	route("DELETE", "/api-keys/:key_id", auth.PermManageAPIKeys, s.revokeAPIKey)

	route("GET", "/audit-log", auth.PermReadAudit, s.listAuditLog)

	route("GET", "/settings", auth.PermRead, s.getSettings)
	route("PATCH", "/settings", auth.PermManageSettings, s.updateSettings)

	route("GET", "/accounts", auth.PermRead, s.listAccounts)
	route("POST", "/accounts", auth.PermManageAccounts, s.createAccount)
	route("GET", "/accounts/aws/onboarding", auth.PermManageAccounts, s.awsOnboarding)
	route("GET", "/accounts/:account_id", auth.PermRead, s.getAccount)
	route("PATCH", "/accounts/:account_id", auth.PermManageAccounts, s.updateAccount)
	route("DELETE", "/accounts/:account_id", auth.PermManageAccounts, s.deleteAccount)
	route("POST", "/accounts/:account_id/test", auth.PermManageAccounts, s.testAccount)
	route("POST", "/accounts/:account_id/scans", auth.PermRunScans, s.startScan)
	route("GET", "/accounts/:account_id/scans", auth.PermRead, s.listScans)
	route("GET", "/scans/:scan_id", auth.PermRead, s.getScan)
	route("POST", "/scans/:scan_id/cancel", auth.PermRunScans, s.cancelScan)

	route("GET", "/mute-rules", auth.PermRead, s.listMuteRules)
	route("POST", "/mute-rules", auth.PermManageMutes, s.createMuteRule)
	route("DELETE", "/mute-rules/:mute_id", auth.PermManageMutes, s.deleteMuteRule)

	route("GET", "/iam/principals/:resource_id/effective", auth.PermRead, s.iamEffective)
	route("GET", "/iam/access", auth.PermRead, s.iamAccess)
	route("POST", "/iam/simulate", auth.PermRead, s.iamSimulate)

	// Findings, inventory, drift, summary, checks and compliance (read side).
	s.readRoutes(route)

	// The web UI: everything that is not an API route.
	s.uiRoutes()
}
