package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

// tenantFixture is one tenant with an owner login and an API key per role.
type tenantFixture struct {
	ID        uuid.UUID
	OwnerID   uuid.UUID
	Email     string
	Password  string
	Keys      map[auth.Role]string
	KeyIDs    map[auth.Role]uuid.UUID
	AnalystID uuid.UUID
	AccountID uuid.UUID
	ScanID    uuid.UUID
	MuteID    uuid.UUID
	Estate    estate
}

type env struct {
	t   *testing.T
	srv *api.Server
	db  *storetest.DB
	A   tenantFixture
	B   tenantFixture
}

func setup(t *testing.T) *env {
	t.Helper()
	db := storetest.New(t)
	srv, err := api.New(testConfig(t, api.Config{DB: db.App, RateLimit: 1000}))
	require.NoError(t, err)
	e := &env{t: t, srv: srv, db: db}
	e.A = e.newTenant("alpha")
	e.B = e.newTenant("beta")
	return e
}

func (e *env) newTenant(slug string) tenantFixture {
	t := e.t
	ctx := context.Background()
	f := tenantFixture{Email: "owner@" + slug + ".example.com", Password: "correct horse " + slug, Keys: map[auth.Role]string{}, KeyIDs: map[auth.Role]uuid.UUID{}}
	hash, err := auth.HashPassword(f.Password)
	require.NoError(t, err)
	f.ID, f.OwnerID, err = e.db.App.TenantCreate(ctx, store.TenantCreateParams{Name: strings.ToUpper(slug) + " Corp", Slug: slug,
		OwnerEmail: f.Email, OwnerName: slug + " owner", OwnerPasswordHash: hash})
	require.NoError(t, err)
	require.NoError(t, e.db.App.TenantTx(ctx, f.ID, func(tx pgx.Tx) error {
		for _, r := range auth.Roles {
			key, prefix := auth.NewAPIKey()
			k, err := store.APIKeyCreate(ctx, tx, slug+" "+string(r)+" key", prefix, auth.HashToken(key), string(r), &f.OwnerID, nil)
			if err != nil {
				return err
			}
			f.Keys[r], f.KeyIDs[r] = key, k.ID
		}
		u, err := store.UserInvite(ctx, tx, "analyst@"+slug+".example.com", slug+" analyst", "analyst")
		if err != nil {
			return err
		}
		f.AnalystID = u.ID
		acct, err := store.AccountCreate(ctx, tx, store.Account{ID: uuid.New(), Provider: "aws", Name: slug + " prod",
			CredentialKind: "default_chain", Config: map[string]any{}, Regions: []string{}, Schedule: "0 3 * * *", Timezone: "UTC"})
		if err != nil {
			return err
		}
		f.AccountID = acct.ID
		scan, err := store.ScanCreate(ctx, tx, acct.ID, "manual", "test")
		if err != nil {
			return err
		}
		f.ScanID = scan.ID
		if f.Estate, err = seedEstate(ctx, tx, acct.ID, slug); err != nil {
			return err
		}
		m, err := store.MuteRuleCreate(ctx, tx, store.MuteRule{CheckPattern: "aws.s3.*", Justification: slug + " accepted risk", CreatedBy: "test"})
		f.MuteID = m.ID
		return err
	}))
	return f
}

type response struct {
	Code   int
	Body   []byte
	Header http.Header
	Cookie []*http.Cookie
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), string(r.Body))
	return m
}

func (r response) problemCode(t *testing.T) string {
	t.Helper()
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "status %d: %s", r.Code, r.Body)
	return r.json(t)["code"].(string)
}

