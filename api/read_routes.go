package api

import (
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/auth"
)

// readRoutes registers the read side: findings explorer, inventory, drift, summary,
// checks catalog and compliance. Kept beside routes.go so that both lists stay short.
func (s *Server) readRoutes(route func(method, path string, perm auth.Permission, h echo.HandlerFunc)) {
}
