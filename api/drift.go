package api

import (
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

// listDrift is the estate-wide change feed, newest first. since/until (until
// exclusive) answer "what changed between T1 and T2".
func (r *reader) listDrift(c echo.Context) error {
	q, err := parseQuery(c, "change", "resource_type", "account_id", "region", "since", "until", "cursor", "limit")
	if err != nil {
		return err
	}
	f := store.DriftFilter{Changes: q.enumList("change", changeValues), ResourceType: q.text("resource_type", 100),
		AccountID: q.uuidParam("account_id"), Region: q.text("region", 50), Since: q.time("since"), Until: q.time("until")}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		q.v.add("query", "until", "must be after since")
	}
	after := q.cursor("drift")
	limit := q.limit(50, 500)
	if err := q.v.problem(); err != nil {
		return err
	}
	var page store.DriftPage
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		page, err = store.DriftList(c.Request().Context(), tx, f, after, limit)
		return storeErr(err)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.DriftItem]{Items: orEmpty(page.Items), NextCursor: page.NextCursor})
}
