package api_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/auth"
)

// collectionGETs are the GET routes without an ETag: lists, searches and exports (their
// pages move under them) and the summary (it carries the time of the request). Every
// other GET under /api/v1 must be in api.ETagRoutes.
var collectionGETs = []string{
	"/api/v1/summary",
	"/api/v1/users", "/api/v1/api-keys", "/api/v1/audit-log", "/api/v1/accounts", "/api/v1/accounts/:account_id/scans",
	"/api/v1/mute-rules", "/api/v1/iam/access", "/api/v1/findings", "/api/v1/findings/facets", "/api/v1/findings/export",
	"/api/v1/resources", "/api/v1/resources/facets", "/api/v1/resources/:resource_id/versions", "/api/v1/drift",
	"/api/v1/checks", "/api/v1/custom-checks", "/api/v1/compliance/frameworks",
}

var etagRE = regexp.MustCompile(`^"[A-Za-z0-9_-]{24}"$`)

// TestETagRoutesAreDecided: every GET route is either a single object with an ETag or a
// collection without one, and the document declares exactly what the code does.
func TestETagRoutesAreDecided(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	gets := map[string]bool{}
	writes := map[string][]string{}
	for _, r := range srv.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || strings.HasSuffix(r.Path, "*") {
			continue
		}
		switch r.Method {
		case http.MethodGet:
			gets[r.Path] = true
		case http.MethodPatch, http.MethodPut, http.MethodDelete:
			writes[r.Path] = append(writes[r.Path], r.Method)
		}
	}
	for p := range gets {
		require.True(t, slices.Contains(api.ETagRoutes, p) != slices.Contains(collectionGETs, p),
			"GET %s must be in exactly one of api.etagRoutes (single object) and collectionGETs", p)
	}
	for _, p := range append(slices.Clone(api.ETagRoutes), collectionGETs...) {
		require.True(t, gets[p], "%s is listed but is not a GET route", p)
	}

	doc := loadSpec(t)
	etag := map[string]bool{}
	for _, p := range api.ETagRoutes {
		etag[p] = true
	}
	for path, item := range doc.Paths.Map() {
		echoPath := regexp.MustCompile(`\{([a-z_]+)\}`).ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			params := map[string]bool{}
			for _, p := range op.Parameters {
				if p.Value.In == "header" {
					params[p.Value.Name] = true
				}
			}
			name := method + " " + path
			hasGET := etag[echoPath]
			switch {
			case method == http.MethodGet:
				require.Equal(t, hasGET, params["If-None-Match"], "%s: If-None-Match declared iff it has an ETag", name)
				require.Equal(t, hasGET, op.Responses.Status(304) != nil, "%s: 304 declared iff it has an ETag", name)
				if hasGET {
					require.NotNil(t, op.Responses.Status(200).Value.Headers["ETag"], "%s: 200 declares ETag", name)
				}
			case method == http.MethodPatch || method == http.MethodPut || method == http.MethodDelete:
				require.Equal(t, hasGET, params["If-Match"], "%s: If-Match declared iff the object has an ETag", name)
				require.Equal(t, hasGET, op.Responses.Status(412) != nil, "%s: 412 declared iff the object has an ETag", name)
			default:
				require.False(t, params["If-Match"] || params["If-None-Match"], "%s declares a precondition", name)
			}
		}
	}
}

// etagFixture is a server with two tenants and the URL of every single object of A.
type etagFixture struct {
	*env
	urls map[string]string // route -> URL of one of A's objects
}

