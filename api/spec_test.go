package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store/storetest"
)

// loadSpec loads and validates the embedded OpenAPI document.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIDocument())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context, openapi3.EnableExamplesValidation()))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	return doc
}

// withSpecRoutes returns srv with the public contract routes registered (as routes.go
// does through specRoutes; registered here too while routes.go does not call it yet).
func withSpecRoutes(t *testing.T, srv *api.Server) *api.Server {
	t.Helper()
	for _, r := range srv.Echo().Routes() {
		if r.Path == "/api/docs" {
			return srv
		}
	}
	document, reference, err := api.SpecHandlers()
	require.NoError(t, err)
	srv.Echo().GET("/api/openapi.yaml", document).Name = "public"
	srv.Echo().GET("/api/docs", reference).Name = "public"
	return srv
}

var camelCase = regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)

// TestOpenAPIDocument: the document is valid OpenAPI 3.1, and every operation follows
// the conventions that make the contract usable: a camelCase operationId, a declared
// tag, a permission, and the error responses its shape implies.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		tags[tag.Name] = true
	}
	perms := map[string]bool{"public": true}
	for _, p := range auth.Permissions() {
		perms[string(p)] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			t.Run(name, func(t *testing.T) {
				require.Regexp(t, camelCase, op.OperationID)
				require.NotEmpty(t, op.Summary)
				require.Len(t, op.Tags, 1)
				require.True(t, tags[op.Tags[0]], "tag %q is not declared", op.Tags[0])
				public := op.Security != nil && len(*op.Security) == 0
				perm, _ := op.Extensions["x-vigil-permission"].(string)
				if !strings.HasPrefix(path, "/api/v1/") {
					require.True(t, public, "operational endpoints are public")
					return
				}
				require.True(t, perms[perm], "x-vigil-permission %q is not a permission", perm)
				require.Equal(t, public, perm == "public")
				statuses := op.Responses.Map()
				want := []string{"429", "500"}
				if !public {
					want = append(want, "401", "403")
				}
				if op.RequestBody != nil {
					want = append(want, "400", "413", "415", "422")
				}
				for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
					if p.Value.In == "path" {
						want = append(want, "404")
					}
					if p.Value.In == "query" {
						want = append(want, "400", "422")
					}
				}
				for _, code := range want {
					require.Contains(t, statuses, code, "%s lacks a %s response", name, code)
				}
				for code, resp := range statuses {
					if code[0] == '4' || code[0] == '5' {
						require.Contains(t, resp.Value.Content, "application/problem+json", "%s %s", name, code)
					}
				}
			})
		}
	}
}

// specPath turns an Echo route path into the document's template.
func specPath(echoPath string) string {
	return paramRE.ReplaceAllString(echoPath, "{$1}")
}

// TestOpenAPIMatchesRouter: every route of the router has an operation in the document
// and every operation has a route, with the same permission. A route added without
// its contract (or the reverse) fails here.
func TestOpenAPIMatchesRouter(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	db := storetest.New(t)
	srv, err := api.New(testConfig(t, api.Config{DB: db.App}))
	require.NoError(t, err)
	withSpecRoutes(t, srv)

	routes := map[string]string{} // "GET /api/v1/x/{id}" -> permission
	for _, r := range srv.Echo().Routes() {
		api := strings.HasPrefix(r.Path, "/api/")
		ops := slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, r.Path)
		if !(api || ops) || strings.HasSuffix(r.Path, "*") || r.Method == "echo_route_not_found" {
			continue
		}
		perm := r.Name
		if ops {
			perm = "public"
		}
		routes[r.Method+" "+specPath(r.Path)] = perm
	}
	require.Greater(t, len(routes), 30)

	documented := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			perm, _ := op.Extensions["x-vigil-permission"].(string)
			if perm == "" {
				perm = "public"
			}
			documented[method+" "+path] = perm
		}
	}
	var missing, extra []string
	for k := range routes {
		if _, ok := documented[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if _, ok := routes[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	require.Empty(t, missing, "routes without an operation in api/openapi.yaml")
	require.Empty(t, extra, "operations in api/openapi.yaml without a route")
	for k, perm := range routes {
		require.Equal(t, perm, documented[k], "%s: x-vigil-permission differs from the route's permission", k)
	}
}

// TestSpecHandlers: the document is served as is, and the reference page lists every
// operation and schema without loading anything from elsewhere.
func TestSpecHandlers(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	srv, _ := newServer(t)
	withSpecRoutes(t, srv)

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.yaml", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/yaml", rec.Header().Get("Content-Type"))
	require.Equal(t, api.OpenAPIDocument(), rec.Body.Bytes())

	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/docs", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
	page := rec.Body.String()
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			require.Contains(t, page, `id="op-`+op.OperationID+`"`)
			require.Contains(t, page, `<span class="path">`+path+`</span>`, "%s %s", method, path)
		}
	}
	for name := range doc.Components.Schemas {
		require.Contains(t, page, `id="schema-`+name+`"`)
	}
	// Permissions and parameters are shown; links point inside the page.
	require.Contains(t, page, "permission users:manage (admin or above)")
	require.Contains(t, page, "<code>account_id</code> <span class=\"req\">required</span>")
	require.Contains(t, page, `<a href="#schema-Problem">Problem</a>`)
	for _, remote := range []string{"<script", "src=\"http", "href=\"http", "@import"} {
		require.NotContains(t, page, remote)
	}
	// Descriptions are escaped, never trusted as markup.
	out, err := api.RenderAPIReference([]byte("openapi: 3.1.0\ninfo: {title: t, version: '1', description: \"<script>x</script> `a<b`\"}\npaths: {}\n"))
	require.NoError(t, err)
	require.Contains(t, string(out), "&lt;script&gt;x&lt;/script&gt; <code>a&lt;b</code>")
	require.NotContains(t, string(out), "<script>")

	for _, bad := range []string{"[1, 2", "- a list", "openapi: 3.1.0\ninfo: {title: t}\n"} {
		_, err := api.RenderAPIReference([]byte(bad))
		require.Error(t, err, bad)
	}
}

// TestSpecLoadsWithoutNetwork guards the document against references that a loader
// would fetch: everything is local.
func TestSpecLoadsWithoutNetwork(t *testing.T) {
	t.Parallel()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(api.OpenAPIDocument())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
}
