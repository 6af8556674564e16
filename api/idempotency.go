package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

// IdempotencyKeyHeader is the request header of draft-ietf-httpapi-idempotency-key-header.
const IdempotencyKeyHeader = "Idempotency-Key"

// ReplayedHeader marks an answer replayed from an earlier request with the same key.
const ReplayedHeader = "Idempotent-Replayed"

// idempotentRoutes lists the POSTs that create something or start work, and so take an
// Idempotency-Key. On other operations the header is ignored (they are reads, or
// idempotent by nature: PATCH, PUT, DELETE).
var idempotentRoutes = []string{
	"POST /api/v1/users",
	"POST /api/v1/api-keys",
	"POST /api/v1/accounts",
	"POST /api/v1/accounts/:account_id/scans",
	"POST /api/v1/scans/:scan_id/cancel",
	"POST /api/v1/mute-rules",
	"POST /api/v1/findings/mute",
	"POST /api/v1/custom-checks",
}

// replayedHeaders are the response headers stored with a response and replayed.
var replayedHeaders = []string{echo.HeaderContentType, echo.HeaderLocation}

const (
	// idempotencyTTL is how long a key lives after its first use.
	idempotencyTTL = 24 * time.Hour
	// idempotencyLease is how long a claim holds while its request runs. A request
	// running longer loses it: a retry then executes again. Handlers of these routes
	// take milliseconds; the lease only matters when a process dies mid-request.
	idempotencyLease = 2 * time.Minute
)

// idempotency implements Idempotency-Key as middleware behind authentication:
//
//   - the key is claimed in its own committed transaction (an in-flight row) before the
//     handler runs, keyed by tenant, caller and key, with a fingerprint of the request;
//   - a 2xx answer is stored (status, Content-Type, Location, body), sealed with the
//     master key because answers can hold secrets (a new API key, a temporary password);
//     any other outcome deletes the claim, so a retry executes again;
//   - a retry with the same key and fingerprint replays the stored answer with
//     Idempotent-Replayed: true; another fingerprint is 422 idempotency_key_reused; a
//     claim still in flight is 409 idempotency_in_progress.
//
// The answer is stored in a transaction of its own just after the handler's: if the
// process dies between the two, the claim stays in flight until its lease ends and a
// retry then executes again.
type idempotency struct {
	s      *Server
	routes map[string]bool
	perms  *routePerms
}

func newIdempotency(s *Server) *idempotency {
	i := &idempotency{s: s, routes: map[string]bool{}, perms: newRoutePerms(s.echo)}
	for _, r := range idempotentRoutes {
		i.routes[r] = true
	}
	return i
}

// storedResponse is what is sealed and kept for a replay.
type storedResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

func (i *idempotency) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !i.routes[req.Method+" "+c.Path()] {
			return next(c)
		}
		values := req.Header.Values(IdempotencyKeyHeader)
		if len(values) == 0 {
			return next(c)
		}
		key, err := parseIdempotencyKey(values)
		if err != nil {
			return err
		}
		if !i.perms.permitted(c) {
			return next(c) // the handler answers 403; nothing is claimed
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return err // over the body limit: 413
			}
			return NewProblem(http.StatusBadRequest, CodeBadRequest, "cannot read request body")
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		p := principalOf(c)
		claim := store.IdempotencyRequest{
			Principal: p.Kind + ":" + p.ActorID(), Key: key, Fingerprint: requestFingerprint(req, body),
			Method: req.Method, Path: req.URL.Path, Lease: idempotencyLease, TTL: idempotencyTTL,
		}
		var state store.IdempotencyState
		var rec store.IdempotencyRecord
		err = i.s.tx(c, func(tx pgx.Tx) error {
			var err error
			state, rec, err = store.IdempotencyClaim(req.Context(), tx, claim)
			return err
		})
		if err != nil {
			return err
		}
		switch state {
		case store.IdempotencyMismatch:
			p := NewProblem(http.StatusUnprocessableEntity, CodeIdempotencyKeyReused,
				"this Idempotency-Key was used for a different request (method, path or body); use a new key for a new request")
			p.Errors = []FieldError{{Location: "header", Field: "Idempotency-Key", Message: "already used for a different request"}}
			return p
		case store.IdempotencyInFlight:
			return NewProblem(http.StatusConflict, CodeIdempotencyInProgress,
				"a request with this Idempotency-Key is still running; retry shortly to get its answer")
		case store.IdempotencyCompleted:
			return i.replay(c, claim, rec)
		}
		return i.execute(c, next, claim, rec.LeaseID)
	}
}

