package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/providers/aws/awstest"
	"github.com/vigilsec/vigil/store/storetest"
)

// contract validates requests and responses against the OpenAPI document and records
// which statuses of which operations were exercised.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	opts   []openapi3.SchemaValidationOption

	mu   sync.Mutex
	seen map[string]map[int]bool // operationId -> statuses exercised
}

func newContract(t *testing.T) *contract {
	t.Helper()
	doc := loadSpec(t)
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	formats := map[string]openapi3.StringFormatValidator{
		"uuid": openapi3.NewCallbackValidator(func(s string) error {
			_, err := uuid.Parse(s)
			return err
		}),
		"email": openapi3.NewCallbackValidator(func(s string) error {
			_, err := mail.ParseAddress(s)
			return err
		}),
		"date-time": openapi3.NewCallbackValidator(func(s string) error {
			_, err := time.Parse(time.RFC3339Nano, s)
			return err
		}),
	}
	return &contract{doc: doc, router: router, seen: map[string]map[int]bool{},
		opts: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(formats)}}
}

// authenticate checks that the credentials a security scheme names were sent; the
// server decides whether they are good.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "apiKey":
		if strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case "session":
		if _, err := req.Cookie(api.SessionCookie); err == nil {
			return nil
		}
	}
	return in.NewError(nil)
}

// call is one request of the contract test.
type call struct {
	method, path string
	body         any // a string is sent raw, anything else as JSON
	headers      []string
	status       int
	// invalid marks a request that breaks the document on purpose: the document must
	// reject it too, so its constraints are the ones the handler enforces.
	invalid bool
}

// do sends c through the server and validates both directions against the document.
func (cv *contract) do(t *testing.T, e *env, c call) response {
	t.Helper()
	var raw []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(t, err)
	}
	newReq := func() *http.Request {
		req := httptest.NewRequest(c.method, c.path, bytes.NewReader(raw))
		if c.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(c.headers); i += 2 {
			req.Header.Set(c.headers[i], c.headers[i+1])
		}
		return req
	}

	req := newReq()
	route, params, err := cv.router.FindRoute(req)
	require.NoError(t, err, "%s %s has no operation in the document", c.method, c.path)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, SchemaValidationOptions: cv.opts}}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if c.invalid {
		require.Error(t, reqErr, "the document accepts a request the test says is invalid: %s %s %s", c.method, c.path, raw)
	} else {
		require.NoError(t, reqErr, "the document rejects %s %s %s", c.method, c.path, raw)
	}

	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, newReq())
	resp := response{Code: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header(), Cookie: rec.Result().Cookies()}
	require.Equal(t, c.status, resp.Code, "%s %s: %s", c.method, c.path, resp.Body)

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.Code, Header: resp.Header,
		Body:    io.NopCloser(bytes.NewReader(resp.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, SchemaValidationOptions: cv.opts}}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s -> %d: %s", c.method, c.path, resp.Code, resp.Body)

	ct := resp.Header.Get("Content-Type")
	if strings.Contains(ct, "json") && len(resp.Body) > 0 {
		var v any
		require.NoError(t, json.Unmarshal(resp.Body, &v))
		schema := route.Operation.Responses.Status(resp.Code).Value.Content.Get(ct).Schema
		require.Empty(t, undocumented(schema, v, "$"), "%s %s -> %d returns fields the document does not name", c.method, c.path, resp.Code)
		if resp.Code >= 400 {
			p := v.(map[string]any)
			require.Equal(t, float64(resp.Code), p["status"], "a problem's status is the HTTP status")
			require.Equal(t, "https://vigil.dev/problems/"+p["code"].(string), p["type"])
		}
	}

	cv.mu.Lock()
	defer cv.mu.Unlock()
	if cv.seen[route.Operation.OperationID] == nil {
		cv.seen[route.Operation.OperationID] = map[int]bool{}
	}
	cv.seen[route.Operation.OperationID][resp.Code] = true
	return resp
}

