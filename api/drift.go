package api

import (
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/store"
)

// listDrift is the estate-wide change feed, newest first. since/until (until
// exclusive) answer "what changed between T1 and T2".
func (r *handlers) ListDrift(c echo.Context, params apigen.ListDriftParams) error {
	f := store.DriftFilter{Changes: commaList(params.Change), ResourceType: val(params.ResourceType, ""),
		AccountID: params.AccountID, Region: val(params.Region, ""), Since: params.Since, Until: params.Until}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		return badQuery("until", "must be after since")
	}
	after, err := cursorParam(params.Cursor, "drift")
	if err != nil {
		return err
	}
	var page store.DriftPage
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		page, err = store.DriftList(c.Request().Context(), tx, f, after, val(params.Limit, 50))
		return storeErr(err)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.DriftItem]{Items: orEmpty(page.Items), NextCursor: page.NextCursor})
}