// execute runs the handler for a claimed key and stores a successful answer.
func (i *idempotency) execute(c echo.Context, next echo.HandlerFunc, claim store.IdempotencyRequest, lease uuid.UUID) (err error) {
	res := c.Response()
	tee := &teeWriter{ResponseWriter: res.Writer}
	res.Writer = tee
	// The claim is settled even when the client went away or the handler panicked:
	// otherwise it would stay in flight until its lease ends.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
	defer cancel()
	stored := false
	defer func() {
		res.Writer = tee.ResponseWriter
		if stored {
			return
		}
		rerr := i.tx(ctx, c, func(tx pgx.Tx) error {
			return store.IdempotencyRelease(ctx, tx, claim.Principal, claim.Key, lease)
		})
		if rerr != nil {
			i.s.logger.ErrorContext(ctx, "release idempotency key", "path", claim.Path, "error", rerr.Error())
		}
	}()

	err = next(c)
	if err != nil || res.Status < 200 || res.Status > 299 || !res.Committed {
		return err
	}
	resp := storedResponse{Status: res.Status, Header: http.Header{}, Body: tee.body.Bytes()}
	for _, h := range replayedHeaders {
		if v := res.Header().Values(h); len(v) > 0 {
			resp.Header[h] = v
		}
	}
	plain, jerr := json.Marshal(resp)
	if jerr != nil {
		i.s.logger.ErrorContext(ctx, "store idempotent response", "path", claim.Path, "error", jerr.Error())
		return nil
	}
	sealed, serr := i.s.cfg.Sealer.Seal(plain, idempotencyOwner(c, claim))
	if serr != nil {
		i.s.logger.ErrorContext(ctx, "seal idempotent response", "path", claim.Path, "error", serr.Error())
		return nil
	}
	cerr := i.tx(ctx, c, func(tx pgx.Tx) error {
		return store.IdempotencyComplete(ctx, tx, claim.Principal, claim.Key, lease, res.Status, sealed)
	})
	switch {
	case cerr == nil:
		stored = true
	case errors.Is(cerr, store.ErrNotFound):
		// The lease ended and a retry took the key over: that one will store its answer.
		stored = true
		i.s.logger.WarnContext(ctx, "idempotency key taken over before its answer was stored", "path", claim.Path)
	default:
		// The answer was sent; the claim is released so that a retry executes again.
		i.s.logger.ErrorContext(ctx, "store idempotent response", "path", claim.Path, "error", cerr.Error())
	}
	return nil
}

// tx is Server.tx with its own context: settling a claim must outlive the request.
func (i *idempotency) tx(ctx context.Context, c echo.Context, fn func(pgx.Tx) error) error {
	p := principalOf(c)
	return i.s.db.ScopedTx(ctx, store.Scope{TenantID: p.TenantID, UserID: p.UserID}, fn)
}

// replay answers a stored response.
func (i *idempotency) replay(c echo.Context, claim store.IdempotencyRequest, rec store.IdempotencyRecord) error {
	plain, err := i.s.cfg.Sealer.Open(rec.Response, idempotencyOwner(c, claim))
	if err != nil {
		return err
	}
	var resp storedResponse
	if err := json.Unmarshal(plain, &resp); err != nil {
		return err
	}
	h := c.Response().Header()
	for k, vs := range resp.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	h.Set(ReplayedHeader, "true")
	c.Response().WriteHeader(resp.Status)
	if len(resp.Body) > 0 {
		if _, err := c.Response().Write(resp.Body); err != nil {
			return err
		}
	}
	return nil
}

// idempotencyOwner binds a sealed response to its row: it opens for that tenant, caller
// and key only.
func idempotencyOwner(c echo.Context, claim store.IdempotencyRequest) string {
	return "tenant/" + principalOf(c).TenantID.String() + "/idempotency_key/" + claim.Principal + "/" + claim.Key
}

// parseIdempotencyKey validates the header: one value of 1 to 255 printable ASCII
// characters. The draft's quoted form ("...") is accepted as is; the quotes are part of
// the key.
func parseIdempotencyKey(values []string) (string, error) {
	bad := func(msg string) error {
		p := NewProblem(http.StatusBadRequest, CodeBadRequest, "invalid "+IdempotencyKeyHeader+" header: "+msg)
		p.Errors = []FieldError{{Location: "header", Field: IdempotencyKeyHeader, Message: msg}}
		return p
	}
	if len(values) != 1 {
		return "", bad("send it once")
	}
	k := values[0]
	if len(k) < 1 || len(k) > 255 {
		return "", bad("must be 1 to 255 characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", bad("must be printable ASCII characters")
		}
	}
	return k, nil
}

// requestFingerprint identifies a request: method, path, query and body.
func requestFingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.Path, r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil)
}

// teeWriter passes a response through and keeps a copy of its body.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Flush forwards to the underlying writer when it can flush.
func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