func newETagFixture(t *testing.T) etagFixture {
	t.Helper()
	e := setup(t)
	iam := seedIAM(t, e)
	viewer := bearer(e.A.Keys[auth.RoleViewer])
	fl := e.do("GET", "/api/v1/compliance/frameworks", nil, viewer...)
	require.Equal(t, http.StatusOK, fl.Code, string(fl.Body))
	fwID := fl.json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	fw := e.do("GET", "/api/v1/compliance/frameworks/"+fwID, nil, viewer...)
	ctrl := fw.json(t)["controls_posture"].([]any)[0].(map[string]any)["id"].(string)
	res := e.A.Estate.Resources["alpha-public"].String()
	return etagFixture{env: e, urls: map[string]string{
		"/api/v1/me":                                                       "/api/v1/me",
		"/api/v1/settings":                                                 "/api/v1/settings",
		"/api/v1/accounts/aws/onboarding":                                  "/api/v1/accounts/aws/onboarding",
		"/api/v1/accounts/:account_id":                                     "/api/v1/accounts/" + e.A.AccountID.String(),
		"/api/v1/scans/:scan_id":                                           "/api/v1/scans/" + e.A.ScanID.String(),
		"/api/v1/iam/principals/:resource_id/effective":                    "/api/v1/iam/principals/" + iam["alpha-admin"] + "/effective",
		"/api/v1/findings/:finding_id":                                     "/api/v1/findings/" + e.A.Estate.Findings["aws.s3.bucket_no_public_read alpha-public"].String(),
		"/api/v1/resources/:resource_id":                                   "/api/v1/resources/" + res,
		"/api/v1/resources/:resource_id/versions/:version":                 "/api/v1/resources/" + res + "/versions/1",
		"/api/v1/resources/:resource_id/diff":                              "/api/v1/resources/" + res + "/diff?from=1&to=2",
		"/api/v1/resources/:resource_id/at":                                "/api/v1/resources/" + res + "/at?time=" + time.Now().UTC().Format(time.RFC3339),
		"/api/v1/checks/:check_id":                                         "/api/v1/checks/aws.s3.bucket_no_public_read",
		"/api/v1/custom-checks/:custom_check_id":                           "/api/v1/custom-checks/" + e.A.Estate.CustomCheckID.String(),
		"/api/v1/compliance/frameworks/:framework_id":                      "/api/v1/compliance/frameworks/" + fwID + "?account_id=" + e.A.AccountID.String(),
		"/api/v1/compliance/frameworks/:framework_id/controls/:control_id": "/api/v1/compliance/frameworks/" + fwID + "/controls/" + ctrl,
	}}
}

// TestETagEverySingleObject: each single-object GET answers a strong ETag and a 304 to
// If-None-Match naming it (which also proves each representation is deterministic).
func TestETagEverySingleObject(t *testing.T) {
	t.Parallel()
	f := newETagFixture(t)
	admin := bearer(f.A.Keys[auth.RoleAdmin])
	for _, route := range api.ETagRoutes {
		t.Run(route, func(t *testing.T) {
			url, ok := f.urls[route]
			require.True(t, ok, "add a URL for %s to newETagFixture", route)
			r := f.do("GET", url, nil, admin...)
			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			tag := r.Header.Get("ETag")
			require.Regexp(t, etagRE, tag)
			require.Equal(t, "private, no-cache", r.Header.Get("Cache-Control"))

			nm := f.do("GET", url, nil, append(slices.Clone(admin), "If-None-Match", tag)...)
			require.Equal(t, http.StatusNotModified, nm.Code, string(nm.Body))
			require.Empty(t, nm.Body)
			require.Equal(t, tag, nm.Header.Get("ETag"))
			require.Empty(t, nm.Header.Get("Content-Type"))

			// Tenant B asking for A's object with A's ETag learns nothing: 404 as always
			// (except objects that belong to no tenant: the catalog, the caller itself).
			b := f.do("GET", url, nil, append(bearer(f.B.Keys[auth.RoleAdmin]), "If-None-Match", tag)...)
			require.NotEqual(t, http.StatusNotModified, b.Code, "tenant B got a 304 with A's ETag")
			if strings.Contains(route, ":") && !strings.HasPrefix(route, "/api/v1/checks/") && !strings.HasPrefix(route, "/api/v1/compliance/") {
				require.Equal(t, http.StatusNotFound, b.Code, string(b.Body))
				require.Empty(t, b.Header.Get("ETag"))
			}
		})
	}
}

