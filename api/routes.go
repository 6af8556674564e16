package api

import (
	"github.com/prometheus/client_golang/prometheus"
)

// routes registers every route of the server. It is the one list of endpoints: the
// tenant-isolation test walks it through the router, so a new route is covered by
// being added here.
func (s *Server) routes(reg *prometheus.Registry) {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", metricsHandler(reg))
}
