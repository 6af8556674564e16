package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/seal"
	"github.com/vigilsec/vigil/store/storetest"
)

func newServer(t *testing.T) (*api.Server, *storetest.DB) {
	t.Helper()
	db := storetest.New(t)
	srv, err := api.New(testConfig(t, api.Config{DB: db.App, MaxBodyBytes: 2048, Version: "test"}))
	require.NoError(t, err)
	return srv, db
}

// testConfig fills the parts every test server needs.
func testConfig(t *testing.T, cfg api.Config) api.Config {
	t.Helper()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	sealer, err := seal.New(make([]byte, 32))
	require.NoError(t, err)
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Checks, cfg.Sealer, cfg.ExternalIDKey = reg, sealer, make([]byte, 32)
	// An insert-only River client: jobs are queued, nothing works them.
	cfg.Jobs, err = river.NewClient(riverpgxv5.New(cfg.DB.Pool), &river.Config{})
	require.NoError(t, err)
	return cfg
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) api.Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p api.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	return p
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	srv, db := newServer(t)

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotEmpty(t, rec.Header().Get(echo.HeaderXRequestID))

	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	// An outdated schema makes the instance unready.
	_, err := db.Owner.Exec(context.Background(), "DELETE FROM vigil_schema_version WHERE version_id > 0")
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "unavailable", decodeProblem(t, rec).Code)
}

func TestProblemResponses(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	srv.Echo().GET("/test/panic", func(echo.Context) error { panic("boom: secret internals") })
	srv.Echo().POST("/test/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, string(b))
	})

	// Paths outside /api belong to the UI (client-side routes); unknown API paths are 404.
	t.Run("unknown route", func(t *testing.T) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/no/such/route", nil))
		require.Equal(t, http.StatusNotFound, rec.Code)
		p := decodeProblem(t, rec)
		require.Equal(t, "not_found", p.Code)
		require.Equal(t, "/api/no/such/route", p.Instance)
	})
	t.Run("panic becomes a 500 problem without internals", func(t *testing.T) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/test/panic", nil))
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		p := decodeProblem(t, rec)
		require.Equal(t, "internal_error", p.Code)
		require.NotContains(t, rec.Body.String(), "secret internals")
	})
	t.Run("body over the limit", func(t *testing.T) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/test/echo", strings.NewReader(strings.Repeat("x", 5000))))
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		require.Equal(t, "body_too_large", decodeProblem(t, rec).Code)
	})
	t.Run("metrics", func(t *testing.T) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "vigil_http_request_duration_seconds")
	})
}

// TestGracefulShutdown: a request in flight when the server is told to stop still
// gets its answer.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	started := make(chan struct{})
	release := make(chan struct{})
	srv.Echo().GET("/test/slow", func(c echo.Context) error {
		close(started)
		<-release
		return c.String(http.StatusOK, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, 10*time.Second) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/test/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	close(release)
	require.Equal(t, "done", <-got)
	require.NoError(t, <-served)
}