func TestETagRoundTrip(t *testing.T) {
	t.Parallel()
	e := setup(t)
	viewer, admin := bearer(e.A.Keys[auth.RoleViewer]), bearer(e.A.Keys[auth.RoleAdmin])
	url := "/api/v1/accounts/" + e.A.AccountID.String()
	with := func(h []string, kv ...string) []string { return append(slices.Clone(h), kv...) }

	r := e.do("GET", url, nil, viewer...)
	require.Equal(t, http.StatusOK, r.Code)
	tag := r.Header.Get("ETag")
	require.Regexp(t, etagRE, tag)

	t.Run("If-None-Match forms", func(t *testing.T) {
		for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			require.Equal(t, http.StatusNotModified, e.do("GET", url, nil, with(viewer, "If-None-Match", inm)...).Code, inm)
		}
		for _, inm := range []string{`"other"`, strings.Trim(tag, `"`), "garbage"} {
			require.Equal(t, http.StatusOK, e.do("GET", url, nil, with(viewer, "If-None-Match", inm)...).Code, inm)
		}
	})

	t.Run("the same representation has the same ETag for every caller of the tenant", func(t *testing.T) {
		require.Equal(t, tag, e.do("GET", url, nil, admin...).Header.Get("ETag"))
	})

	t.Run("a change changes the ETag", func(t *testing.T) {
		p := e.do("PATCH", url, map[string]any{"name": "renamed"}, admin...)
		require.Equal(t, http.StatusOK, p.Code, string(p.Body))
		newTag := p.Header.Get("ETag")
		require.Regexp(t, etagRE, newTag)
		require.NotEqual(t, tag, newTag)
		g := e.do("GET", url, nil, with(viewer, "If-None-Match", tag)...)
		require.Equal(t, http.StatusOK, g.Code)
		require.Contains(t, string(g.Body), "renamed")
		require.Equal(t, newTag, g.Header.Get("ETag"), "the PATCH answered the ETag a GET now answers")
		require.Equal(t, http.StatusNotModified, e.do("GET", url, nil, with(viewer, "If-None-Match", newTag)...).Code)
		tag = newTag
	})

	t.Run("identical content in two tenants has different ETags", func(t *testing.T) {
		a := e.do("GET", "/api/v1/checks/aws.s3.bucket_no_public_read", nil, viewer...)
		b := e.do("GET", "/api/v1/checks/aws.s3.bucket_no_public_read", nil, bearer(e.B.Keys[auth.RoleViewer])...)
		require.Equal(t, string(a.Body), string(b.Body))
		require.NotEqual(t, a.Header.Get("ETag"), b.Header.Get("ETag"))
		require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/checks/aws.s3.bucket_no_public_read", nil,
			append(bearer(e.B.Keys[auth.RoleViewer]), "If-None-Match", a.Header.Get("ETag"))...).Code)
	})
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin, analyst, viewer := bearer(e.A.Keys[auth.RoleAdmin]), bearer(e.A.Keys[auth.RoleAnalyst]), bearer(e.A.Keys[auth.RoleViewer])
	with := func(h []string, kv ...string) []string { return append(slices.Clone(h), kv...) }
	acct := "/api/v1/accounts/" + e.A.AccountID.String()
	tagOf := func(url string) string {
		r := e.do("GET", url, nil, viewer...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		return r.Header.Get("ETag")
	}

	t.Run("stale ETag: 412 and nothing changes", func(t *testing.T) {
		stale := tagOf(acct)
		require.Equal(t, http.StatusOK, e.do("PATCH", acct, map[string]any{"name": "first"}, admin...).Code)
		before := e.do("GET", acct, nil, viewer...)
		r := e.do("PATCH", acct, map[string]any{"name": "second"}, with(admin, "If-Match", stale)...)
		require.Equal(t, http.StatusPreconditionFailed, r.Code, string(r.Body))
		require.Equal(t, "precondition_failed", r.problemCode(t))
		after := e.do("GET", acct, nil, viewer...)
		require.Equal(t, string(before.Body), string(after.Body))
		// Weak tags never match If-Match (strong comparison).
		cur := tagOf(acct)
		require.Equal(t, http.StatusPreconditionFailed, e.do("PATCH", acct, map[string]any{"name": "x"}, with(admin, "If-Match", "W/"+cur)...).Code)
	})

	t.Run("current ETag or *: applied, with the new ETag", func(t *testing.T) {
		cur := tagOf(acct)
		r := e.do("PATCH", acct, map[string]any{"name": "third"}, with(admin, "If-Match", `"old", `+cur)...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		require.Equal(t, tagOf(acct), r.Header.Get("ETag"))
		r = e.do("PATCH", acct, map[string]any{"name": "fourth"}, with(admin, "If-Match", "*")...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		// If-None-Match on a change: refused while the object is as named.
		r = e.do("PATCH", acct, map[string]any{"name": "fifth"}, with(admin, "If-None-Match", tagOf(acct))...)
		require.Equal(t, http.StatusPreconditionFailed, r.Code)
		r = e.do("PATCH", acct, map[string]any{"name": "fifth"}, with(admin, "If-None-Match", `"other"`)...)
		require.Equal(t, http.StatusOK, r.Code)
	})

	t.Run("settings", func(t *testing.T) {
		stale := tagOf("/api/v1/settings")
		require.Equal(t, http.StatusOK, e.do("PATCH", "/api/v1/settings", map[string]any{"retention_days": 90}, with(admin, "If-Match", stale)...).Code)
		r := e.do("PATCH", "/api/v1/settings", map[string]any{"retention_days": 60}, with(admin, "If-Match", stale)...)
		require.Equal(t, http.StatusPreconditionFailed, r.Code)
		require.Contains(t, string(e.do("GET", "/api/v1/settings", nil, viewer...).Body), `"retention_days":90`)
	})

	t.Run("custom check: PUT and DELETE", func(t *testing.T) {
		url := "/api/v1/custom-checks/" + e.A.Estate.CustomCheckID.String()
		stale := tagOf(url)
		r := e.do("PUT", url, map[string]any{"yaml": customCheckYAML("alpha")}, with(analyst, "If-Match", stale)...)
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		cur := r.Header.Get("ETag")
		require.Regexp(t, etagRE, cur)
		require.Equal(t, http.StatusPreconditionFailed, e.do("DELETE", url, nil, with(analyst, "If-Match", `"other"`)...).Code)
		require.Equal(t, http.StatusOK, e.do("GET", url, nil, viewer...).Code, "not deleted")
		require.Equal(t, http.StatusNoContent, e.do("DELETE", url, nil, with(analyst, "If-Match", tagOf(url))...).Code)
		// Gone: If-Match cannot reveal anything more than the 404.
		require.Equal(t, http.StatusNotFound, e.do("DELETE", url, nil, with(analyst, "If-Match", cur)...).Code)
	})

	t.Run("the role check comes first", func(t *testing.T) {
		r := e.do("PATCH", acct, map[string]any{"name": "viewer"}, with(viewer, "If-Match", `"stale"`)...)
		require.Equal(t, http.StatusForbidden, r.Code)
		require.Equal(t, "forbidden", r.problemCode(t))
	})

	t.Run("objects without an ETag refuse If-Match", func(t *testing.T) {
		r := e.do("DELETE", "/api/v1/mute-rules/"+e.A.MuteID.String(), nil, with(analyst, "If-Match", `"x"`)...)
		require.Equal(t, http.StatusBadRequest, r.Code)
		require.Equal(t, "bad_request", r.problemCode(t))
		require.Contains(t, string(r.Body), "no ETag")
		require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/mute-rules", nil, viewer...).Code)
	})

	t.Run("another tenant's object: 404, never 412", func(t *testing.T) {
		before := e.snapshot(e.A.ID)
		tag := tagOf(acct)
		for _, ifMatch := range []string{tag, `"wrong"`, "*"} {
			r := e.do("PATCH", acct, map[string]any{"name": "hijacked"}, append(bearer(e.B.Keys[auth.RoleOwner]), "If-Match", ifMatch)...)
			require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
			r = e.do("DELETE", acct, nil, append(bearer(e.B.Keys[auth.RoleOwner]), "If-Match", ifMatch)...)
			require.Equal(t, http.StatusNotFound, r.Code, string(r.Body))
		}
		require.Equal(t, before, e.snapshot(e.A.ID))
	})
}

// TestIfMatchLostUpdate: concurrent changes that all start from the same ETag cannot
// all win. The first writer is held inside its UPDATE by a row lock; the object lock
// makes the next writer wait before it even evaluates its precondition (without the
// lock every writer would pass the check, then all apply). Once released, exactly one
// change applies and the others get 412.
func TestIfMatchLostUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t)
	admin := bearer(e.A.Keys[auth.RoleAdmin])
	acct := "/api/v1/accounts/" + e.A.AccountID.String()
	tag := e.do("GET", acct, nil, admin...).Header.Get("ETag")

	hold, err := e.db.Owner.Begin(ctx)
	require.NoError(t, err)
	defer hold.Rollback(ctx) //nolint:errcheck
	_, err = hold.Exec(ctx, "SELECT 1 FROM cloud_accounts WHERE id = $1 FOR UPDATE", e.A.AccountID)
	require.NoError(t, err)

	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.do("PATCH", acct, map[string]any{"name": "writer " + uuid.NewString()}, append(slices.Clone(admin), "If-Match", tag)...).Code
		}()
	}
	// One writer waits on the row, another on the object lock.
	require.Eventually(t, func() bool {
		var row, object int
		err := e.db.Owner.QueryRow(ctx, `SELECT count(*) FILTER (WHERE l.locktype IN ('transactionid', 'tuple')),
				count(*) FILTER (WHERE l.locktype = 'advisory')
			FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE a.datname = current_database() AND NOT l.granted`).Scan(&row, &object)
		return err == nil && row >= 1 && object >= 1
	}, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, hold.Rollback(ctx))
	wg.Wait()
	sort.Ints(codes)
	want := []int{200}
	for range n - 1 {
		want = append(want, 412)
	}
	require.Equal(t, want, codes)
}