// undocumented lists the fields of v that schema does not declare (where the schema
// does not allow extra fields), so a response cannot grow a field the contract lacks.
func undocumented(ref *openapi3.SchemaRef, v any, at string) []string {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	switch v := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.SchemaRef{}
		var extra *openapi3.SchemaRef
		open := false
		var gather func(s *openapi3.Schema)
		gather = func(s *openapi3.Schema) {
			for k, p := range s.Properties {
				props[k] = p
			}
			if ap := s.AdditionalProperties; ap.Schema != nil {
				extra = ap.Schema
			} else if ap.Has != nil && *ap.Has {
				open = true
			}
			// allOf composes; anyOf/oneOf here only ever add null to a $ref.
			for _, a := range append(append(append(openapi3.SchemaRefs{}, s.AllOf...), s.AnyOf...), s.OneOf...) {
				gather(a.Value)
			}
		}
		gather(s)
		var out []string
		for k, val := range v {
			switch p, ok := props[k]; {
			case ok:
				out = append(out, undocumented(p, val, at+"."+k)...)
			case extra != nil:
				out = append(out, undocumented(extra, val, at+"."+k)...)
			case !open:
				out = append(out, at+"."+k)
			}
		}
		return out
	case []any:
		var out []string
		for i, item := range v {
			out = append(out, undocumented(s.Items, item, at+"["+strconv.Itoa(i)+"]")...)
		}
		return out
	}
	return nil
}

// notExercised names the (operation, class) pairs the contract test cannot reach, and why.
var notExercised = map[string]string{
	"getMetrics 4xx":         "public and parameterless: it has no client error",
	"getHealth 4xx":          "public and parameterless: it has no client error",
	"getOpenAPIDocument 4xx": "public and parameterless: it has no client error",
	"getAPIReference 4xx":    "public and parameterless: it has no client error",
	"getReadiness 4xx":       "public and parameterless: its error is the 503 exercised instead",
}

func (cv *contract) requireCoverage(t *testing.T) {
	t.Helper()
	var gaps []string
	for path, item := range cv.doc.Paths.Map() {
		for method, op := range item.Operations() {
			seen := cv.seen[op.OperationID]
			var ok2, err4 bool
			for code := range seen {
				ok2 = ok2 || code < 300
				err4 = err4 || code >= 400
			}
			if !ok2 {
				gaps = append(gaps, op.OperationID+" 2xx ("+method+" "+path+")")
			}
			if _, skip := notExercised[op.OperationID+" 4xx"]; !err4 && !skip {
				gaps = append(gaps, op.OperationID+" 4xx ("+method+" "+path+")")
			}
		}
	}
	sort.Strings(gaps)
	require.Empty(t, gaps, "operations without a success and an error exercised by TestContract")
}

