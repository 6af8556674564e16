package api

import (
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/auth"
)

// routes registers every route of the server. It is the one list of endpoints: each
// authenticated route names the permission it needs (enforced by can and recorded as
// the route's name, and checked at startup against the operation's x-vigil-permission),
// and the tenant-isolation and role tests walk the router's own list, so a new route is
// covered by being added here.
func (s *Server) routes(reg *prometheus.Registry) {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", metricsHandler(reg))
	s.specRoutes()

	// Handlers implement the interface generated from api/openapi.yaml (api/apigen); the
	// generated wrapper binds path and query parameters into typed arguments.
	w := &apigen.ServerInterfaceWrapper{Handler: s.newHandlers()}

	v1 := e.Group("/api/v1", limitByIP(s.ipLimit))
	v1.POST("/auth/login", validateRequest("POST", "/api/v1/auth/login", "public", w.Login), limitByIP(s.loginLimit)).Name = "public"

	// Every route below authenticates, checks its permission, then validates the
	// request against the operation of api/openapi.yaml (validate.go) before its handler.
	a := v1.Group("", s.authenticate, s.cond.middleware, s.idem.middleware)
	route := func(method, path string, perm auth.Permission, h echo.HandlerFunc) {
		a.Add(method, path, can(perm, validateRequest(method, "/api/v1"+path, string(perm), h))).Name = string(perm)
	}

	route("POST", "/auth/logout", auth.PermRead, w.Logout)
	route("POST", "/auth/switch-tenant", auth.PermRead, w.SwitchTenant)
	route("GET", "/me", auth.PermRead, w.GetMe)
	route("POST", "/me/password", auth.PermRead, w.ChangePassword)

	route("GET", "/users", auth.PermManageUsers, w.ListUsers)
	route("POST", "/users", auth.PermManageUsers, w.InviteUser)
	route("PATCH", "/users/:user_id", auth.PermManageUsers, w.UpdateUserRole)
	route("DELETE", "/users/:user_id", auth.PermManageUsers, w.RemoveUser)

	route("GET", "/api-keys", auth.PermManageAPIKeys, w.ListAPIKeys)
	route("POST", "/api-keys", auth.PermManageAPIKeys, w.CreateAPIKey)
	route("DELETE", "/api-keys/:key_id", auth.PermManageAPIKeys, w.RevokeAPIKey)

	route("GET", "/audit-log", auth.PermReadAudit, w.ListAuditLog)

	route("GET", "/settings", auth.PermRead, w.GetSettings)
	route("PATCH", "/settings", auth.PermManageSettings, w.UpdateSettings)

	route("GET", "/accounts", auth.PermRead, w.ListAccounts)
	route("POST", "/accounts", auth.PermManageAccounts, w.CreateAccount)
	route("GET", "/accounts/aws/onboarding", auth.PermManageAccounts, w.GetAWSOnboarding)
	route("GET", "/accounts/:account_id", auth.PermRead, w.GetAccount)
	route("PATCH", "/accounts/:account_id", auth.PermManageAccounts, w.UpdateAccount)
	route("DELETE", "/accounts/:account_id", auth.PermManageAccounts, w.DeleteAccount)
	route("POST", "/accounts/:account_id/test", auth.PermManageAccounts, w.TestAccount)
	route("POST", "/accounts/:account_id/scans", auth.PermRunScans, w.StartScan)
	route("GET", "/accounts/:account_id/scans", auth.PermRead, w.ListScans)
	route("GET", "/scans/:scan_id", auth.PermRead, w.GetScan)
	route("POST", "/scans/:scan_id/cancel", auth.PermRunScans, w.CancelScan)

	route("GET", "/mute-rules", auth.PermRead, w.ListMuteRules)
	route("POST", "/mute-rules", auth.PermManageMutes, w.CreateMuteRule)
	route("DELETE", "/mute-rules/:mute_id", auth.PermManageMutes, w.DeleteMuteRule)

	route("GET", "/iam/principals/:resource_id/effective", auth.PermRead, w.GetIAMEffectivePermissions)
	route("GET", "/iam/access", auth.PermRead, w.GetIAMAccess)
	route("POST", "/iam/simulate", auth.PermRead, w.SimulateIAMRequest)

	// The read side: findings explorer, inventory, drift, summary, checks, compliance.
	route("GET", "/findings", auth.PermRead, w.ListFindings)
	route("GET", "/findings/facets", auth.PermRead, w.GetFindingFacets)
	route("GET", "/findings/export", auth.PermRead, w.ExportFindings)
	route("POST", "/findings/mute", auth.PermManageMutes, w.MuteFindings)
	route("GET", "/findings/:finding_id", auth.PermRead, w.GetFinding)

	route("GET", "/summary", auth.PermRead, w.GetSummary)

	route("GET", "/resources", auth.PermRead, w.ListResources)
	route("GET", "/resources/facets", auth.PermRead, w.GetResourceFacets)
	route("GET", "/resources/:resource_id", auth.PermRead, w.GetResource)
	route("GET", "/resources/:resource_id/versions", auth.PermRead, w.ListResourceVersions)
	route("GET", "/resources/:resource_id/versions/:version", auth.PermRead, w.GetResourceVersion)
	route("GET", "/resources/:resource_id/diff", auth.PermRead, w.DiffResourceVersions)
	route("GET", "/resources/:resource_id/at", auth.PermRead, w.GetResourceAt)

	route("GET", "/drift", auth.PermRead, w.ListDrift)

	route("GET", "/checks", auth.PermRead, w.ListChecks)
	route("GET", "/checks/:check_id", auth.PermRead, w.GetCheck)
	route("GET", "/custom-checks", auth.PermRead, w.ListCustomChecks)
	route("POST", "/custom-checks", auth.PermManageChecks, w.CreateCustomCheck)
	route("POST", "/custom-checks/dry-run", auth.PermManageChecks, w.DryRunCustomCheck)
	route("GET", "/custom-checks/:custom_check_id", auth.PermRead, w.GetCustomCheck)
	route("PUT", "/custom-checks/:custom_check_id", auth.PermManageChecks, w.UpdateCustomCheck)
	route("DELETE", "/custom-checks/:custom_check_id", auth.PermManageChecks, w.DeleteCustomCheck)

	route("GET", "/compliance/frameworks", auth.PermRead, w.ListFrameworks)
	route("GET", "/compliance/frameworks/:framework_id", auth.PermRead, w.GetFramework)
	route("GET", "/compliance/frameworks/:framework_id/controls/:control_id", auth.PermRead, w.GetControl)

	// The web UI: everything that is not an API route.
	s.uiRoutes()
}