func TestEntityTagParsing(t *testing.T) {
	t.Parallel()
	cur := `"abc"`
	for _, tt := range []struct {
		list          string
		strong, weakM bool
	}{
		{`"abc"`, true, true},
		{`W/"abc"`, false, true},
		{`*`, true, true},
		{` "x" , "abc"`, true, true},
		{`"x",W/"abc"`, false, true},
		{`"x,y", "abc"`, true, true},
		{`abc`, false, false},
		{`"abc`, false, false},
		{`"ab"`, false, false},
		{``, false, false},
		{`junk, "abc"`, true, true},
	} {
		require.Equal(t, tt.strong, api.EntityTagsMatch(tt.list, cur, true), "strong %q", tt.list)
		require.Equal(t, tt.weakM, api.NoneMatchFails(tt.list, cur), "weak %q", tt.list)
	}
	a, b := uuid.New(), uuid.New()
	require.Equal(t, api.ETagOf(a, "application/json", []byte("{}")), api.ETagOf(a, "application/json", []byte("{}")))
	require.NotEqual(t, api.ETagOf(a, "application/json", []byte("{}")), api.ETagOf(b, "application/json", []byte("{}")))
	require.NotEqual(t, api.ETagOf(a, "application/json", []byte("{}")), api.ETagOf(a, "text/plain", []byte("{}")))
	require.NotEqual(t, api.ETagOf(a, "application/json", []byte("{}")), api.ETagOf(a, "application/json", []byte("[]")))
	require.Regexp(t, etagRE, api.ETagOf(a, "", nil))
}
