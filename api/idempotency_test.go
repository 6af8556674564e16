package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api"
	"github.com/vigilsec/vigil/auth"
)

// TestIdempotentRoutesDocumented: the operations that take an Idempotency-Key are
// exactly those the document says, with the answers the key can cause.
func TestIdempotentRoutesDocumented(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	routes := map[string]bool{}
	for _, r := range srv.Echo().Routes() {
		routes[r.Method+" "+r.Path] = true
	}
	for _, r := range api.IdempotentRoutes {
		require.True(t, routes[r], "%s is not a route", r)
	}
	doc := loadSpec(t)
	for path, item := range doc.Paths.Map() {
		echoPath := regexp.MustCompile(`\{([a-z_]+)\}`).ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			declared := false
			for _, p := range op.Parameters {
				declared = declared || (p.Value.In == "header" && p.Value.Name == api.IdempotencyKeyHeader)
			}
			name := method + " " + path
			want := slices.Contains(api.IdempotentRoutes, method+" "+echoPath)
			require.Equal(t, want, declared, "%s: Idempotency-Key declared iff the route takes it", name)
			if want {
				for _, code := range []int{400, 409, 422} {
					require.NotNil(t, op.Responses.Status(code), "%s lacks %d", name, code)
				}
			}
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t)
	analyst, admin := bearer(e.A.Keys[auth.RoleAnalyst]), bearer(e.A.Keys[auth.RoleAdmin])
	with := func(h []string, kv ...string) []string { return append(slices.Clone(h), kv...) }
	muteRules := func(justification string) int {
		var n int
		require.NoError(t, e.db.Owner.QueryRow(ctx, "SELECT count(*) FROM mute_rules WHERE justification = $1", justification).Scan(&n))
		return n
	}
	rule := func(j string) map[string]any { return map[string]any{"check_pattern": "aws.ec2.*", "justification": j} }

	t.Run("a retry replays the first answer", func(t *testing.T) {
		first := e.do("POST", "/api/v1/mute-rules", rule("replay"), with(analyst, "Idempotency-Key", "k-replay")...)
		require.Equal(t, http.StatusCreated, first.Code, string(first.Body))
		require.Empty(t, first.Header.Get(api.ReplayedHeader))
		again := e.do("POST", "/api/v1/mute-rules", rule("replay"), with(analyst, "Idempotency-Key", "k-replay")...)
		require.Equal(t, http.StatusCreated, again.Code, string(again.Body))
		require.Equal(t, "true", again.Header.Get(api.ReplayedHeader))
		require.Equal(t, string(first.Body), string(again.Body))
		require.Equal(t, first.Header.Get("Content-Type"), again.Header.Get("Content-Type"))
		require.NotEqual(t, first.Header.Get("X-Request-ID"), again.Header.Get("X-Request-ID"))
		require.Equal(t, 1, muteRules("replay"), "created once")
		// Without a key, a retry creates again (as before).
		require.Equal(t, http.StatusCreated, e.do("POST", "/api/v1/mute-rules", rule("replay"), analyst...).Code)
		require.Equal(t, 2, muteRules("replay"))
	})

	t.Run("the same key for another request is 422", func(t *testing.T) {
		r := e.do("POST", "/api/v1/mute-rules", rule("replay, changed"), with(analyst, "Idempotency-Key", "k-replay")...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Equal(t, "idempotency_key_reused", r.problemCode(t))
		r = e.do("POST", "/api/v1/findings/mute", map[string]any{"finding_ids": []string{e.A.Estate.Findings["aws.s3.bucket_no_public_read alpha-public"].String()},
			"justification": "replay"}, with(analyst, "Idempotency-Key", "k-replay")...)
		require.Equal(t, "idempotency_key_reused", r.problemCode(t), "another path")
		require.Zero(t, muteRules("replay, changed"))
	})

	t.Run("keys belong to one caller of one tenant", func(t *testing.T) {
		r := e.do("POST", "/api/v1/mute-rules", rule("replay"), with(admin, "Idempotency-Key", "k-replay")...)
		require.Equal(t, http.StatusCreated, r.Code)
		require.Empty(t, r.Header.Get(api.ReplayedHeader), "another caller's key is not ours")
		r = e.do("POST", "/api/v1/mute-rules", rule("replay"), append(bearer(e.B.Keys[auth.RoleAnalyst]), "Idempotency-Key", "k-replay")...)
		require.Equal(t, http.StatusCreated, r.Code)
		require.Empty(t, r.Header.Get(api.ReplayedHeader))
		require.NotContains(t, string(r.Body), e.A.ID.String())
		require.Equal(t, 4, muteRules("replay"))
	})

	t.Run("a failure is not kept", func(t *testing.T) {
		bad := map[string]any{"justification": "no condition"}
		r := e.do("POST", "/api/v1/mute-rules", bad, with(analyst, "Idempotency-Key", "k-fail")...)
		require.Equal(t, http.StatusUnprocessableEntity, r.Code)
		require.Equal(t, "validation_failed", r.problemCode(t))
		// The key is free again: a corrected request with it executes.
		r = e.do("POST", "/api/v1/mute-rules", rule("corrected"), with(analyst, "Idempotency-Key", "k-fail")...)
		require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
		require.Empty(t, r.Header.Get(api.ReplayedHeader))
		// A role without the permission claims nothing.
		r = e.do("POST", "/api/v1/mute-rules", rule("viewer"), append(bearer(e.A.Keys[auth.RoleViewer]), "Idempotency-Key", "k-viewer")...)
		require.Equal(t, http.StatusForbidden, r.Code)
		var n int
		require.NoError(t, e.db.Owner.QueryRow(ctx, "SELECT count(*) FROM idempotency_keys WHERE key IN ('k-viewer')").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("invalid keys", func(t *testing.T) {
		for _, k := range []string{"", strings.Repeat("k", 256), "clé", "tab\there"} {
			r := e.do("POST", "/api/v1/mute-rules", rule("invalid key"), with(analyst, "Idempotency-Key", k)...)
			require.Equal(t, http.StatusBadRequest, r.Code, "%q: %s", k, r.Body)
			require.Equal(t, "bad_request", r.problemCode(t))
			require.Contains(t, string(r.Body), `"location":"header"`)
		}
		r := e.doMulti("POST", "/api/v1/mute-rules", rule("invalid key"), with(analyst, "Idempotency-Key", "a"), "Idempotency-Key", "b")
		require.Equal(t, http.StatusBadRequest, r.Code)
		require.Zero(t, muteRules("invalid key"))
		// The longest key and the draft's quoted form are fine.
		for _, k := range []string{strings.Repeat("k", 255), `"8e03978e-40d5-43e8-bc93-6894a57f9324"`, " ~!spaces inside~ "} {
			r := e.do("POST", "/api/v1/mute-rules", rule("valid key"), with(analyst, "Idempotency-Key", k)...)
			require.Equal(t, http.StatusCreated, r.Code, "%q: %s", k, r.Body)
		}
	})

	t.Run("scan now: the retry answers the same scan", func(t *testing.T) {
		url := "/api/v1/accounts/" + e.A.AccountID.String() + "/scans"
		// The fixture's scan is still queued: end it so a new one can start.
		_, err := e.db.Owner.Exec(ctx, "UPDATE scans SET status = 'completed', finished_at = now() WHERE id = $1", e.A.ScanID)
		require.NoError(t, err)
		first := e.do("POST", url, nil, with(analyst, "Idempotency-Key", "scan-1")...)
		require.Equal(t, http.StatusAccepted, first.Code, string(first.Body))
		again := e.do("POST", url, nil, with(analyst, "Idempotency-Key", "scan-1")...)
		require.Equal(t, http.StatusAccepted, again.Code, string(again.Body))
		require.Equal(t, "true", again.Header.Get(api.ReplayedHeader))
		require.Equal(t, first.json(t)["id"], again.json(t)["id"])
		require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
		// Without the key, the retry is the usual 409 (a scan is queued).
		require.Equal(t, http.StatusConflict, e.do("POST", url, nil, analyst...).Code)
		// Tenant B with the same key on A's account: 404, as without it.
		r := e.do("POST", url, nil, append(bearer(e.B.Keys[auth.RoleOwner]), "Idempotency-Key", "scan-1")...)
		require.Equal(t, http.StatusNotFound, r.Code)
	})

	t.Run("an API key's secret is sealed at rest and replayed to its caller", func(t *testing.T) {
		first := e.do("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "role": "viewer"}, with(admin, "Idempotency-Key", "key-1")...)
		require.Equal(t, http.StatusCreated, first.Code, string(first.Body))
		secret := first.json(t)["key"].(string)
		again := e.do("POST", "/api/v1/api-keys", map[string]any{"name": "ci", "role": "viewer"}, with(admin, "Idempotency-Key", "key-1")...)
		require.Equal(t, secret, again.json(t)["key"])
		var stored []byte
		require.NoError(t, e.db.Owner.QueryRow(ctx, "SELECT response FROM idempotency_keys WHERE key = 'key-1'").Scan(&stored))
		require.NotContains(t, string(stored), secret)
		require.NotContains(t, string(stored), secret[4:20])
		require.NotContains(t, string(stored), "viewer")
		var keys int
		require.NoError(t, e.db.Owner.QueryRow(ctx, "SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND name = 'ci'", e.A.ID).Scan(&keys))
		require.Equal(t, 1, keys)
		// A sealed answer moved to another caller's row does not open.
		_, err := e.db.Owner.Exec(ctx, `UPDATE idempotency_keys SET response = (SELECT response FROM idempotency_keys WHERE key = 'key-1')
			WHERE key = 'k-replay' AND principal = $1`, "api_key:"+e.A.KeyIDs[auth.RoleAnalyst].String())
		require.NoError(t, err)
		r := e.do("POST", "/api/v1/mute-rules", rule("replay"), with(analyst, "Idempotency-Key", "k-replay")...)
		require.Equal(t, http.StatusInternalServerError, r.Code)
		require.NotContains(t, string(r.Body), secret)
	})

	t.Run("expired keys bind nothing", func(t *testing.T) {
		r := e.do("POST", "/api/v1/mute-rules", rule("expiry"), with(analyst, "Idempotency-Key", "k-expiry")...)
		require.Equal(t, http.StatusCreated, r.Code)
		var expires time.Time
		require.NoError(t, e.db.Owner.QueryRow(ctx, "SELECT expires_at FROM idempotency_keys WHERE key = 'k-expiry'").Scan(&expires))
		require.WithinDuration(t, time.Now().Add(24*time.Hour), expires, time.Minute)
		_, err := e.db.Owner.Exec(ctx, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'k-expiry'")
		require.NoError(t, err)
		r = e.do("POST", "/api/v1/mute-rules", rule("expiry, new"), with(analyst, "Idempotency-Key", "k-expiry")...)
		require.Equal(t, http.StatusCreated, r.Code, string(r.Body))
		require.Empty(t, r.Header.Get(api.ReplayedHeader))
	})
}

// TestIdempotencyInFlight: while the first request with a key runs, a duplicate gets
// 409; once it finished, the duplicate gets its answer. The first request is held inside
// its INSERT by a table lock, so the timing is deterministic.
func TestIdempotencyInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t)
	analyst := append(bearer(e.A.Keys[auth.RoleAnalyst]), "Idempotency-Key", "in-flight")
	body := map[string]any{"check_pattern": "aws.rds.*", "justification": "in flight"}

	hold, err := e.db.Owner.Begin(ctx)
	require.NoError(t, err)
	defer hold.Rollback(ctx) //nolint:errcheck
	_, err = hold.Exec(ctx, "LOCK TABLE mute_rules IN EXCLUSIVE MODE")
	require.NoError(t, err)

	done := make(chan response, 1)
	go func() { done <- e.do("POST", "/api/v1/mute-rules", body, analyst...) }()
	require.Eventually(t, func() bool {
		var n int
		err := e.db.Owner.QueryRow(ctx, "SELECT count(*) FROM idempotency_keys WHERE key = 'in-flight' AND status IS NULL").Scan(&n)
		return err == nil && n == 1
	}, 20*time.Second, 10*time.Millisecond)

	dup := e.do("POST", "/api/v1/mute-rules", body, analyst...)
	require.Equal(t, http.StatusConflict, dup.Code, string(dup.Body))
	require.Equal(t, "idempotency_in_progress", dup.problemCode(t))
	other := e.do("POST", "/api/v1/mute-rules", map[string]any{"check_pattern": "aws.rds.*", "justification": "other"}, analyst...)
	require.Equal(t, "idempotency_key_reused", other.problemCode(t), "another request with the key in flight")

	require.NoError(t, hold.Rollback(ctx))
	var first response
	select {
	case first = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the first request did not finish")
	}
	require.Equal(t, http.StatusCreated, first.Code, string(first.Body))
	replay := e.do("POST", "/api/v1/mute-rules", body, analyst...)
	require.Equal(t, http.StatusCreated, replay.Code)
	require.Equal(t, "true", replay.Header.Get(api.ReplayedHeader))
	require.Equal(t, string(first.Body), string(replay.Body))
}

// doMulti is env.do with one more header line added (not replacing) after headers.
func (e *env) doMulti(method, path string, body any, headers []string, name, value string) response {
	e.t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(e.t, err)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.Header.Add(name, value)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return response{Code: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header()}
}