// TestContract drives real requests through the server, on a real database, and
// validates every request and response against api/openapi.yaml. Each operation is
// exercised at least once with success and once with an error.
func TestContract(t *testing.T) {
	t.Parallel()
	moto := awstest.Start(t)
	db := storetest.New(t)
	srv, err := api.New(testConfig(t, api.Config{DB: db.App, RateLimit: 1000, Version: "test", TestAccount: jobs.TestConnection}))
	require.NoError(t, err)
	withSpecRoutes(t, srv)
	e := &env{t: t, srv: srv, db: db}
	e.A = e.newTenant("alpha")
	cv := newContract(t)

	owner, admin := bearer(e.A.Keys[auth.RoleOwner]), bearer(e.A.Keys[auth.RoleAdmin])
	analyst, viewer := bearer(e.A.Keys[auth.RoleAnalyst]), bearer(e.A.Keys[auth.RoleViewer])
	nowhere := uuid.NewString()
	do := func(name string, c call) response {
		t.Helper()
		var r response
		if !t.Run(name, func(t *testing.T) { r = cv.do(t, e, c) }) {
			t.FailNow()
		}
		return r
	}
	jsonOf := func(r response) map[string]any { return r.json(t) }

	// Operations.
	do("health", call{method: "GET", path: "/healthz", status: 200})
	do("ready", call{method: "GET", path: "/readyz", status: 200})
	do("metrics", call{method: "GET", path: "/metrics", status: 200})
	do("openapi document", call{method: "GET", path: "/api/openapi.yaml", status: 200})
	do("reference page", call{method: "GET", path: "/api/docs", status: 200})

	// Sign-in and the session.
	do("login: wrong password", call{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"email": e.A.Email, "password": "not the password"}, status: 401})
	do("login: no password", call{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"email": e.A.Email}, status: 422, invalid: true})
	do("login: malformed", call{method: "POST", path: "/api/v1/auth/login", body: `{"email":`, status: 400, invalid: true})
	do("login: other tenant", call{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"email": e.A.Email, "password": e.A.Password, "tenant_id": nowhere}, status: 404})
	login := do("login", call{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"email": e.A.Email, "password": e.A.Password, "tenant_id": e.A.ID}, status: 200})
	csrf := jsonOf(login)["csrf_token"].(string)
	cookie := []string{"Cookie", api.SessionCookie + "=" + login.Cookie[0].Value}
	session := append(slicesClone(cookie), api.CSRFHeader, csrf)
	do("me: session", call{method: "GET", path: "/api/v1/me", headers: cookie, status: 200})
	do("me: api key", call{method: "GET", path: "/api/v1/me", headers: viewer, status: 200})
	do("me: no credentials", call{method: "GET", path: "/api/v1/me", status: 401, invalid: true})
	do("switch tenant", call{method: "POST", path: "/api/v1/auth/switch-tenant", body: map[string]any{"tenant_id": e.A.ID}, headers: session, status: 200})
	do("switch tenant: not a member", call{method: "POST", path: "/api/v1/auth/switch-tenant", body: map[string]any{"tenant_id": nowhere}, headers: session, status: 404})
	do("switch tenant: without csrf", call{method: "POST", path: "/api/v1/auth/switch-tenant", body: map[string]any{"tenant_id": e.A.ID}, headers: cookie, status: 403})
	do("logout: api key", call{method: "POST", path: "/api/v1/auth/logout", headers: owner, status: 400})

	// Members.
	do("users", call{method: "GET", path: "/api/v1/users", headers: admin, status: 200})
	do("users: viewer", call{method: "GET", path: "/api/v1/users", headers: viewer, status: 403})
	inv := do("invite", call{method: "POST", path: "/api/v1/users", body: map[string]any{"email": "new@alpha.example.com", "name": "New", "role": "analyst"}, headers: admin, status: 201})
	invited := jsonOf(inv)
	userID := invited["id"].(string)
	do("invite: again", call{method: "POST", path: "/api/v1/users", body: map[string]any{"email": "new@alpha.example.com", "role": "viewer"}, headers: admin, status: 409})
	do("invite: bad e-mail", call{method: "POST", path: "/api/v1/users", body: map[string]any{"email": "not-an-email", "role": "viewer"}, headers: admin, status: 422, invalid: true})
	do("invite: unknown field", call{method: "POST", path: "/api/v1/users", body: map[string]any{"email": "x@alpha.example.com", "role": "viewer", "admin": true}, headers: admin, status: 400, invalid: true})
	do("invite: text body", call{method: "POST", path: "/api/v1/users", body: "{}", headers: append([]string{"Content-Type", "text/plain"}, admin...), status: 415, invalid: true})
	do("role", call{method: "PATCH", path: "/api/v1/users/" + userID, body: map[string]any{"role": "viewer"}, headers: admin, status: 200})
	do("role: bad role", call{method: "PATCH", path: "/api/v1/users/" + userID, body: map[string]any{"role": "root"}, headers: admin, status: 422, invalid: true})
	do("role: nobody", call{method: "PATCH", path: "/api/v1/users/" + nowhere, body: map[string]any{"role": "viewer"}, headers: admin, status: 404})
	do("role: last owner", call{method: "PATCH", path: "/api/v1/users/" + e.A.OwnerID.String(), body: map[string]any{"role": "viewer"}, headers: owner, status: 409})
	do("role: not a uuid", call{method: "PATCH", path: "/api/v1/users/12", body: map[string]any{"role": "viewer"}, headers: admin, status: 404, invalid: true})

	// The invited user signs in and changes the temporary password.
	l2 := do("login: invited", call{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"email": "new@alpha.example.com", "password": invited["temporary_password"]}, status: 200})
	s2 := []string{"Cookie", api.SessionCookie + "=" + l2.Cookie[0].Value, api.CSRFHeader, jsonOf(l2)["csrf_token"].(string)}
	do("password: wrong current", call{method: "POST", path: "/api/v1/me/password", body: map[string]any{"current_password": "wrong one", "new_password": "a much better passphrase"}, headers: s2, status: 403})
	do("password: too short", call{method: "POST", path: "/api/v1/me/password", body: map[string]any{"current_password": invited["temporary_password"], "new_password": "short"}, headers: s2, status: 422, invalid: true})
	do("password", call{method: "POST", path: "/api/v1/me/password", body: map[string]any{"current_password": invited["temporary_password"], "new_password": "a much better passphrase"}, headers: s2, status: 204})
	do("logout", call{method: "POST", path: "/api/v1/auth/logout", headers: s2, status: 204})
	do("remove", call{method: "DELETE", path: "/api/v1/users/" + userID, headers: admin, status: 204})
	do("remove: again", call{method: "DELETE", path: "/api/v1/users/" + userID, headers: admin, status: 404})

	// API keys.
	do("keys", call{method: "GET", path: "/api/v1/api-keys", headers: admin, status: 200})
	do("keys: analyst", call{method: "GET", path: "/api/v1/api-keys", headers: analyst, status: 403})
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	k := do("key", call{method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": "ci", "role": "analyst", "expires_at": exp}, headers: admin, status: 201})
	do("key: owner role by an admin", call{method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": "x", "role": "owner"}, headers: admin, status: 403})
	do("key: long name", call{method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": strings.Repeat("n", 201), "role": "viewer"}, headers: admin, status: 422, invalid: true})
	do("key: wrong type", call{method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": 5, "role": "viewer"}, headers: admin, status: 400, invalid: true})
	do("revoke", call{method: "DELETE", path: "/api/v1/api-keys/" + jsonOf(k)["id"].(string), headers: admin, status: 204})
	do("revoke: nothing", call{method: "DELETE", path: "/api/v1/api-keys/" + nowhere, headers: admin, status: 404})

	// Settings.
	settings := do("settings", call{method: "GET", path: "/api/v1/settings", headers: viewer, status: 200})
	do("settings: not modified", call{method: "GET", path: "/api/v1/settings", headers: append(slicesClone(viewer), "If-None-Match", settings.Header.Get("ETag")), status: 304})
	do("settings: no credentials", call{method: "GET", path: "/api/v1/settings", status: 401, invalid: true})
	do("settings: change", call{method: "PATCH", path: "/api/v1/settings", body: map[string]any{"retention_days": 30}, headers: append(slicesClone(admin), "If-Match", settings.Header.Get("ETag")), status: 200})
	do("settings: changed meanwhile", call{method: "PATCH", path: "/api/v1/settings", body: map[string]any{"retention_days": 31}, headers: append(slicesClone(admin), "If-Match", settings.Header.Get("ETag")), status: 412})
	do("settings: out of range", call{method: "PATCH", path: "/api/v1/settings", body: map[string]any{"retention_days": 1}, headers: admin, status: 422, invalid: true})
	do("settings: analyst", call{method: "PATCH", path: "/api/v1/settings", body: map[string]any{"retention_days": 30}, headers: analyst, status: 403})

	// Accounts, connection test, scans.
	do("accounts", call{method: "GET", path: "/api/v1/accounts", headers: viewer, status: 200})
	do("accounts: bad key", call{method: "GET", path: "/api/v1/accounts", headers: bearer("vgl_" + strings.Repeat("A", 43)), status: 401})
	do("onboarding", call{method: "GET", path: "/api/v1/accounts/aws/onboarding", headers: admin, status: 200})
	do("onboarding: viewer", call{method: "GET", path: "/api/v1/accounts/aws/onboarding", headers: viewer, status: 403})
	acct := do("connect", call{method: "POST", path: "/api/v1/accounts", headers: admin, status: 201, body: map[string]any{
		"provider": "aws", "name": "moto", "credential_kind": "static", "access_key_id": "AKIAIOSFODNN7EXAMPLE",
		"secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "endpoint_url": moto.URL, "regions": []string{"us-east-1"}}})
	acctID := jsonOf(acct)["id"].(string)
	do("connect: no name", call{method: "POST", path: "/api/v1/accounts", body: map[string]any{"provider": "aws", "credential_kind": "default_chain"}, headers: admin, status: 422, invalid: true})
	do("connect: azure", call{method: "POST", path: "/api/v1/accounts", body: map[string]any{"provider": "azure", "name": "x", "credential_kind": "default_chain"}, headers: admin, status: 422, invalid: true})
	do("connect: assume role without arn", call{method: "POST", path: "/api/v1/accounts", body: map[string]any{"provider": "aws", "name": "x", "credential_kind": "assume_role"}, headers: admin, status: 422})
	acctGet := do("account", call{method: "GET", path: "/api/v1/accounts/" + acctID, headers: viewer, status: 200})
	do("account: not modified", call{method: "GET", path: "/api/v1/accounts/" + acctID, headers: append(slicesClone(viewer), "If-None-Match", acctGet.Header.Get("ETag")), status: 304})
	do("account: nothing", call{method: "GET", path: "/api/v1/accounts/" + nowhere, headers: viewer, status: 404})
	do("account: change", call{method: "PATCH", path: "/api/v1/accounts/" + acctID, body: map[string]any{"name": "moto east", "schedule": "0 */6 * * *"}, headers: append(slicesClone(admin), "If-Match", acctGet.Header.Get("ETag")), status: 200})
	do("account: changed meanwhile", call{method: "PATCH", path: "/api/v1/accounts/" + acctID, body: map[string]any{"name": "moto west"}, headers: append(slicesClone(admin), "If-Match", acctGet.Header.Get("ETag")), status: 412})
	do("account: bad region", call{method: "PATCH", path: "/api/v1/accounts/" + acctID, body: map[string]any{"regions": []string{"mars-1"}}, headers: admin, status: 422, invalid: true})
	do("account: bad schedule", call{method: "PATCH", path: "/api/v1/accounts/" + acctID, body: map[string]any{"schedule": "every day"}, headers: admin, status: 422})
	do("test connection", call{method: "POST", path: "/api/v1/accounts/" + acctID + "/test", headers: admin, status: 200})
	do("test connection: nothing", call{method: "POST", path: "/api/v1/accounts/" + nowhere + "/test", headers: admin, status: 404})
	scan := do("scan now", call{method: "POST", path: "/api/v1/accounts/" + acctID + "/scans", headers: analyst, status: 202})
	scanID := jsonOf(scan)["id"].(string)
	do("scan now: already queued", call{method: "POST", path: "/api/v1/accounts/" + acctID + "/scans", headers: analyst, status: 409})
	do("scan now: viewer", call{method: "POST", path: "/api/v1/accounts/" + acctID + "/scans", headers: viewer, status: 403})
	do("scans", call{method: "GET", path: "/api/v1/accounts/" + acctID + "/scans?limit=5", headers: viewer, status: 200})
	do("scans: limit 0", call{method: "GET", path: "/api/v1/accounts/" + acctID + "/scans?limit=0", headers: viewer, status: 422, invalid: true})
	do("scan", call{method: "GET", path: "/api/v1/scans/" + scanID, headers: viewer, status: 200})
	do("scan: nothing", call{method: "GET", path: "/api/v1/scans/" + nowhere, headers: viewer, status: 404})
	do("cancel", call{method: "POST", path: "/api/v1/scans/" + scanID + "/cancel", headers: analyst, status: 200})
	do("cancel: ended", call{method: "POST", path: "/api/v1/scans/" + scanID + "/cancel", headers: analyst, status: 409})

	// Mute rules.
	// IAM least privilege.
	iamIDs := seedIAM(t, e)
	do("iam effective", call{method: "GET", path: "/api/v1/iam/principals/" + iamIDs["alpha-admin"] + "/effective", headers: viewer, status: 200})
	do("iam effective: not a principal", call{method: "GET", path: "/api/v1/iam/principals/" + nowhere + "/effective", headers: viewer, status: 404})
	do("iam access", call{method: "GET", path: "/api/v1/iam/access?resource=arn%3Aaws%3As3%3A%3A%3Aalpha-public", headers: viewer, status: 200})
	do("iam access: no resource", call{method: "GET", path: "/api/v1/iam/access", headers: viewer, status: 422, invalid: true})
	do("iam simulate", call{method: "POST", path: "/api/v1/iam/simulate", headers: viewer, status: 200, body: map[string]any{
		"principal": "arn:aws:iam::123456789012:user/alpha-reader", "action": "s3:GetObject", "resource": "arn:aws:s3:::alpha-public/x",
		"context": map[string]any{"aws:MultiFactorAuthPresent": []string{"true"}}}})
	do("iam simulate: unknown principal", call{method: "POST", path: "/api/v1/iam/simulate", headers: viewer, status: 404, body: map[string]any{
		"principal": "arn:aws:iam::123456789012:user/nobody", "action": "s3:GetObject", "resource": "*"}})

	do("mutes", call{method: "GET", path: "/api/v1/mute-rules", headers: viewer, status: 200})
	do("mutes: revoked key", call{method: "GET", path: "/api/v1/mute-rules", headers: bearer(jsonOf(k)["key"].(string)), status: 401})
	muteBody := map[string]any{"check_pattern": "aws.ec2.*", "account_id": acctID, "tags": map[string]string{"env": "dev"}, "justification": "dev estate",
		"expires_at": exp}
	keyed := append(slicesClone(analyst), "Idempotency-Key", uuid.NewString())
	mute := do("mute", call{method: "POST", path: "/api/v1/mute-rules", headers: keyed, status: 201, body: muteBody})
	replayed := do("mute: retried", call{method: "POST", path: "/api/v1/mute-rules", headers: keyed, status: 201, body: muteBody})
	require.Equal(t, "true", replayed.Header.Get(api.ReplayedHeader))
	require.Equal(t, string(mute.Body), string(replayed.Body))
	do("mute: key reused", call{method: "POST", path: "/api/v1/mute-rules", headers: keyed, status: 422, body: map[string]any{"region": "us-east-1", "justification": "other"}})
	do("mute: key too long", call{method: "POST", path: "/api/v1/mute-rules", headers: append(slicesClone(analyst), "Idempotency-Key", strings.Repeat("k", 256)), status: 400, body: muteBody, invalid: true})
	do("mute: no condition", call{method: "POST", path: "/api/v1/mute-rules", body: map[string]any{"justification": "everything"}, headers: analyst, status: 422})
	do("mute: no justification", call{method: "POST", path: "/api/v1/mute-rules", body: map[string]any{"region": "us-east-1"}, headers: analyst, status: 422, invalid: true})
	do("unmute", call{method: "DELETE", path: "/api/v1/mute-rules/" + jsonOf(mute)["id"].(string), headers: analyst, status: 204})
	do("unmute: again", call{method: "DELETE", path: "/api/v1/mute-rules/" + jsonOf(mute)["id"].(string), headers: analyst, status: 404})

	// Findings explorer.
	es := e.A.Estate
	finding := es.Findings["aws.s3.bucket_no_public_read alpha-public"].String()
	resource := es.Resources["alpha-public"].String()
	fp := do("findings", call{method: "GET", path: "/api/v1/findings?state=all&sort=check_id&limit=2", headers: viewer, status: 200})
	do("findings: next page", call{method: "GET", path: "/api/v1/findings?state=all&sort=check_id&limit=2&cursor=" + jsonOf(fp)["next_cursor"].(string), headers: viewer, status: 200})
	do("findings: filtered", call{method: "GET", path: "/api/v1/findings?severity=critical,high&status=fail&provider=aws&region=eu-west-1&resource_type=aws.s3.bucket&q=alpha&first_seen_since=2000-01-01T00:00:00Z", headers: viewer, status: 200})
	do("findings: bad severity", call{method: "GET", path: "/api/v1/findings?severity=urgent", headers: viewer, status: 422, invalid: true})
	do("findings: bad sort", call{method: "GET", path: "/api/v1/findings?sort=title", headers: viewer, status: 422, invalid: true})
	do("findings: cursor of another sort", call{method: "GET", path: "/api/v1/findings?cursor=" + jsonOf(fp)["next_cursor"].(string), headers: viewer, status: 422})
	do("facets", call{method: "GET", path: "/api/v1/findings/facets?state=all", headers: viewer, status: 200})
	do("facets: control without framework", call{method: "GET", path: "/api/v1/findings/facets?control=1.1", headers: viewer, status: 422})
	do("finding", call{method: "GET", path: "/api/v1/findings/" + finding, headers: viewer, status: 200})
	do("finding: custom check", call{method: "GET", path: "/api/v1/findings/" + es.Findings[es.CustomCheck+" alpha-public"].String(), headers: viewer, status: 200})
	do("finding: nothing", call{method: "GET", path: "/api/v1/findings/" + nowhere, headers: viewer, status: 404})
	do("export json", call{method: "GET", path: "/api/v1/findings/export?format=json&state=all", headers: viewer, status: 200})
	do("export csv", call{method: "GET", path: "/api/v1/findings/export?format=csv", headers: viewer, status: 200})
	do("export ocsf", call{method: "GET", path: "/api/v1/findings/export?format=ocsf", headers: viewer, status: 200})
	do("export: no format", call{method: "GET", path: "/api/v1/findings/export", headers: viewer, status: 422, invalid: true})
	do("mute findings: none", call{method: "POST", path: "/api/v1/findings/mute", body: map[string]any{"finding_ids": []string{}, "justification": "x"}, headers: analyst, status: 422, invalid: true})
	do("mute findings: not ours", call{method: "POST", path: "/api/v1/findings/mute", body: map[string]any{"finding_ids": []string{nowhere}, "justification": "x"}, headers: analyst, status: 404})
	do("mute findings", call{method: "POST", path: "/api/v1/findings/mute", body: map[string]any{"finding_ids": []string{finding}, "justification": "static site", "expires_at": exp}, headers: analyst, status: 201})

	// Summary.
	do("summary", call{method: "GET", path: "/api/v1/summary?days=90", headers: viewer, status: 200})
	do("summary: bad window", call{method: "GET", path: "/api/v1/summary?days=7", headers: viewer, status: 422, invalid: true})

	// Inventory and drift.
	rp := do("resources", call{method: "GET", path: "/api/v1/resources?limit=1&include_deleted=true", headers: viewer, status: 200})
	do("resources: next page", call{method: "GET", path: "/api/v1/resources?limit=1&include_deleted=true&cursor=" + jsonOf(rp)["next_cursor"].(string), headers: viewer, status: 200})
	do("resources: bad flag", call{method: "GET", path: "/api/v1/resources?include_deleted=maybe", headers: viewer, status: 422, invalid: true})
	do("resource facets", call{method: "GET", path: "/api/v1/resources/facets?type=aws.s3.bucket", headers: viewer, status: 200})
	do("resource facets: bad tag", call{method: "GET", path: "/api/v1/resources/facets?tag=novalue", headers: viewer, status: 422, invalid: true})
	do("resource", call{method: "GET", path: "/api/v1/resources/" + resource, headers: viewer, status: 200})
	do("resource: nothing", call{method: "GET", path: "/api/v1/resources/" + nowhere, headers: viewer, status: 404})
	do("versions", call{method: "GET", path: "/api/v1/resources/" + resource + "/versions", headers: viewer, status: 200})
	do("versions: bad cursor", call{method: "GET", path: "/api/v1/resources/" + resource + "/versions?cursor=x", headers: viewer, status: 422, invalid: true})
	do("version", call{method: "GET", path: "/api/v1/resources/" + resource + "/versions/1", headers: viewer, status: 200})
	do("version: none", call{method: "GET", path: "/api/v1/resources/" + resource + "/versions/99", headers: viewer, status: 404})
	do("diff", call{method: "GET", path: "/api/v1/resources/" + resource + "/diff?from=1&to=2", headers: viewer, status: 200})
	do("diff: no to", call{method: "GET", path: "/api/v1/resources/" + resource + "/diff?from=1", headers: viewer, status: 422, invalid: true})
	do("at", call{method: "GET", path: "/api/v1/resources/" + resource + "/at?time=" + time.Now().UTC().Format(time.RFC3339), headers: viewer, status: 200})
	do("at: no time", call{method: "GET", path: "/api/v1/resources/" + resource + "/at", headers: viewer, status: 422, invalid: true})
	do("drift", call{method: "GET", path: "/api/v1/drift?change=created,modified,deleted&since=2000-01-01T00:00:00Z", headers: viewer, status: 200})
	do("drift: bad change", call{method: "GET", path: "/api/v1/drift?change=renamed", headers: viewer, status: 422, invalid: true})

	// Checks and custom checks.
	cl := do("checks", call{method: "GET", path: "/api/v1/checks?provider=aws&severity=critical,high", headers: viewer, status: 200})
	do("checks: bad kind", call{method: "GET", path: "/api/v1/checks?kind=rule", headers: viewer, status: 422, invalid: true})
	checkID := jsonOf(cl)["items"].([]any)[0].(map[string]any)["id"].(string)
	do("check", call{method: "GET", path: "/api/v1/checks/" + checkID, headers: viewer, status: 200})
	do("check: custom", call{method: "GET", path: "/api/v1/checks/" + es.CustomCheck, headers: viewer, status: 200})
	do("check: nothing", call{method: "GET", path: "/api/v1/checks/aws.nothing.here", headers: viewer, status: 404})
	do("custom checks", call{method: "GET", path: "/api/v1/custom-checks", headers: viewer, status: 200})
	do("custom checks: parameter", call{method: "GET", path: "/api/v1/custom-checks?page=2", headers: viewer, status: 400})
	do("custom check", call{method: "GET", path: "/api/v1/custom-checks/" + es.CustomCheckID.String(), headers: viewer, status: 200})
	do("custom check: nothing", call{method: "GET", path: "/api/v1/custom-checks/" + nowhere, headers: viewer, status: 404})
	cc := do("add custom check", call{method: "POST", path: "/api/v1/custom-checks", body: map[string]any{"yaml": customCheckYAML("contract")}, headers: analyst, status: 201})
	ccID := jsonOf(cc)["id"].(string)
	do("add custom check: again", call{method: "POST", path: "/api/v1/custom-checks", body: map[string]any{"yaml": customCheckYAML("contract")}, headers: analyst, status: 409})
	do("add custom check: broken", call{method: "POST", path: "/api/v1/custom-checks", body: map[string]any{"yaml": "id: custom.x\nassert: 'resource.'"}, headers: analyst, status: 422})
	do("add custom check: viewer", call{method: "POST", path: "/api/v1/custom-checks", body: map[string]any{"yaml": customCheckYAML("viewer")}, headers: viewer, status: 403})
	replaced := do("replace custom check", call{method: "PUT", path: "/api/v1/custom-checks/" + ccID, body: map[string]any{"yaml": customCheckYAML("contract")}, headers: analyst, status: 200})
	do("replace custom check: stale", call{method: "PUT", path: "/api/v1/custom-checks/" + ccID, body: map[string]any{"yaml": customCheckYAML("contract")}, headers: append(slicesClone(analyst), "If-Match", `"stale"`), status: 412})
	do("replace custom check: no yaml", call{method: "PUT", path: "/api/v1/custom-checks/" + ccID, body: map[string]any{}, headers: analyst, status: 422, invalid: true})
	do("dry run", call{method: "POST", path: "/api/v1/custom-checks/dry-run", body: map[string]any{"yaml": customCheckYAML("dry")}, headers: analyst, status: 200})
	do("dry run: broken", call{method: "POST", path: "/api/v1/custom-checks/dry-run", body: map[string]any{"yaml": "title: no id"}, headers: analyst, status: 422})
	do("delete custom check: stale", call{method: "DELETE", path: "/api/v1/custom-checks/" + ccID, headers: append(slicesClone(analyst), "If-Match", `"stale"`), status: 412})
	do("delete custom check", call{method: "DELETE", path: "/api/v1/custom-checks/" + ccID, headers: append(slicesClone(analyst), "If-Match", replaced.Header.Get("ETag")), status: 204})
	do("delete custom check: again", call{method: "DELETE", path: "/api/v1/custom-checks/" + ccID, headers: analyst, status: 404})

	// Compliance.
	fl := do("frameworks", call{method: "GET", path: "/api/v1/compliance/frameworks", headers: viewer, status: 200})
	do("frameworks: parameter", call{method: "GET", path: "/api/v1/compliance/frameworks?provider=aws", headers: viewer, status: 400})
	fwID := jsonOf(fl)["items"].([]any)[0].(map[string]any)["id"].(string)
	fw := do("framework", call{method: "GET", path: "/api/v1/compliance/frameworks/" + fwID + "?account_id=" + e.A.AccountID.String(), headers: viewer, status: 200})
	do("framework: nothing", call{method: "GET", path: "/api/v1/compliance/frameworks/nist-0", headers: viewer, status: 404})
	do("framework: bad account", call{method: "GET", path: "/api/v1/compliance/frameworks/" + fwID + "?account_id=x", headers: viewer, status: 422, invalid: true})
	ctrl := jsonOf(fw)["controls_posture"].([]any)[0].(map[string]any)["id"].(string)
	do("control", call{method: "GET", path: "/api/v1/compliance/frameworks/" + fwID + "/controls/" + ctrl, headers: viewer, status: 200})
	do("control: nothing", call{method: "GET", path: "/api/v1/compliance/frameworks/" + fwID + "/controls/99.99", headers: viewer, status: 404})

	// Audit log: every change above was recorded; page through it.
	page := do("audit", call{method: "GET", path: "/api/v1/audit-log?limit=2&action=api_key", headers: admin, status: 200})
	next := jsonOf(page)["next_cursor"].(string)
	do("audit: next page", call{method: "GET", path: "/api/v1/audit-log?limit=2&action=api_key&cursor=" + next, headers: admin, status: 200})
	do("audit: unknown parameter", call{method: "GET", path: "/api/v1/audit-log?actr=x", headers: admin, status: 400})
	do("audit: bad since", call{method: "GET", path: "/api/v1/audit-log?since=yesterday", headers: admin, status: 422, invalid: true})
	do("audit: analyst", call{method: "GET", path: "/api/v1/audit-log", headers: analyst, status: 403})

	do("disconnect", call{method: "DELETE", path: "/api/v1/accounts/" + acctID, headers: admin, status: 204})
	do("disconnect: again", call{method: "DELETE", path: "/api/v1/accounts/" + acctID, headers: admin, status: 404})

	// Last: an outdated schema makes the instance unready.
	_, err = db.Owner.Exec(context.Background(), "DELETE FROM vigil_schema_version WHERE version_id > 0")
	require.NoError(t, err)
	do("not ready", call{method: "GET", path: "/readyz", status: 503})

	cv.requireCoverage(t)
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