// do sends a request; body may be a string (sent raw) or a value (sent as JSON).
func (e *env) do(method, path string, body any, headers ...string) response {
	e.t.Helper()
	var rdr *bytes.Reader
	switch b := body.(type) {
	case nil:
		rdr = bytes.NewReader(nil)
	case string:
		rdr = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		rdr = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rdr)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == ":remote" {
			req.RemoteAddr = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return response{Code: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header(), Cookie: rec.Result().Cookies()}
}

func bearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

// sampleBodies gives each state-changing route a valid body, so the walk reaches the
// handler's lookup instead of stopping at validation. A new route without one fails
// the walk: add it here.
// sampleQueries are the required query parameters of the routes that have some, so
// that a walk reaches the handler (the document's validation answers 422 before it).
var sampleQueries = map[string]string{
	"GET /api/v1/resources/:resource_id/diff": "?from=1&to=1",
	"GET /api/v1/resources/:resource_id/at":   "?time=2026-01-01T00:00:00Z",
	"GET /api/v1/findings/export":             "?format=json",
	"GET /api/v1/iam/access":                  "?resource=arn:aws:s3:::alpha-public",
}

var sampleBodies = map[string]any{
	"POST /api/v1/iam/simulate":                     map[string]any{"principal": "arn:aws:iam::123456789012:user/alpha-admin", "action": "s3:GetObject", "resource": "arn:aws:s3:::alpha-public/x"},
	"POST /api/v1/auth/logout":                      nil,
	"POST /api/v1/auth/switch-tenant":               map[string]any{"tenant_id": "{tenant_id}"},
	"POST /api/v1/me/password":                      map[string]any{"current_password": "x", "new_password": "a long new password"},
	"POST /api/v1/users":                            map[string]any{"email": "walker@example.com", "role": "viewer"},
	"PATCH /api/v1/users/:user_id":                  map[string]any{"role": "viewer"},
	"DELETE /api/v1/users/:user_id":                 nil,
	"POST /api/v1/api-keys":                         map[string]any{"name": "walker", "role": "viewer"},
	"DELETE /api/v1/api-keys/:key_id":               nil,
	"PATCH /api/v1/settings":                        map[string]any{"retention_days": 30},
	"POST /api/v1/accounts":                         map[string]any{"provider": "aws", "name": "walker", "credential_kind": "default_chain"},
	"PATCH /api/v1/accounts/:account_id":            map[string]any{"name": "renamed"},
	"DELETE /api/v1/accounts/:account_id":           nil,
	"POST /api/v1/accounts/:account_id/test":        nil,
	"POST /api/v1/accounts/:account_id/scans":       nil,
	"POST /api/v1/scans/:scan_id/cancel":            nil,
	"POST /api/v1/mute-rules":                       map[string]any{"check_pattern": "aws.ec2.*", "justification": "walk"},
	"DELETE /api/v1/mute-rules/:mute_id":            nil,
	"POST /api/v1/findings/mute":                    map[string]any{"finding_ids": []string{"6f1c3bde-0d7e-4c41-9a57-1f7f3c1a9b10"}, "justification": "walk"},
	"POST /api/v1/custom-checks":                    map[string]any{"yaml": customCheckYAML("walker")},
	"POST /api/v1/custom-checks/dry-run":            map[string]any{"yaml": customCheckYAML("walker")},
	"PUT /api/v1/custom-checks/:custom_check_id":    map[string]any{"yaml": customCheckYAML("walker")},
	"DELETE /api/v1/custom-checks/:custom_check_id": nil,
}

var paramRE = regexp.MustCompile(`:([a-z_]+)`)

// apiRoutes lists the router's authenticated API routes with their permission.
func apiRoutes(t *testing.T, srv *api.Server) []struct {
	Method, Path string
	Perm         auth.Permission
} {
	t.Helper()
	var out []struct {
		Method, Path string
		Perm         auth.Permission
	}
	for _, r := range srv.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Name == "public" || strings.HasSuffix(r.Path, "*") {
			continue
		}
		perm := auth.Permission(r.Name)
		require.Contains(t, auth.Permissions(), perm, "route %s %s does not declare a permission", r.Method, r.Path)
		out = append(out, struct {
			Method, Path string
			Perm         auth.Permission
		}{r.Method, r.Path, perm})
	}
	require.GreaterOrEqual(t, len(out), 12)
	return out
}

func fill(path string, ids map[string]string) string {
	return paramRE.ReplaceAllStringFunc(path, func(m string) string {
		if v, ok := ids[m[1:]]; ok {
			return v
		}
		panic("no fixture id for path parameter " + m)
	})
}

