package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
)

// Problem codes of conditional requests and idempotency keys (part of the contract).
const (
	CodePreconditionFailed    = "precondition_failed"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeIdempotencyInProgress = "idempotency_in_progress"
)

// etagRoutes lists the GET routes of single objects (Echo path patterns). Each answers a
// strong ETag and honours If-None-Match; a PATCH, PUT or DELETE on the same path honours
// If-Match. Lists and exports have none (their pages move under them), nor does the
// summary (it carries the time of the request, so it never repeats). A test fails when a
// GET route is in neither this list nor the test's list of the others, so a new endpoint
// gets a decision.
var etagRoutes = []string{
	"/api/v1/me",
	"/api/v1/settings",
	"/api/v1/accounts/aws/onboarding",
	"/api/v1/accounts/:account_id",
	"/api/v1/scans/:scan_id",
	"/api/v1/iam/principals/:resource_id/effective",
	"/api/v1/findings/:finding_id",
	"/api/v1/resources/:resource_id",
	"/api/v1/resources/:resource_id/versions/:version",
	"/api/v1/resources/:resource_id/diff",
	"/api/v1/resources/:resource_id/at",
	"/api/v1/checks/:check_id",
	"/api/v1/custom-checks/:custom_check_id",
	"/api/v1/compliance/frameworks/:framework_id",
	"/api/v1/compliance/frameworks/:framework_id/controls/:control_id",
}

// preconditions implements ETags and conditional requests (RFC 9110 section 13) as
// middleware, without the handlers knowing:
//
//   - a GET of a route in etagRoutes is buffered; a 200 gets ETag, a hash of the
//     tenant, the content type and the body (so the tag changes with anything that
//     changes the representation, and never matches across tenants), and
//     Cache-Control: private, no-cache. If-None-Match naming it turns the answer into
//     a 304 without a body. The handler runs in full first, so an object the caller
//     cannot see is a 404 whatever the caller sends.
//   - a PATCH, PUT or DELETE of such a path takes an advisory lock on the object (so
//     API writes to one object run one at a time, across processes), renders the
//     object's GET internally with the caller's identity when If-Match or
//     If-None-Match is present, answers 412 when the precondition fails, and otherwise
//     runs the handler under the same lock; a successful PATCH or PUT answers the new
//     ETag. If-Match on a write to an object without an ETag is a 400: silently ignoring
//     it would let the client believe it is protected.
type preconditions struct {
	s *Server
	// gets holds the handler of each route in etagRoutes as registered (with the
	// route's own wrapping, e.g. the permission check), without the group middleware
	// (authentication, rate limits, this), to render the current representation.
	gets map[string]echo.HandlerFunc
	// slots bounds how many object locks this process holds at once: each holds a
	// pooled connection while the handler needs another, so an unbounded number could
	// exhaust the pool and wait on itself.
	slots chan struct{}
	perms *routePerms
}

// newPreconditions must be called before the routes are registered: it records the
// handlers of etagRoutes as they are added.
func newPreconditions(s *Server) *preconditions {
	maxConns := int(s.db.Pool.Config().MaxConns)
	p := &preconditions{
		s:     s,
		gets:  map[string]echo.HandlerFunc{},
		slots: make(chan struct{}, max(1, maxConns/4)),
		perms: newRoutePerms(s.echo),
	}
	wanted := map[string]bool{}
	for _, r := range etagRoutes {
		wanted[r] = true
	}
	prev := s.echo.OnAddRouteHandler
	s.echo.OnAddRouteHandler = func(host string, r echo.Route, h echo.HandlerFunc, m []echo.MiddlewareFunc) {
		if r.Method == http.MethodGet && wanted[r.Path] {
			p.gets[r.Path] = h
		}
		if prev != nil {
			prev(host, r, h, m)
		}
	}
	return p
}

// routePerms knows the permission each route names (its Echo route name).
type routePerms struct {
	// byRoute maps "METHOD /path" to the permission; built on first use, once every
	// route is registered.
	byRoute func() map[string]auth.Permission
}

