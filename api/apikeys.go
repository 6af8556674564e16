package api

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/google/uuid"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/store"
)

func (s *Server) ListAPIKeys(c echo.Context) error {
	var keys []store.APIKey
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		keys, err = store.APIKeyList(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.APIKey]{Items: orEmpty(keys)})
}

type createKeyResponse struct {
	store.APIKey
	// Key is the secret, shown once: only its hash is kept.
	Key string `json:"key"`
}

func (s *Server) CreateAPIKey(c echo.Context) error {
	var req apigen.APIKeyCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	role := auth.Role(req.Role)
	var v validator
	v.text("name", req.Name, true, 200)
	if !role.Valid() {
		v.add("body", "role", "must be one of owner, admin, analyst, viewer")
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(time.Now()) {
		v.add("body", "expires_at", "must be in the future")
	}
	if err := v.problem(); err != nil {
		return err
	}
	p := principalOf(c)
	if !p.Role.CanGrant(role) {
		return NewProblem(http.StatusForbidden, CodeForbidden, "you may not create a key with the role "+string(role))
	}
	key, prefix := auth.NewAPIKey()
	var createdBy *uuid.UUID
	if p.Kind == "user" {
		createdBy = &p.UserID
	}
	var resp createKeyResponse
	err := s.tx(c, func(tx pgx.Tx) error {
		k, err := store.APIKeyCreate(c.Request().Context(), tx, req.Name, prefix, auth.HashToken(key), string(role), createdBy, req.ExpiresAt)
		if err != nil {
			return err
		}
		resp = createKeyResponse{APIKey: k, Key: key}
		return s.audit(c, tx, "api_key.created", "api_key", k.ID.String(), map[string]any{"name": k.Name, "role": k.Role})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resp)
}

func (s *Server) RevokeAPIKey(c echo.Context, id uuid.UUID) error {
	err := s.tx(c, func(tx pgx.Tx) error {
		k, err := store.APIKeyRevoke(c.Request().Context(), tx, id)
		if err != nil {
			return err
		}
		return s.audit(c, tx, "api_key.revoked", "api_key", id.String(), map[string]any{"name": k.Name})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
