package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
)

func (s *Server) ListUsers(c echo.Context) error {
	var users []store.User
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		users, err = store.UserList(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.User]{Items: orEmpty(users)})
}

type inviteResponse struct {
	store.User
	// TemporaryPassword is set, once, when the invitation created a new user: hand it
	// over out of band; the user changes it after signing in.
	TemporaryPassword string `json:"temporary_password,omitempty"`
}

func (s *Server) InviteUser(c echo.Context) error {
	var req apigen.InviteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	email, name, role := strings.TrimSpace(string(req.Email)), val(req.Name, ""), auth.Role(req.Role)
	var v validator
	v.email("email", email)
	v.text("name", name, false, 200)
	if !role.Valid() {
		v.add("body", "role", "must be one of owner, admin, analyst, viewer")
	}
	if err := v.problem(); err != nil {
		return err
	}
	p := principalOf(c)
	if !p.Role.CanGrant(role) {
		return NewProblem(http.StatusForbidden, CodeForbidden, "you may not grant the role "+string(role))
	}
	var resp inviteResponse
	err := s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		u, err := store.UserInvite(ctx, tx, email, name, string(role))
		if errors.Is(err, store.ErrConflict) {
			return NewProblem(http.StatusConflict, CodeConflict, "that person is already a member")
		}
		if err != nil {
			return err
		}
		resp.User = u
		// A brand-new user gets a temporary password; an existing one keeps theirs.
		var hasPassword bool
		if err := tx.QueryRow(ctx, "SELECT password_hash IS NOT NULL FROM users WHERE id = $1", u.ID).Scan(&hasPassword); err != nil {
			return err
		}
		if !hasPassword {
			resp.TemporaryPassword = auth.RandomToken(15)
			hash, err := auth.HashPassword(resp.TemporaryPassword)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE id = $1", u.ID, hash); err != nil {
				return err
			}
		}
		return s.audit(c, tx, "user.invited", "user", u.ID.String(), map[string]any{"email": u.Email, "role": u.Role})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resp)
}

func (s *Server) UpdateUserRole(c echo.Context, id uuid.UUID) error {
	var err error
	var req apigen.RoleChangeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	role := auth.Role(req.Role)
	if !role.Valid() {
		var v validator
		v.add("body", "role", "must be one of owner, admin, analyst, viewer")
		return v.problem()
	}
	p := principalOf(c)
	var out store.User
	err = s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		cur, err := store.UserGet(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Role.CanGrant(role) || !p.Role.CanGrant(auth.Role(cur.Role)) {
			return NewProblem(http.StatusForbidden, CodeForbidden, "you may not change a "+cur.Role+" to "+string(role))
		}
		if err := s.keepAnOwner(c, tx, cur.Role, role); err != nil {
			return err
		}
		if err := store.UserSetRole(ctx, tx, id, string(role)); err != nil {
			return err
		}
		out = cur
		out.Role = string(role)
		return s.audit(c, tx, "user.role_changed", "user", id.String(), map[string]any{"from": cur.Role, "to": role})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) RemoveUser(c echo.Context, id uuid.UUID) error {
	var err error
	p := principalOf(c)
	err = s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		cur, err := store.UserGet(ctx, tx, id)
		if err != nil {
			return err
		}
		if !p.Role.CanGrant(auth.Role(cur.Role)) {
			return NewProblem(http.StatusForbidden, CodeForbidden, "you may not remove a "+cur.Role)
		}
		if err := s.keepAnOwner(c, tx, cur.Role, ""); err != nil {
			return err
		}
		if err := store.UserRemove(ctx, tx, id); err != nil {
			return err
		}
		return s.audit(c, tx, "user.removed", "user", id.String(), map[string]any{"email": cur.Email, "role": cur.Role})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// keepAnOwner refuses to demote or remove the tenant's last owner.
func (s *Server) keepAnOwner(c echo.Context, tx pgx.Tx, from string, to auth.Role) error {
	if from != string(auth.RoleOwner) || to == auth.RoleOwner {
		return nil
	}
	n, err := store.OwnerCount(c.Request().Context(), tx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return NewProblem(http.StatusConflict, CodeConflict, "a tenant keeps at least one owner; promote someone else first")
	}
	return nil
}

// listResponse is the envelope of every list: items, and the cursor of the next page.
type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