func fillBody(body any, ids map[string]string) any {
	m, ok := body.(map[string]any)
	if !ok {
		return body
	}
	out := map[string]any{}
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasPrefix(s, "{") {
			v = ids[strings.Trim(s, "{}")]
		}
		out[k] = v
	}
	return out
}

// snapshot captures every row of a tenant (with the owner's rights), to prove a walk
// changed nothing.
func (e *env) snapshot(tenant uuid.UUID) string {
	e.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT row_to_json(t)::text FROM (SELECT id, name, slug, retention_days FROM tenants WHERE id = $1) t",
		"SELECT row_to_json(t)::text FROM (SELECT user_id, role FROM memberships WHERE tenant_id = $1 ORDER BY user_id) t",
		"SELECT row_to_json(t)::text FROM (SELECT u.id, u.email, u.name, u.password_hash FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.tenant_id = $1 ORDER BY u.id) t",
		"SELECT row_to_json(t)::text FROM (SELECT id, name, role, revoked_at, expires_at FROM api_keys WHERE tenant_id = $1 ORDER BY id) t",
		"SELECT row_to_json(t)::text FROM (SELECT id, action, target_id FROM audit_log WHERE tenant_id = $1 ORDER BY id) t",
		"SELECT row_to_json(t)::text FROM (SELECT * FROM cloud_accounts WHERE tenant_id = $1 ORDER BY id) t",
		"SELECT row_to_json(t)::text FROM (SELECT * FROM scans WHERE tenant_id = $1 ORDER BY id) t",
		"SELECT row_to_json(t)::text FROM (SELECT * FROM mute_rules WHERE tenant_id = $1 ORDER BY id) t",
	} {
		rows, err := e.db.Owner.Query(context.Background(), q, tenant)
		require.NoError(e.t, err)
		for rows.Next() {
			var s string
			require.NoError(e.t, rows.Scan(&s))
			b.WriteString(s + "\n")
		}
		require.NoError(e.t, rows.Err())
	}
	return b.String()
}

