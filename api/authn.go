package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
)

// SessionCookie is the name of the UI session cookie.
const SessionCookie = "vigil_session"

// CSRFHeader carries the session's CSRF token on cookie-authenticated state changes.
const CSRFHeader = "X-CSRF-Token"

// Principal is who is calling, in which tenant, with which role. Every route behind
// authentication has one.
type Principal struct {
	// Kind is "user" (session cookie) or "api_key" (bearer token).
	Kind      string
	UserID    uuid.UUID // zero for API keys
	KeyID     uuid.UUID // zero for users
	SessionID uuid.UUID
	TenantID  uuid.UUID
	Role      auth.Role
	Name      string
	CSRFToken string
}

// ActorID is the audit log's actor id.
func (p *Principal) ActorID() string {
	if p.Kind == "api_key" {
		return p.KeyID.String()
	}
	return p.UserID.String()
}

func principalOf(c echo.Context) *Principal {
	p, _ := c.Get("principal").(*Principal)
	return p
}

func unauthenticated(detail string) error {
	return NewProblem(http.StatusUnauthorized, CodeUnauthenticated, detail)
}

// authenticate resolves the caller from a bearer API key or the session cookie, loads
// the role in the active tenant, checks CSRF for cookie-authenticated state changes,
// and applies the per-caller rate limit.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		var p *Principal
		var err error
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			p, err = s.authenticateKey(ctx, h)
		} else if ck, cerr := c.Cookie(SessionCookie); cerr == nil && ck.Value != "" {
			p, err = s.authenticateSession(c, ck.Value)
		} else {
			err = unauthenticated("sign in, or send an API key as Authorization: Bearer vgl_...")
		}
		if err != nil {
			return err
		}
		if ok, wait := s.callerLimit.allow(p.Kind+":"+p.ActorID(), time.Now()); !ok {
			return tooMany(c, wait)
		}
		c.Set("principal", p)
		return next(c)
	}
}

func (s *Server) authenticateKey(ctx context.Context, header string) (*Principal, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !auth.LooksLikeAPIKey(strings.TrimSpace(token)) {
		return nil, unauthenticated("the Authorization header must be: Bearer vgl_...")
	}
	k, err := s.db.APIKeyByHash(ctx, auth.HashToken(strings.TrimSpace(token)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthenticated("unknown API key")
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	switch {
	case k.RevokedAt != nil:
		return nil, unauthenticated("this API key was revoked")
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return nil, unauthenticated("this API key has expired")
	}
	if err := s.db.APIKeyTouch(ctx, k.TenantID, k.ID); err != nil {
		return nil, err
	}
	return &Principal{Kind: "api_key", KeyID: k.ID, TenantID: k.TenantID, Role: auth.Role(k.Role), Name: k.Name}, nil
}

func (s *Server) authenticateSession(c echo.Context, token string) (*Principal, error) {
	ctx := c.Request().Context()
	if len(token) > 100 {
		return nil, unauthenticated("invalid session; sign in again")
	}
	sess, err := s.db.SessionByToken(ctx, auth.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthenticated("the session expired or was signed out; sign in again")
	}
	if err != nil {
		return nil, err
	}
	// State changes made with a cookie must prove they come from our UI.
	if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions {
		got := c.Request().Header.Get(CSRFHeader)
		if subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
			return nil, NewProblem(http.StatusForbidden, CodeCSRF, "missing or wrong "+CSRFHeader+" header")
		}
	}
	var role, name string
	err = s.db.ScopedTx(ctx, store.Scope{TenantID: sess.ActiveTenantID, UserID: sess.UserID}, func(tx pgx.Tx) error {
		var err error
		if role, err = store.MemberRole(ctx, tx, sess.UserID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT email FROM users WHERE id = $1", sess.UserID).Scan(&name)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthenticated("you are no longer a member of this tenant; sign in again")
	}
	if err != nil {
		return nil, err
	}
	return &Principal{Kind: "user", UserID: sess.UserID, SessionID: sess.ID, TenantID: sess.ActiveTenantID,
		Role: auth.Role(role), Name: name, CSRFToken: sess.CSRFToken}, nil
}

// can wraps a handler with the permission it needs. Every authenticated route in
// routes.go goes through it, so the matrix of docs/security.md is enforced in one place.
func can(perm auth.Permission, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalOf(c)
		if p == nil {
			return unauthenticated("sign in first")
		}
		if !p.Role.Can(perm) {
			return NewProblem(http.StatusForbidden, CodeForbidden,
				"your role ("+string(p.Role)+") may not do this; it needs "+string(auth.MinRole(perm))+" or above")
		}
		return h(c)
	}
}

// tx runs fn in a transaction scoped to the caller's tenant (and user).
func (s *Server) tx(c echo.Context, fn func(pgx.Tx) error) error {
	p := principalOf(c)
	return s.db.ScopedTx(c.Request().Context(), store.Scope{TenantID: p.TenantID, UserID: p.UserID}, fn)
}

// audit records a state change in the same transaction as the change.
func (s *Server) audit(c echo.Context, tx pgx.Tx, action, targetType, targetID string, details map[string]any) error {
	p := principalOf(c)
	return store.AuditInsert(c.Request().Context(), tx, store.AuditEntry{
		ActorType: p.Kind, ActorID: p.ActorID(), ActorName: p.Name, Action: action,
		TargetType: targetType, TargetID: targetID, SourceIP: c.RealIP(),
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID), Details: details,
	})
}
