package api

import (
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/store"
)

func (s *Server) ListAuditLog(c echo.Context, params apigen.ListAuditLogParams) error {
	f := store.AuditFilter{ActorID: val(params.Actor, ""), Action: val(params.Action, ""), Since: params.Since,
		Until: params.Until, Limit: val(params.Limit, 50)}
	if cur := val(params.Cursor, ""); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n <= 0 {
			return badQuery("cursor", "is not a cursor this API returned")
		}
		f.Before = n
	}
	var entries []store.AuditEntry
	err := s.tx(c, func(tx pgx.Tx) error {
		var err error
		entries, err = store.AuditList(c.Request().Context(), tx, f)
		return err
	})
	if err != nil {
		return err
	}
	resp := listResponse[store.AuditEntry]{Items: orEmpty(entries)}
	if len(entries) == f.Limit {
		resp.NextCursor = strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, resp)
}
