package api

import (
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/frontend"
)

// uiCSP is the Content-Security-Policy of the single-page app. Scripts come only from
// our own origin (Vite emits no inline script); styles allow inline because the
// component library injects its CSS variables at run time; nothing may frame the UI.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// notBuiltPage answers GET / when the binary was built without the UI.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Vigil</h1>
<p>The web UI was not built: run <code>make frontend</code>, then <code>make build</code>.</p>
<p>The REST API is served under <a href="/api/v1/me"><code>/api/v1</code></a>.</p>
</body></html>
`

// uiRoutes serves the embedded web UI (frontend.Assets): hashed files under /assets/
// are cached for a year, every other path that is not an API route falls back to
// index.html so that client-side routes survive a reload.
func (s *Server) uiRoutes() {
	assets, built := frontend.Assets()
	h := uiHandler(assets, built)
	s.echo.GET("/", h)
	s.echo.HEAD("/", h)
	s.echo.GET("/*", h)
	s.echo.HEAD("/*", h)
}

// uiHandler serves files from assets (the built dist folder). built says whether
// assets holds an index.html.
func uiHandler(assets fs.FS, built bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		// API paths never fall back to the UI: a typo must answer problem+json 404.
		if p == "/api" || strings.HasPrefix(p, "/api/") {
			return NewProblem(http.StatusNotFound, CodeNotFound, "no such route: "+c.Request().Method+" "+p)
		}
		if !built {
			c.Response().Header().Set("Cache-Control", "no-cache")
			return c.HTML(http.StatusOK, notBuiltPage)
		}
		name := strings.TrimPrefix(path.Clean("/"+p), "/")
		if name != "" && name != "index.html" {
			err := serveUIFile(c, assets, name)
			if err == nil || !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			// A missing hashed asset is a real 404 (a stale page asking for an old
			// build), not the app shell, which would fail to parse as a script.
			if strings.HasPrefix(name, "assets/") {
				return NewProblem(http.StatusNotFound, CodeNotFound, "no such asset: "+p)
			}
		}
		return serveIndex(c, assets)
	}
}

// serveUIFile writes one static file; fs.ErrNotExist when there is none (or it is a
// folder).
func serveUIFile(c echo.Context, assets fs.FS, name string) error {
	f, err := assets.Open(name)
	if err != nil {
		return fs.ErrNotExist
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return fs.ErrNotExist
	}
	h := c.Response().Header()
	if strings.HasPrefix(name, "assets/") {
		// Vite puts a content hash in every file name under assets/.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return writeFile(c, f, st, ctype)
}

func serveIndex(c echo.Context, assets fs.FS) error {
	f, err := assets.Open("index.html")
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	// The shell names the current hashed assets: always revalidate it.
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", uiCSP)
	return writeFile(c, f, st, "text/html; charset=utf-8")
}

// writeFile uses http.ServeContent when the file can seek (embed.FS files can), which
// brings Last-Modified/If-Modified-Since, ranges and HEAD for free.
func writeFile(c echo.Context, f fs.File, st fs.FileInfo, ctype string) error {
	c.Response().Header().Set(echo.HeaderContentType, ctype)
	if rs, ok := f.(io.ReadSeeker); ok {
		http.ServeContent(c.Response(), c.Request(), st.Name(), st.ModTime(), rs)
		return nil
	}
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err := io.Copy(c.Response(), f)
	return err
}
