package api

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/frontend"
)

func uiTestServer(assets fs.FS, built bool) *echo.Echo {
	e := echo.New()
	s := &Server{echo: e}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		p := s.toProblem(err, c)
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		_ = c.JSON(p.Status, p)
	}
	// An API route registered beside the UI must keep winning over the fallback.
	e.GET("/api/v1/me", func(c echo.Context) error { return c.String(http.StatusOK, "me") })
	h := uiHandler(assets, built)
	e.GET("/", h)
	e.HEAD("/", h)
	e.GET("/*", h)
	e.HEAD("/*", h)
	return e
}

func TestUIHandler(t *testing.T) {
	t.Parallel()
	dist := fstest.MapFS{
		"index.html":             {Data: []byte("<!doctype html><div id=root></div>")},
		"favicon.svg":            {Data: []byte("<svg/>")},
		"assets/index-abc12.js":  {Data: []byte("console.log(1)")},
		"assets/index-abc12.css": {Data: []byte("body{}")},
	}
	e := uiTestServer(dist, true)
	tests := []struct {
		name, method, path string
		status             int
		body               string
		cache, ctype       string
		csp                bool
	}{
		{"root is the shell", "GET", "/", 200, "<div id=root>", "no-cache", "text/html; charset=utf-8", true},
		{"index.html is the shell", "GET", "/index.html", 200, "<div id=root>", "no-cache", "text/html; charset=utf-8", true},
		{"client route falls back", "GET", "/findings/123?severity=high", 200, "<div id=root>", "no-cache", "text/html; charset=utf-8", true},
		{"deep client route", "GET", "/settings/api-keys", 200, "<div id=root>", "no-cache", "text/html; charset=utf-8", true},
		{"hashed script is immutable", "GET", "/assets/index-abc12.js", 200, "console.log(1)", "public, max-age=31536000, immutable", "text/javascript; charset=utf-8", false},
		{"hashed css is immutable", "GET", "/assets/index-abc12.css", 200, "body{}", "public, max-age=31536000, immutable", "text/css; charset=utf-8", false},
		{"other static file", "GET", "/favicon.svg", 200, "<svg/>", "public, max-age=3600", "image/svg+xml", false},
		{"missing asset is a 404", "GET", "/assets/index-old99.js", 404, "no such asset", "", "application/problem+json", false},
		{"unknown api path is problem json", "GET", "/api/v1/nope", 404, "not_found", "", "application/problem+json", false},
		{"api route wins", "GET", "/api/v1/me", 200, "me", "", "text/plain; charset=UTF-8", false},
		{"path traversal stays inside", "GET", "/../../etc/passwd", 200, "<div id=root>", "no-cache", "text/html; charset=utf-8", true},
		{"head of the shell", "HEAD", "/accounts", 200, "", "no-cache", "text/html; charset=utf-8", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tt.body)
			require.Equal(t, tt.cache, rec.Header().Get("Cache-Control"))
			require.Equal(t, tt.ctype, rec.Header().Get(echo.HeaderContentType))
			if tt.csp {
				require.Contains(t, rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
			} else {
				require.Empty(t, rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

func TestUIHandlerNotBuilt(t *testing.T) {
	t.Parallel()
	e := uiTestServer(fstest.MapFS{}, false)
	for _, p := range []string{"/", "/findings"} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Contains(t, rec.Body.String(), "The web UI was not built: run <code>make frontend</code>")
		require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/missing", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

// TestUIRoutesEmbedded registers the real embedded assets: whichever way this binary
// was built (with or without `make frontend`), GET / answers 200 with HTML.
func TestUIRoutesEmbedded(t *testing.T) {
	t.Parallel()
	s := &Server{echo: echo.New()}
	s.uiRoutes()
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get(echo.HeaderContentType), "text/html")
	_, built := frontend.Assets()
	if built {
		require.Contains(t, rec.Body.String(), `<div id="root">`)
	} else {
		require.Contains(t, rec.Body.String(), "The web UI was not built")
	}
}