func newRoutePerms(e *echo.Echo) *routePerms {
	return &routePerms{byRoute: sync.OnceValue(func() map[string]auth.Permission {
		out := map[string]auth.Permission{}
		for _, r := range e.Routes() {
			out[r.Method+" "+r.Path] = auth.Permission(r.Name)
		}
		return out
	})}
}

// permitted reports whether the caller has the permission of the matched route. The
// handler checks it again; answering here first keeps a 403 ahead of a 412 (RFC 9110
// evaluates preconditions after the request's other checks) and keeps a refused request
// from claiming an idempotency key.
func (rp *routePerms) permitted(c echo.Context) bool {
	perm, ok := rp.byRoute()[c.Request().Method+" "+c.Path()]
	if !ok || !slices.Contains(auth.Permissions(), perm) {
		return true // not a permission-named route: the handler decides
	}
	pr := principalOf(c)
	return pr != nil && pr.Role.Can(perm)
}

func (p *preconditions) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet:
			if _, ok := p.gets[c.Path()]; ok {
				return p.read(c, next)
			}
		case http.MethodPatch, http.MethodPut, http.MethodDelete:
			return p.write(c, next)
		}
		return next(c)
	}
}

// read serves a GET of a single object with its ETag, or a 304.
func (p *preconditions) read(c echo.Context, next echo.HandlerFunc) error {
	res := c.Response()
	orig := res.Writer
	buf := &bufferedWriter{header: orig.Header()}
	res.Writer = buf
	err := next(c)
	res.Writer = orig
	if err != nil || buf.status != http.StatusOK {
		buf.sendTo(orig)
		return err
	}
	tag := etagOf(principalOf(c).TenantID, buf.header.Get(echo.HeaderContentType), buf.body.Bytes())
	h := orig.Header()
	h.Set("ETag", tag)
	h.Set(echo.HeaderCacheControl, "private, no-cache")
	if inm := headerList(c.Request(), "If-None-Match"); inm != "" && noneMatchFails(inm, tag) {
		h.Del(echo.HeaderContentType)
		h.Del(echo.HeaderContentLength)
		orig.WriteHeader(http.StatusNotModified)
		res.Status, res.Size = http.StatusNotModified, 0
		return nil
	}
	buf.sendTo(orig)
	return nil
}

// write runs a PATCH, PUT or DELETE under the object's lock, after its preconditions.
func (p *preconditions) write(c echo.Context, next echo.HandlerFunc) error {
	req := c.Request()
	if !p.perms.permitted(c) {
		return next(c) // the handler answers 403
	}
	ifMatch, ifNoneMatch := headerList(req, "If-Match"), headerList(req, "If-None-Match")
	conditional := ifMatch != "" || ifNoneMatch != ""
	get, ok := p.gets[c.Path()]
	if !ok {
		if conditional {
			return NewProblem(http.StatusBadRequest, CodeBadRequest,
				"this object has no ETag (it has no single-object GET): send the request without If-Match and If-None-Match")
		}
		return next(c)
	}
	ctx := req.Context()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	release, err := p.s.db.ObjectLock(ctx, principalOf(c).TenantID, strings.ToLower(req.URL.Path))
	if err != nil {
		return err
	}
	defer release()

	if conditional {
		tag, found, err := p.current(c, get)
		if err != nil {
			return err
		}
		// An object the caller cannot see has no current representation: the handler
		// answers 404 as it would without the header, so a precondition never tells
		// whether another tenant's object exists.
		if found && ((ifMatch != "" && !matchFound(ifMatch, tag, true)) || (ifNoneMatch != "" && noneMatchFails(ifNoneMatch, tag))) {
			return NewProblem(http.StatusPreconditionFailed, CodePreconditionFailed,
				"the object changed since the ETag you sent (or does not satisfy your precondition); read it again and redo the change")
		}
	}
	if req.Method == http.MethodDelete {
		return next(c)
	}
	res := c.Response()
	orig := res.Writer
	buf := &bufferedWriter{header: orig.Header()}
	res.Writer = buf
	err = next(c)
	res.Writer = orig
	if err == nil && buf.status >= 200 && buf.status < 300 {
		tag, found, cerr := p.current(c, get)
		if cerr != nil {
			// The change is committed: report it and leave the ETag out.
			p.s.logger.WarnContext(ctx, "render the changed object for its ETag", "path", req.URL.Path, "error", cerr.Error())
		} else if found {
			orig.Header().Set("ETag", tag)
		}
	}
	buf.sendTo(orig)
	return err
}