// TestTenantIsolationRouteWalk calls every API route with tenant B's owner key against
// tenant A's object ids: routes addressing an object answer 404 (not 403: existence is
// not leaked), list routes show none of A's data, and nothing of A changes.
func TestTenantIsolationRouteWalk(t *testing.T) {
	t.Parallel()
	e := setup(t)
	before := e.snapshot(e.A.ID)
	aIDs := map[string]string{
		"user_id": e.A.AnalystID.String(), "key_id": e.A.KeyIDs[auth.RoleViewer].String(), "tenant_id": e.A.ID.String(),
		"account_id": e.A.AccountID.String(), "scan_id": e.A.ScanID.String(), "mute_id": e.A.MuteID.String(),
		"finding_id":  e.A.Estate.Findings["aws.s3.bucket_no_public_read alpha-public"].String(),
		"resource_id": e.A.Estate.Resources["alpha-public"].String(), "version": "1",
		"check_id": e.A.Estate.CustomCheck, "custom_check_id": e.A.Estate.CustomCheckID.String(),
		// Frameworks are global (no tenant owns one): the walk proves an unknown one is 404.
		"framework_id": "alpha-framework", "control_id": "1.1",
	}
	// Everything that identifies tenant A must stay out of B's answers.
	secrets := []string{e.A.ID.String(), e.A.OwnerID.String(), e.A.AnalystID.String(), "alpha.example.com", "ALPHA Corp",
		e.A.AccountID.String(), e.A.ScanID.String(), e.A.MuteID.String(), "alpha prod", "alpha accepted risk",
		"alpha-public", "alpha-logs", "alpha-web-sg", "sg-0alpha", e.A.Estate.CustomCheck, e.A.Estate.CustomCheckID.String()}
	for _, id := range e.A.Estate.Resources {
		secrets = append(secrets, id.String())
	}
	for _, id := range e.A.Estate.Findings {
		secrets = append(secrets, id.String())
	}
	for _, id := range e.A.KeyIDs {
		secrets = append(secrets, id.String())
	}

	for _, r := range apiRoutes(t, e.srv) {
		key := r.Method + " " + r.Path
		t.Run(key, func(t *testing.T) {
			body, ok := sampleBodies[key]
			if r.Method != http.MethodGet {
				require.True(t, ok, "add a sample body for %s to sampleBodies", key)
			}
			path := fill(r.Path, aIDs)
			// Preconditions and idempotency keys must not open a side door: * matches
			// any representation, and a key is claimed before the handler runs.
			headers := bearer(e.B.Keys[auth.RoleOwner])
			switch {
			case r.Method == http.MethodGet:
				headers = append(headers, "If-None-Match", "*")
			case r.Method == http.MethodPost:
				headers = append(headers, "Idempotency-Key", "walk "+key)
			case slices.Contains(api.ETagRoutes, r.Path):
				headers = append(headers, "If-Match", "*")
			}
			resp := e.do(r.Method, path+sampleQueries[key], fillBody(body, aIDs), headers...)
			require.Less(t, resp.Code, 500, string(resp.Body))
			// A problem echoes the caller's own path; that is not a leak.
			shown := strings.ReplaceAll(string(resp.Body), path, "")
			if strings.Contains(r.Path, ":") {
				require.Equal(t, http.StatusNotFound, resp.Code, "%s with another tenant's id: %s", key, resp.Body)
			}
			for _, s := range secrets {
				require.NotContains(t, shown, s, "%s leaks tenant A's data", key)
			}
		})
	}
	// Sessions too: B's owner signed in cannot switch into A.
	login := e.do("POST", "/api/v1/auth/login", map[string]any{"email": e.B.Email, "password": e.B.Password})
	require.Equal(t, http.StatusOK, login.Code, string(login.Body))
	csrf := login.json(t)["csrf_token"].(string)
	sw := e.do("POST", "/api/v1/auth/switch-tenant", map[string]any{"tenant_id": e.A.ID},
		"Cookie", api.SessionCookie+"="+login.Cookie[0].Value, api.CSRFHeader, csrf)
	require.Equal(t, http.StatusNotFound, sw.Code)
	// ... nor sign in to A by naming it.
	l2 := e.do("POST", "/api/v1/auth/login", map[string]any{"email": e.B.Email, "password": e.B.Password, "tenant_id": e.A.ID})
	require.Equal(t, http.StatusNotFound, l2.Code)

	require.Equal(t, before, e.snapshot(e.A.ID), "tenant A's data changed")
}

// TestRolePermissions calls every route with each role's key: a role without the
// route's permission gets 403; one with it gets past the gate (ids point at nothing,
// so nothing is changed and the handler answers 404 or succeeds).
func TestRolePermissions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	nowhere := map[string]string{"user_id": uuid.NewString(), "key_id": uuid.NewString(), "tenant_id": uuid.NewString(),
		"account_id": uuid.NewString(), "scan_id": uuid.NewString(), "mute_id": uuid.NewString(),
		"finding_id": uuid.NewString(), "resource_id": uuid.NewString(), "version": "1", "check_id": "custom.aws.s3.nowhere",
		"custom_check_id": uuid.NewString(), "framework_id": "nowhere", "control_id": "1.1"}
	for _, r := range apiRoutes(t, e.srv) {
		for _, role := range auth.Roles {
			name := fmt.Sprintf("%s %s as %s", r.Method, r.Path, role)
			t.Run(name, func(t *testing.T) {
				body := fillBody(sampleBodies[r.Method+" "+r.Path], nowhere)
				resp := e.do(r.Method, fill(r.Path, nowhere), body, bearer(e.A.Keys[role])...)
				if role.Can(r.Perm) {
					require.NotContains(t, []int{401, 403}, resp.Code, "%s: %s", name, resp.Body)
					require.Less(t, resp.Code, 500, string(resp.Body))
				} else {
					require.Equal(t, http.StatusForbidden, resp.Code, "%s: %s", name, resp.Body)
					require.Equal(t, "forbidden", resp.problemCode(t))
				}
			})
		}
	}
}

