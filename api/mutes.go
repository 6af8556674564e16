package api

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/store"
)

func (s *Server) ListMuteRules(c echo.Context) error {
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
func (s *Server) CreateMuteRule(c echo.Context) error {
	var req apigen.MuteRuleCreateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	checkPattern, resourcePattern, region := val(req.CheckPattern, ""), val(req.ResourcePattern, ""), val(req.Region, "")
	tags := val(req.Tags, nil)
	var v validator
	v.text("justification", req.Justification, true, 2000)
	v.text("check_pattern", checkPattern, false, 200)
	v.text("resource_pattern", resourcePattern, false, 2048)
	v.text("region", region, false, 50)
	for _, pat := range []struct{ field, value string }{{"check_pattern", checkPattern}, {"resource_pattern", resourcePattern}} {
		if _, err := path.Match(pat.value, ""); err != nil {
			v.add("body", pat.field, "is not a valid glob pattern")
		}
	}
	if len(tags) > 20 {
		v.add("body", "tags", "at most 20 tags")
	}
	if checkPattern == "" && req.AccountID == nil && region == "" && resourcePattern == "" && len(tags) == 0 {
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
				return invalidField("body", "account_id", "names no account of yours")
			}
		}
		rule, err := store.MuteRuleCreate(ctx, tx, store.MuteRule{CheckPattern: checkPattern, AccountID: req.AccountID,
			Region: region, ResourcePattern: strings.TrimSpace(resourcePattern), Tags: tags,
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

func (s *Server) DeleteMuteRule(c echo.Context, id uuid.UUID) error {
	err := s.tx(c, func(tx pgx.Tx) error {
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

func (s *Server) GetSettings(c echo.Context) error {
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

func (s *Server) UpdateSettings(c echo.Context) error {
	var req apigen.SettingsUpdateRequest
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