// current renders the object's GET as the caller and returns its ETag; found is false
// when the caller cannot see the object (404).
func (p *preconditions) current(c echo.Context, get echo.HandlerFunc) (tag string, found bool, err error) {
	r := c.Request().Clone(c.Request().Context())
	r.Method = http.MethodGet
	r.Body, r.ContentLength = http.NoBody, 0
	r.URL.RawQuery = ""
	r.Header.Del(echo.HeaderContentType)
	w := &bufferedWriter{header: http.Header{}}
	gc := p.s.echo.NewContext(r, w)
	p.s.echo.Router().Find(http.MethodGet, echo.GetPath(r), gc)
	if gc.Path() != c.Path() {
		return "", false, errors.New("conditional write: no GET route for " + c.Path())
	}
	gc.Set("principal", principalOf(c))
	if err := get(gc); err != nil {
		var pr *Problem
		if errors.Is(err, store.ErrNotFound) || (errors.As(err, &pr) && pr.Status == http.StatusNotFound) {
			return "", false, nil
		}
		return "", false, err
	}
	if w.status != http.StatusOK {
		return "", false, nil
	}
	return etagOf(principalOf(c).TenantID, w.header.Get(echo.HeaderContentType), w.body.Bytes()), true, nil
}

// etagOf is the strong ETag of a representation: 144 bits of SHA-256 over the tenant,
// the content type and the body, base64url-encoded.
func etagOf(tenant uuid.UUID, contentType string, body []byte) string {
	h := sha256.New()
	h.Write(tenant[:])
	h.Write([]byte(contentType))
	h.Write([]byte{0})
	h.Write(body)
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
}

// headerList joins every line of a list-valued header.
func headerList(r *http.Request, name string) string {
	return strings.TrimSpace(strings.Join(r.Header.Values(name), ","))
}

// entityTags parses "*" or a comma-separated list of entity tags (RFC 9110 section
// 8.8.3). Malformed members are skipped: they match nothing.
func entityTags(v string) (any bool, tags []entityTag) {
	if strings.TrimSpace(v) == "*" {
		return true, nil
	}
	for len(v) > 0 {
		v = strings.TrimLeft(v, " \t,")
		if v == "" {
			break
		}
		weak := strings.HasPrefix(v, "W/")
		if weak {
			v = v[2:]
		}
		if !strings.HasPrefix(v, `"`) {
			// Not an entity tag: skip to the next comma.
			i := strings.IndexByte(v, ',')
			if i < 0 {
				break
			}
			v = v[i:]
			continue
		}
		end := strings.IndexByte(v[1:], '"')
		if end < 0 {
			break
		}
		tags = append(tags, entityTag{opaque: v[:end+2], weak: weak})
		v = v[end+2:]
	}
	return false, tags
}

type entityTag struct {
	opaque string // with its quotes
	weak   bool
}

// matchFound evaluates If-Match (strong comparison when strong is true): true when the
// list is "*" or names the current tag.
func matchFound(list, current string, strong bool) bool {
	anyTag, tags := entityTags(list)
	if anyTag {
		return true
	}
	for _, t := range tags {
		if t.opaque == current && !(strong && t.weak) {
			return true
		}
	}
	return false
}

// noneMatchFails evaluates If-None-Match (weak comparison): true when the condition is
// false, i.e. the list is "*" or names the current tag.
func noneMatchFails(list, current string) bool { return matchFound(list, current, false) }

// bufferedWriter holds a response until the middleware decides what to send.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *bufferedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// Flush does nothing: the body is sent whole at the end.
func (w *bufferedWriter) Flush() {}

// sendTo sends what was buffered (nothing if the handler wrote nothing).
func (w *bufferedWriter) sendTo(dst http.ResponseWriter) {
	if w.status == 0 {
		return
	}
	dst.WriteHeader(w.status)
	_, _ = dst.Write(w.body.Bytes())
}