func TestSessionLogin(t *testing.T) {
	t.Parallel()
	e := setup(t)

	login := e.do("POST", "/api/v1/auth/login", map[string]any{"email": e.A.Email, "password": e.A.Password})
	require.Equal(t, http.StatusOK, login.Code, string(login.Body))
	require.Len(t, login.Cookie, 1)
	ck := login.Cookie[0]
	require.Equal(t, api.SessionCookie, ck.Name)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	me := login.json(t)
	require.Equal(t, "owner", me["role"])
	csrf := me["csrf_token"].(string)
	require.NotEmpty(t, csrf)
	cookie := []string{"Cookie", api.SessionCookie + "=" + ck.Value}

	r := e.do("GET", "/api/v1/me", nil, cookie...)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, e.A.ID.String(), r.json(t)["tenant"].(map[string]any)["id"])

	// State changes with a cookie need the CSRF token.
	r = e.do("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "role": "viewer"}, cookie...)
	require.Equal(t, http.StatusForbidden, r.Code)
	require.Equal(t, "csrf_failed", r.problemCode(t))
	r = e.do("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "role": "viewer"}, append(cookie, api.CSRFHeader, "wrong")...)
	require.Equal(t, "csrf_failed", r.problemCode(t))
	r = e.do("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "role": "viewer"}, append(cookie, api.CSRFHeader, csrf)...)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	newKey := r.json(t)["key"].(string)
	require.True(t, auth.LooksLikeAPIKey(newKey))

	// The new key works, and is shown only once.
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/me", nil, bearer(newKey)...).Code)
	list := e.do("GET", "/api/v1/api-keys", nil, cookie...)
	require.NotContains(t, string(list.Body), newKey)

	// Logout ends the session.
	r = e.do("POST", "/api/v1/auth/logout", nil, append(cookie, api.CSRFHeader, csrf)...)
	require.Equal(t, http.StatusNoContent, r.Code)
	r = e.do("GET", "/api/v1/me", nil, cookie...)
	require.Equal(t, http.StatusUnauthorized, r.Code)

	// The audit log recorded who did what.
	audit := e.do("GET", "/api/v1/audit-log?action=auth", nil, bearer(e.A.Keys[auth.RoleAdmin])...)
	require.Equal(t, http.StatusOK, audit.Code, string(audit.Body))
	require.Contains(t, string(audit.Body), `"auth.login"`)
	require.Contains(t, string(audit.Body), `"auth.logout"`)
	created := e.do("GET", "/api/v1/audit-log?action=api_key.created", nil, bearer(e.A.Keys[auth.RoleAdmin])...)
	items := created.json(t)["items"].([]any)
	require.Len(t, items, 1)
	entry := items[0].(map[string]any)
	require.Equal(t, e.A.OwnerID.String(), entry["actor_id"])
	require.Equal(t, "user", entry["actor_type"])
	require.NotEmpty(t, entry["request_id"])
}

func TestTenantSwitch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	// A's owner is invited to B as a viewer.
	r := e.do("POST", "/api/v1/users", map[string]any{"email": e.A.Email, "role": "viewer"}, bearer(e.B.Keys[auth.RoleAdmin])...)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	require.Empty(t, r.json(t)["temporary_password"], "an existing user keeps their password")

	login := e.do("POST", "/api/v1/auth/login", map[string]any{"email": e.A.Email, "password": e.A.Password, "tenant_id": e.A.ID})
	require.Equal(t, http.StatusOK, login.Code)
	me := login.json(t)
	require.Len(t, me["memberships"], 2)
	cookie := []string{"Cookie", api.SessionCookie + "=" + login.Cookie[0].Value, api.CSRFHeader, me["csrf_token"].(string)}

	r = e.do("POST", "/api/v1/auth/switch-tenant", map[string]any{"tenant_id": e.B.ID}, cookie...)
	require.Equal(t, http.StatusOK, r.Code, string(r.Body))
	require.Equal(t, "viewer", r.json(t)["role"])
	// As a viewer in B, user management is refused.
	require.Equal(t, http.StatusForbidden, e.do("GET", "/api/v1/users", nil, cookie...).Code)
	r = e.do("POST", "/api/v1/auth/switch-tenant", map[string]any{"tenant_id": e.A.ID}, cookie...)
	require.Equal(t, "owner", r.json(t)["role"])
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/users", nil, cookie...).Code)
}

func TestLoginLockout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := 0; i < 5; i++ {
		r := e.do("POST", "/api/v1/auth/login", map[string]any{"email": e.A.Email, "password": "wrong password " + fmt.Sprint(i)})
		require.Equal(t, http.StatusUnauthorized, r.Code)
		require.Equal(t, "unauthenticated", r.problemCode(t))
	}
	// Locked now, even with the right password.
	r := e.do("POST", "/api/v1/auth/login", map[string]any{"email": e.A.Email, "password": e.A.Password})
	require.Equal(t, http.StatusTooManyRequests, r.Code)
	require.Equal(t, "account_locked", r.problemCode(t))
	wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err, "a locked account says when to retry")
	require.True(t, wait >= 1 && wait <= 15*60, "Retry-After %d", wait)
	// An unknown e-mail gets the same answer as a wrong password.
	r = e.do("POST", "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "whatever it is"})
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Contains(t, string(r.Body), "wrong e-mail or password")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	srv, err := api.New(testConfig(t, api.Config{DB: db.App, RateLimit: 1}))
	require.NoError(t, err)
	e := &env{t: t, srv: srv, db: db}
	e.A = e.newTenant("gamma")
	var last response
	for i := 0; i < 5; i++ {
		last = e.do("GET", "/api/v1/me", nil, bearer(e.A.Keys[auth.RoleViewer])...)
	}
	require.Equal(t, http.StatusTooManyRequests, last.Code)
	require.Equal(t, "rate_limited", last.problemCode(t))
	require.NotEmpty(t, last.Header.Get("Retry-After"))
	// Another key of the same tenant, from another address, has its own budget.
	require.Equal(t, http.StatusOK, e.do("GET", "/api/v1/me", nil, append(bearer(e.A.Keys[auth.RoleAdmin]), ":remote", "198.51.100.7:4000")...).Code)
	// One address is limited whatever keys it uses: fresh keys, each used once, from
	// one address hit the per-address burst (5 at this rate).
	e.B = e.newTenant("delta")
	fresh := []string{e.A.Keys[auth.RoleOwner], e.A.Keys[auth.RoleAnalyst], e.B.Keys[auth.RoleOwner],
		e.B.Keys[auth.RoleAdmin], e.B.Keys[auth.RoleAnalyst], e.B.Keys[auth.RoleViewer]}
	var codes []int
	for _, k := range fresh {
		codes = append(codes, e.do("GET", "/api/v1/me", nil, append(bearer(k), ":remote", "203.0.113.9:4000")...).Code)
	}
	require.Equal(t, []int{200, 200, 200, 200, 200, 429}, codes)
}

