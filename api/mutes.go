package api

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

type muteRequest struct {
	CheckPattern    string            `json:"check_pattern"`
	AccountID       *uuid.UUID        `json:"account_id"`
	Region          string            `json:"region"`
	ResourcePattern string            `json:"resource_pattern"`
	Tags            map[string]string `json:"tags"`
	Justification   string            `json:"justification"`
	ExpiresAt       *time.Time        `json:"expires_at"`
}

func (s *Server) listMuteRules(c echo.Context) error {
	var out []store.MuteRule
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.MuteRuleList(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.MuteRule]{Items: orEmpty(out)})
}

// createMuteRule stores a rule and applies it at once, in the same transaction, to
// the tenant's failing findings (each newly muted finding gets an event).
func (s *Server) createMuteRule(c echo.Context) error {
	var req muteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var v validator
	v.text("justification", req.Justification, true, 2000)
	v.text("check_pattern", req.CheckPattern, false, 200)
	v.text("resource_pattern", req.ResourcePattern, false, 2048)
	v.text("region", req.Region, false, 50)
	for _, pat := range []struct{ field, value string }{{"check_pattern", req.CheckPattern}, {"resource_pattern", req.ResourcePattern}} {
		if _, err := path.Match(pat.value, ""); err != nil {
			v.add("body", pat.field, "is not a valid glob pattern")
		}
	}
	if len(req.Tags) > 20 {
		v.add("body", "tags", "at most 20 tags")
	}
	if req.CheckPattern == "" && req.AccountID == nil && req.Region == "" && req.ResourcePattern == "" && len(req.Tags) == 0 {
		v.add("body", "check_pattern", "a rule needs at least one condition; it would mute everything")
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(time.Now()) {
		v.add("body", "expires_at", "must be in the future")
	}
	if err := v.problem(); err != nil {
		return err
	}
	p := principalOf(c)
	var out struct {
		store.MuteRule
		Muted int `json:"muted"`
	}
	err := s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		if req.AccountID != nil {
			if _, err := store.AccountGet(ctx, tx, *req.AccountID); err != nil {
				return NewProblem(http.StatusUnprocessableEntity, CodeValidation, "account_id names no account of yours")
			}
		}
		rule, err := store.MuteRuleCreate(ctx, tx, store.MuteRule{CheckPattern: req.CheckPattern, AccountID: req.AccountID,
			Region: req.Region, ResourcePattern: strings.TrimSpace(req.ResourcePattern), Tags: req.Tags,
			Justification: req.Justification, ExpiresAt: req.ExpiresAt, CreatedBy: p.Kind + ":" + p.ActorID()})
		if err != nil {
			return err
		}
		counts, err := store.FindingsRemute(ctx, tx, time.Now())
		if err != nil {
			return err
		}
		out.MuteRule, out.Muted = rule, counts.Muted
		return s.audit(c, tx, "mute_rule.created", "mute_rule", rule.ID.String(), map[string]any{"justification": rule.Justification, "muted": counts.Muted})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) deleteMuteRule(c echo.Context) error {
	id, err := pathID(c, "mute_id")
	if err != nil {
		return err
	}
	err = s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		if err := store.MuteRuleDelete(ctx, tx, id); err != nil {
			return err
		}
		counts, err := store.FindingsRemute(ctx, tx, time.Now())
		if err != nil {
			return err
		}
		return s.audit(c, tx, "mute_rule.deleted", "mute_rule", id.String(), map[string]any{"unmuted": counts.Unmuted})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type settingsRequest struct {
	RetentionDays   *int `json:"retention_days"`
	UnusedAfterDays *int `json:"unused_after_days"`
}

func (s *Server) getSettings(c echo.Context) error {
	var t store.Tenant
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		t, err = store.TenantGet(c.Request().Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) updateSettings(c echo.Context) error {
	var req settingsRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var v validator
	if req.RetentionDays != nil && (*req.RetentionDays < 7 || *req.RetentionDays > 3650) {
		v.add("body", "retention_days", "must be from 7 to 3650")
	}
	if req.UnusedAfterDays != nil && (*req.UnusedAfterDays < 1 || *req.UnusedAfterDays > 3650) {
		v.add("body", "unused_after_days", "must be from 1 to 3650")
	}
	if err := v.problem(); err != nil {
		return err
	}
	var t store.Tenant
	err := s.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		var err error
		if t, err = store.TenantUpdateSettings(ctx, tx, req.RetentionDays, req.UnusedAfterDays); err != nil {
			return err
		}
		return s.audit(c, tx, "settings.updated", "tenant", t.ID.String(), map[string]any{"retention_days": t.RetentionDays, "unused_after_days": t.UnusedAfterDays})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
