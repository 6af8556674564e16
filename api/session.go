package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
)

// Login lockout: after maxLoginFailures consecutive wrong passwords the account is
// locked for loginLockout, whatever the password.
const (
	maxLoginFailures = 5
	loginLockout     = 15 * time.Minute
)

// meResponse describes the caller: who, which tenant, what it may do, and for users the
// tenants it can switch to and the CSRF token the UI sends back.
type meResponse struct {
	Kind        string             `json:"kind"`
	ID          uuid.UUID          `json:"id"`
	Name        string             `json:"name"`
	Tenant      store.Tenant       `json:"tenant"`
	Role        auth.Role          `json:"role"`
	Permissions []auth.Permission  `json:"permissions"`
	Memberships []store.Membership `json:"memberships,omitempty"`
	CSRFToken   string             `json:"csrf_token,omitempty"`
}

func (s *Server) Login(c echo.Context) error {
	var req apigen.LoginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	email := string(req.Email)
	var v validator
	v.email("email", email)
	v.text("password", req.Password, true, 1024)
	if err := v.problem(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	bad := unauthenticated("wrong e-mail or password")

	u, err := s.db.UserForLogin(ctx, email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.PasswordHash == nil) {
		auth.DummyVerify(req.Password)
		return bad
	}
	if err != nil {
		return err
	}
	if u.LockedUntil != nil && time.Now().Before(*u.LockedUntil) {
		secs := int(math.Ceil(time.Until(*u.LockedUntil).Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		return NewProblem(http.StatusTooManyRequests, CodeLocked,
			"too many failed sign-ins; try again after "+u.LockedUntil.UTC().Format(time.RFC3339))
	}
	if err := auth.VerifyPassword(*u.PasswordHash, req.Password); err != nil {
		if rerr := s.db.UserRecordLogin(ctx, u.ID, false, maxLoginFailures, loginLockout); rerr != nil {
			return rerr
		}
		return bad
	}
	members, err := s.db.MembershipsOfUser(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		return NewProblem(http.StatusForbidden, CodeForbidden, "this user belongs to no tenant")
	}
	active := members[0].TenantID
	if req.TenantID != nil {
		found := false
		for _, m := range members {
			found = found || m.TenantID == *req.TenantID
		}
		if !found {
			// As switching to it: a tenant that is not yours is not found.
			return NewProblem(http.StatusNotFound, CodeNotFound, "no such tenant among yours")
		}
		active = *req.TenantID
	}
	if err := s.db.UserRecordLogin(ctx, u.ID, true, maxLoginFailures, loginLockout); err != nil {
		return err
	}

	token := auth.RandomToken(32)
	sess := store.Session{ID: uuid.New(), UserID: u.ID, ActiveTenantID: active, CSRFToken: auth.RandomToken(24),
		ExpiresAt: time.Now().Add(s.cfg.SessionTTL)}
	if err := s.db.SessionCreate(ctx, sess, auth.HashToken(token), store.ValidIP(c.RealIP()), c.Request().UserAgent()); err != nil {
		return err
	}
	s.setSessionCookie(c, token, sess.ExpiresAt)

	p := &Principal{Kind: "user", UserID: u.ID, SessionID: sess.ID, TenantID: active, Name: u.Email, CSRFToken: sess.CSRFToken}
	for _, m := range members {
		if m.TenantID == active {
			p.Role = auth.Role(m.Role)
		}
	}
	c.Set("principal", p)
	if err := s.tx(c, func(tx pgx.Tx) error { return s.audit(c, tx, "auth.login", "user", u.ID.String(), nil) }); err != nil {
		return err
	}
	return s.respondMe(c, p)
}

func (s *Server) setSessionCookie(c echo.Context, token string, expires time.Time) {
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) Logout(c echo.Context) error {
	p := principalOf(c)
	if p.Kind != "user" {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "API keys have no session; revoke the key instead")
	}
	if err := s.tx(c, func(tx pgx.Tx) error { return s.audit(c, tx, "auth.logout", "user", p.UserID.String(), nil) }); err != nil {
		return err
	}
	if err := s.db.SessionDelete(c.Request().Context(), p.UserID, p.SessionID); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) SwitchTenant(c echo.Context) error {
	p := principalOf(c)
	if p.Kind != "user" {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "an API key belongs to one tenant")
	}
	var req apigen.SwitchTenantRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.TenantID == uuid.Nil {
		var v validator
		v.add("body", "tenant_id", "is required")
		return v.problem()
	}
	err := s.db.SessionSwitchTenant(c.Request().Context(), p.UserID, p.SessionID, req.TenantID)
	if errors.Is(err, store.ErrNotFound) {
		return NewProblem(http.StatusNotFound, CodeNotFound, "no such tenant among yours")
	}
	if err != nil {
		return err
	}
	members, err := s.db.MembershipsOfUser(c.Request().Context(), p.UserID)
	if err != nil {
		return err
	}
	np := *p
	np.TenantID = req.TenantID
	for _, m := range members {
		if m.TenantID == req.TenantID {
			np.Role = auth.Role(m.Role)
		}
	}
	c.Set("principal", &np)
	if err := s.tx(c, func(tx pgx.Tx) error {
		return s.audit(c, tx, "auth.switch_tenant", "tenant", req.TenantID.String(), nil)
	}); err != nil {
		return err
	}
	return s.respondMe(c, &np)
}

func (s *Server) GetMe(c echo.Context) error { return s.respondMe(c, principalOf(c)) }

func (s *Server) respondMe(c echo.Context, p *Principal) error {
	resp := meResponse{Kind: p.Kind, Name: p.Name, Role: p.Role, CSRFToken: p.CSRFToken}
	if p.Kind == "user" {
		resp.ID = p.UserID
	} else {
		resp.ID = p.KeyID
	}
	for _, perm := range auth.Permissions() {
		if p.Role.Can(perm) {
			resp.Permissions = append(resp.Permissions, perm)
		}
	}
	err := s.db.ScopedTx(c.Request().Context(), store.Scope{TenantID: p.TenantID, UserID: p.UserID}, func(tx pgx.Tx) error {
		var err error
		resp.Tenant, err = store.TenantGet(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	if p.Kind == "user" {
		if resp.Memberships, err = s.db.MembershipsOfUser(c.Request().Context(), p.UserID); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *Server) ChangePassword(c echo.Context) error {
	p := principalOf(c)
	if p.Kind != "user" {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "API keys have no password")
	}
	var req apigen.PasswordChangeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var v validator
	v.text("current_password", req.CurrentPassword, true, 1024)
	v.text("new_password", req.NewPassword, true, 1024)
	if len([]rune(req.NewPassword)) < auth.MinPasswordLength {
		v.add("body", "new_password", "must be at least 12 characters")
	}
	if strings.EqualFold(req.NewPassword, p.Name) {
		v.add("body", "new_password", "must not be your e-mail address")
	}
	if err := v.problem(); err != nil {
		return err
	}
	u, err := s.db.UserForLogin(c.Request().Context(), p.Name)
	if err != nil {
		return err
	}
	if u.PasswordHash == nil || auth.VerifyPassword(*u.PasswordHash, req.CurrentPassword) != nil {
		return NewProblem(http.StatusForbidden, CodeForbidden, "the current password is wrong")
	}
	hash, err := auth.HashPassword(req.NewPassword)
	if err != nil {
		return err
	}
	if err := s.db.UserSetPassword(c.Request().Context(), p.UserID, hash); err != nil {
		return err
	}
	if err := s.tx(c, func(tx pgx.Tx) error { return s.audit(c, tx, "user.password_changed", "user", p.UserID.String(), nil) }); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