func TestUserManagement(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := bearer(e.A.Keys[auth.RoleAdmin])
	owner := bearer(e.A.Keys[auth.RoleOwner])

	r := e.do("POST", "/api/v1/users", map[string]any{"email": "new@alpha.example.com", "name": "New", "role": "analyst"}, admin...)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	invited := r.json(t)
	tmp := invited["temporary_password"].(string)
	require.NotEmpty(t, tmp)
	// The invited user signs in with the temporary password and changes it.
	login := e.do("POST", "/api/v1/auth/login", map[string]any{"email": "new@alpha.example.com", "password": tmp})
	require.Equal(t, http.StatusOK, login.Code)
	csrf := login.json(t)["csrf_token"].(string)
	cookie := []string{"Cookie", api.SessionCookie + "=" + login.Cookie[0].Value, api.CSRFHeader, csrf}
	r = e.do("POST", "/api/v1/me/password", map[string]any{"current_password": tmp, "new_password": "short"}, cookie...)
	require.Equal(t, http.StatusUnprocessableEntity, r.Code)
	r = e.do("POST", "/api/v1/me/password", map[string]any{"current_password": tmp, "new_password": "a much better passphrase"}, cookie...)
	require.Equal(t, http.StatusNoContent, r.Code, string(r.Body))

	// Admins cannot create owners or touch owners; owners can.
	r = e.do("POST", "/api/v1/users", map[string]any{"email": "boss@alpha.example.com", "role": "owner"}, admin...)
	require.Equal(t, http.StatusForbidden, r.Code)
	r = e.do("PATCH", "/api/v1/users/"+e.A.OwnerID.String(), map[string]any{"role": "viewer"}, admin...)
	require.Equal(t, http.StatusForbidden, r.Code)
	// The last owner stays.
	r = e.do("PATCH", "/api/v1/users/"+e.A.OwnerID.String(), map[string]any{"role": "viewer"}, owner...)
	require.Equal(t, http.StatusConflict, r.Code)
	r = e.do("DELETE", "/api/v1/users/"+e.A.OwnerID.String(), nil, owner...)
	require.Equal(t, http.StatusConflict, r.Code)
	// Duplicate invitation.
	r = e.do("POST", "/api/v1/users", map[string]any{"email": "NEW@alpha.example.com", "role": "viewer"}, admin...)
	require.Equal(t, http.StatusConflict, r.Code)

	id := invited["id"].(string)
	r = e.do("PATCH", "/api/v1/users/"+id, map[string]any{"role": "viewer"}, admin...)
	require.Equal(t, http.StatusOK, r.Code)
	require.Equal(t, "viewer", r.json(t)["role"])
	r = e.do("DELETE", "/api/v1/users/"+id, nil, admin...)
	require.Equal(t, http.StatusNoContent, r.Code)
	// Removed from the tenant, the user's session stops working.
	require.Equal(t, http.StatusUnauthorized, e.do("GET", "/api/v1/me", nil, cookie[:2]...).Code)
}

