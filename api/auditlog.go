package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

func (s *Server) listAuditLog(c echo.Context) error {
	q, err := parseQuery(c, "actor", "action", "since", "until", "cursor", "limit")
	if err != nil {
		return err
	}
	f := store.AuditFilter{ActorID: q.text("actor", 100), Action: q.text("action", 100), Since: q.time("since"),
		Until: q.time("until"), Limit: q.limit(50, 500)}
	if cur := q.get("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n <= 0 {
			q.v.add("query", "cursor", "is not a cursor this API returned")
		}
		f.Before = n
	}
	if err := q.v.problem(); err != nil {
		return err
	}
	var entries []store.AuditEntry
	err = s.tx(c, func(tx pgx.Tx) error {
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

// query reads query parameters against an allow-list and collects their errors.
type query struct {
	c echo.Context
	v validator
}

// parseQuery refuses unknown and repeated parameters: a typo in a filter must not
// silently widen the result.
func parseQuery(c echo.Context, allowed ...string) (*query, error) {
	q := &query{c: c}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for k, vals := range c.QueryParams() {
		if !ok[k] {
			q.v.add("query", k, "unknown parameter")
		} else if len(vals) > 1 {
			q.v.add("query", k, "given more than once")
		}
	}
	if err := q.v.problem(); err != nil {
		p := err.(*Problem)
		p.Status, p.Title, p.Code = http.StatusBadRequest, http.StatusText(http.StatusBadRequest), CodeBadRequest
		p.Type = "https://vigil.dev/problems/" + CodeBadRequest
		return nil, p
	}
	return q, nil
}

func (q *query) get(name string) string { return q.c.QueryParam(name) }

func (q *query) text(name string, maxLen int) string {
	s := q.get(name)
	if len(s) > maxLen {
		q.v.add("query", name, "is too long")
	}
	return s
}

func (q *query) time(name string) *time.Time {
	s := q.get(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		q.v.add("query", name, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z")
		return nil
	}
	return &t
}

func (q *query) limit(def, maxN int) int {
	s := q.get("limit")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxN {
		q.v.add("query", "limit", "must be a whole number from 1 to "+strconv.Itoa(maxN))
		return def
	}
	return n
}
