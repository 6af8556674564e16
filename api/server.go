// Package api owns Vigil's HTTP interface: the Echo server, its routes (all in
// routes.go), authentication and tenant middleware, problem+json errors, and the
// embedded OpenAPI document. Handlers reach data only through the store package and
// start work only by inserting jobs; api never calls a cloud SDK.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/seal"
	"github.com/vigilsec/vigil/store"
)

// Config configures the server. Zero values take the defaults noted.
type Config struct {
	// Addr is the listen address (default ":8080").
	Addr string
	// MaxBodyBytes limits request bodies (default 1 MiB).
	MaxBodyBytes int64
	// DB is the application's database handle (required).
	DB *store.DB
	// Logger receives access and error logs (required).
	Logger *slog.Logger
	// Registry collects metrics served at /metrics (default: a new registry).
	Registry *prometheus.Registry
	// Version is reported by /healthz.
	Version string
	// SecureCookies marks the session cookie Secure (the public URL is https).
	SecureCookies bool
	// SessionTTL is the lifetime of a UI session (default 12h).
	SessionTTL time.Duration
	// RateLimit is the sustained requests per second allowed per API key or user
	// (default 20, burst twice that); each client IP gets 2.5 times as much.
	RateLimit float64
	// Checks is the check registry served by the catalog and compliance endpoints.
	Checks *checks.Registry
	// Jobs inserts background work (scans); nil disables the endpoints that start work.
	Jobs *river.Client[pgx.Tx]
	// Sealer seals cloud credentials at rest.
	Sealer *seal.Sealer
	// ExternalIDKey derives each tenant's AWS external id (the master key).
	ExternalIDKey []byte
	// VigilAWSPrincipal is the AWS principal customers' roles trust (onboarding).
	VigilAWSPrincipal string
	// TestAccount checks an account's credentials.
	TestAccount AccountTester
}

// Server is Vigil's HTTP server.
type Server struct {
	cfg    Config
	echo   *echo.Echo
	logger *slog.Logger
	db     *store.DB

	callerLimit *limiter // per API key or user
	ipLimit     *limiter // per client address, every API request
	loginLimit  *limiter // per client address, sign-in attempts

	cond *preconditions // ETags and conditional requests (etag.go)
	idem *idempotency   // Idempotency-Key (idempotency.go)
}

// New builds the server and its routes. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Logger == nil || cfg.Sealer == nil || cfg.Checks == nil {
		return nil, errors.New("api: DB, Logger, Sealer and Checks are required")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = 20
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// The client address is the TCP peer: X-Forwarded-For is trivially forged and would
	// let anyone escape the per-IP limits.
	e.IPExtractor = echo.ExtractIPDirect()
	s := &Server{cfg: cfg, echo: e, logger: cfg.Logger, db: cfg.DB,
		callerLimit: newLimiter(cfg.RateLimit, int(2*cfg.RateLimit)),
		ipLimit:     newLimiter(2.5*cfg.RateLimit, int(5*cfg.RateLimit)),
		loginLimit:  newLimiter(10.0/60, 10),
	}
	e.HTTPErrorHandler = s.errorHandler

	metrics := newHTTPMetrics(cfg.Registry)
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{
			// Honour a caller's id only when it is short and printable.
			Generator: newRequestID,
		}),
		s.accessLog(),
		metrics.middleware,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableStackAll:   true,
			DisablePrintStack: true,
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				s.logger.ErrorContext(c.Request().Context(), "panic in handler",
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err.Error(), "stack", string(stack))
				return NewProblem(http.StatusInternalServerError, CodeInternal, "internal error; quote the request id to the operator")
			},
		}),
		middleware.BodyLimit(fmt.Sprintf("%dB", cfg.MaxBodyBytes)),
		securityHeaders,
	)
	// Before the routes: preconditions records the GET handlers as they are added.
	s.cond, s.idem = newPreconditions(s), newIdempotency(s)
	s.routes(cfg.Registry)
	return s, nil
}

// Handler exposes the server for tests (httptest) and embedding.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router, e.g. for the route walk of the isolation tests.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Run listens until ctx is cancelled, then drains in-flight requests for up to
// drainTimeout before returning.
func (s *Server) Run(ctx context.Context, drainTimeout time.Duration) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln, drainTimeout)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener, drainTimeout time.Duration) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.logger.Info("http server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("http server draining", "timeout", drainTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("drain http server: %w", err)
	}
	return nil
}

func (s *Server) accessLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogError: true, LogResponseSize: true, HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.logger.LogAttrs(c.Request().Context(), level, "http request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID),
				slog.String("remote_ip", v.RemoteIP), slog.Int64("bytes", v.ResponseSize))
			return nil
		},
	})
}

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

// readyz answers 200 only when the database answers and its schema is current, so a
// load balancer never routes to an instance that would fail every request.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.db.Pool.Ping(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness: database unreachable", "error", err.Error())
		return NewProblem(http.StatusServiceUnavailable, CodeUnavailable, "database unreachable")
	}
	if err := s.db.CheckSchema(ctx); err != nil {
		s.logger.WarnContext(ctx, "readiness: schema", "error", err.Error())
		return NewProblem(http.StatusServiceUnavailable, CodeUnavailable, "database schema is not current")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func metricsHandler(reg *prometheus.Registry) echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}