func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := bearer(e.A.Keys[auth.RoleAdmin])

	// Admins cannot mint owner keys.
	r := e.do("POST", "/api/v1/api-keys", map[string]any{"name": "x", "role": "owner"}, admin...)
	require.Equal(t, http.StatusForbidden, r.Code)

	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r = e.do("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "role": "analyst", "expires_at": exp}, admin...)
	require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
	k := r.json(t)
	key, id := k["key"].(string), k["id"].(string)
	require.Equal(t, key[:12], k["prefix"])

	me := e.do("GET", "/api/v1/me", nil, bearer(key)...)
	require.Equal(t, "analyst", me.json(t)["role"])
	list := e.do("GET", "/api/v1/api-keys", nil, admin...)
	require.Contains(t, string(list.Body), `"last_used_at":"`)

	r = e.do("DELETE", "/api/v1/api-keys/"+id, nil, admin...)
	require.Equal(t, http.StatusNoContent, r.Code)
	require.Empty(t, r.Body)
	list = e.do("GET", "/api/v1/api-keys", nil, admin...)
	require.Regexp(t, `"id":"`+id+`"[^}]*"revoked_at":"`, string(list.Body), "a revoked key stays listed with revoked_at")
	r = e.do("GET", "/api/v1/me", nil, bearer(key)...)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Contains(t, string(r.Body), "revoked")

	// An expired key is refused.
	_, err := e.db.Owner.Exec(context.Background(), "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", e.A.KeyIDs[auth.RoleViewer])
	require.NoError(t, err)
	r = e.do("GET", "/api/v1/me", nil, bearer(e.A.Keys[auth.RoleViewer])...)
	require.Equal(t, http.StatusUnauthorized, r.Code)
	require.Contains(t, string(r.Body), "expired")
}

