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

	v1 := e.Group("/api/v1", limitByIP(s.ipLimit))
	v1.POST("/auth/login", s.login, limitByIP(s.loginLimit)).Name = "public"

	a := v1.Group("", s.authenticate)
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
}