// TestBadInput: every malformed request is a clear 4xx problem, never a 500.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := bearer(e.A.Keys[auth.RoleAdmin])
	tests := []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		code               string
		contains           string
	}{
		{"malformed json", "POST", "/api/v1/users", `{"email": `, admin, 400, "bad_request", "malformed JSON"},
		{"not an object", "POST", "/api/v1/users", `[1,2]`, admin, 400, "bad_request", "JSON object"},
		{"trailing data", "POST", "/api/v1/users", `{"email":"a@b.co","role":"viewer"} {}`, admin, 400, "bad_request", "after the JSON object"},
		{"unknown field", "POST", "/api/v1/users", map[string]any{"email": "a@b.co", "role": "viewer", "admin": true}, admin, 400, "bad_request", `unknown field \"admin\"`},
		{"wrong type", "POST", "/api/v1/api-keys", map[string]any{"name": 5, "role": "viewer"}, admin, 400, "bad_request", `field \"name\" must be a string`},
		{"invalid email", "POST", "/api/v1/users", map[string]any{"email": "not-an-email", "role": "viewer"}, admin, 422, "validation_failed", "e-mail"},
		{"email with display name", "POST", "/api/v1/users", map[string]any{"email": "Eve <eve@x.co>", "role": "viewer"}, admin, 422, "validation_failed", "e-mail"},
		{"bad role", "POST", "/api/v1/users", map[string]any{"email": "a@b.co", "role": "root"}, admin, 422, "validation_failed", "role"},
		{"over-long name", "POST", "/api/v1/api-keys", map[string]any{"name": strings.Repeat("n", 201), "role": "viewer"}, admin, 422, "validation_failed", "at most 200"},
		{"past expiry", "POST", "/api/v1/api-keys", map[string]any{"name": "k", "role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, admin, 422, "validation_failed", "future"},
		{"bad time", "POST", "/api/v1/api-keys", map[string]any{"name": "k", "role": "viewer", "expires_at": "tomorrow"}, admin, 422, "validation_failed", "RFC 3339"},
		{"wrong content type", "POST", "/api/v1/users", nil, append([]string{"Content-Type", "text/plain"}, admin...), 415, "unsupported_media_type", "application/json"},
		{"not a uuid", "DELETE", "/api/v1/api-keys/12", nil, admin, 404, "not_found", ""},
		{"unknown query parameter", "GET", "/api/v1/audit-log?actr=x", nil, admin, 400, "bad_request", ""},
		{"bad limit", "GET", "/api/v1/audit-log?limit=100000", nil, admin, 422, "validation_failed", "limit"},
		{"bad cursor", "GET", "/api/v1/audit-log?cursor=abc", nil, admin, 422, "validation_failed", "cursor"},
		{"bad since", "GET", "/api/v1/audit-log?since=yesterday", nil, admin, 422, "validation_failed", "RFC 3339"},
		{"no credentials", "GET", "/api/v1/me", nil, nil, 401, "unauthenticated", "Bearer"},
		{"basic auth", "GET", "/api/v1/me", nil, []string{"Authorization", "Basic YTpi"}, 401, "unauthenticated", "Bearer vgl_"},
		{"malformed key", "GET", "/api/v1/me", nil, bearer("vgl_short"), 401, "unauthenticated", ""},
		{"unknown key", "GET", "/api/v1/me", nil, bearer("vgl_" + strings.Repeat("A", 43)), 401, "unauthenticated", "unknown API key"},
		{"forged cookie", "GET", "/api/v1/me", nil, []string{"Cookie", api.SessionCookie + "=forged-session-token"}, 401, "unauthenticated", "sign in again"},
		{"over-long cookie", "GET", "/api/v1/me", nil, []string{"Cookie", api.SessionCookie + "=" + strings.Repeat("x", 500)}, 401, "unauthenticated", ""},
		{"oversize body", "POST", "/api/v1/users", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, admin, 413, "body_too_large", ""},
		{"login without password", "POST", "/api/v1/auth/login", map[string]any{"email": "a@b.co"}, nil, 422, "validation_failed", "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.name == "wrong content type" {
				r = e.do(tt.method, tt.path, "{}", tt.headers...)
			} else {
				r = e.do(tt.method, tt.path, tt.body, tt.headers...)
			}
			require.Equal(t, tt.status, r.Code, string(r.Body))
			require.Equal(t, tt.code, r.problemCode(t))
			require.Contains(t, string(r.Body), tt.contains)
		})
	}
}
