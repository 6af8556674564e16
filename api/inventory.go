package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/store"
)

var resourceFilterParams = []string{"q", "type", "region", "account_id", "tag", "include_deleted"}

func parseResourceFilter(q *query) store.ResourceFilter {
	f := store.ResourceFilter{Q: strings.TrimSpace(q.text("q", 200)), Type: q.text("type", 100), Region: q.text("region", 50),
		AccountID: q.uuidParam("account_id")}
	if tag := q.text("tag", 300); tag != "" {
		k, v, ok := strings.Cut(tag, "=")
		if !ok || k == "" {
			q.v.add("query", "tag", "must be key=value (the value may be empty)")
		}
		f.TagKey, f.TagValue = k, v
	}
	switch q.get("include_deleted") {
	case "", "false":
	case "true":
		f.IncludeDeleted = true
	default:
		q.v.add("query", "include_deleted", "must be true or false")
	}
	return f
}

func (r *reader) listResources(c echo.Context) error {
	q, err := parseQuery(c, append([]string{"cursor", "limit"}, resourceFilterParams...)...)
	if err != nil {
		return err
	}
	f := parseResourceFilter(q)
	after := q.cursor("type")
	limit := q.limit(50, 500)
	if err := q.v.problem(); err != nil {
		return err
	}
	var page store.ResourcePage
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		page, err = store.ResourceList(c.Request().Context(), tx, f, after, limit)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.ResourceItem]{Items: orEmpty(page.Items), NextCursor: page.NextCursor})
}

func (r *reader) resourceFacets(c echo.Context) error {
	q, err := parseQuery(c, resourceFilterParams...)
	if err != nil {
		return err
	}
	f := parseResourceFilter(q)
	if err := q.v.problem(); err != nil {
		return err
	}
	var out map[string][]store.FacetCount
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.ResourceFacets(c.Request().Context(), tx, f)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// resourceDetail is a resource's current document and its findings (every state, most
// severe first, at most 500).
type resourceDetail struct {
	store.ResourceDetail
	Findings []store.FindingItem `json:"findings"`
}

func (r *reader) getResource(c echo.Context) error {
	id, err := pathID(c, "resource_id")
	if err != nil {
		return err
	}
	var out resourceDetail
	err = r.tx(c, func(tx pgx.Tx) error {
		ctx := c.Request().Context()
		d, err := store.ResourceGet(ctx, tx, id)
		if err != nil {
			return err
		}
		out.ResourceDetail = d
		page, err := store.FindingList(ctx, tx, store.FindingFilter{ResourceID: &id}, store.FindingSort{Field: "severity", Desc: true}, nil, 500)
		if err != nil {
			return err
		}
		_, byID, err := r.tenantCatalog(c, tx)
		if err != nil {
			return err
		}
		out.Findings = withTitles(page.Items, byID)
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (r *reader) listVersions(c echo.Context) error {
	id, err := pathID(c, "resource_id")
	if err != nil {
		return err
	}
	q, err := parseQuery(c, "cursor", "limit")
	if err != nil {
		return err
	}
	before := 0
	if s := q.get("cursor"); s != "" {
		if before, err = strconv.Atoi(s); err != nil || before < 2 {
			q.v.add("query", "cursor", "is not a cursor this API returned")
		}
	}
	limit := q.limit(50, 500)
	if err := q.v.problem(); err != nil {
		return err
	}
	var out []store.ResourceVersion
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.ResourceVersions(c.Request().Context(), tx, id, before, limit)
		return err
	})
	if err != nil {
		return err
	}
	resp := listResponse[store.ResourceVersion]{Items: orEmpty(out)}
	if len(out) == limit && out[len(out)-1].Version > 1 {
		resp.NextCursor = strconv.Itoa(out[len(out)-1].Version)
	}
	return c.JSON(http.StatusOK, resp)
}

// versionParam parses a version number from the path; anything else is not found.
func versionParam(c echo.Context) (int, error) {
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		return 0, notFound("not found")
	}
	return n, nil
}

func (r *reader) getVersion(c echo.Context) error {
	id, err := pathID(c, "resource_id")
	if err != nil {
		return err
	}
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	var out store.ResourceVersion
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.ResourceVersionGet(c.Request().Context(), tx, id, n)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (r *reader) diffVersions(c echo.Context) error {
	id, err := pathID(c, "resource_id")
	if err != nil {
		return err
	}
	q, err := parseQuery(c, "from", "to")
	if err != nil {
		return err
	}
	version := func(name string) int {
		s := q.get(name)
		n, err := strconv.Atoi(s)
		if s == "" || err != nil || n < 1 {
			q.v.add("query", name, "is required: a version number (1, 2, ...)")
		}
		return n
	}
	from, to := version("from"), version("to")
	var out store.VersionDiff
	err = r.tx(c, func(tx pgx.Tx) error {
		// Another tenant's resource is not found whatever the parameters.
		if err := store.ResourceExists(c.Request().Context(), tx, id); err != nil {
			return err
		}
		if err := q.v.problem(); err != nil {
			return err
		}
		var err error
		out, err = store.ResourceDiff(c.Request().Context(), tx, id, from, to)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (r *reader) versionAt(c echo.Context) error {
	id, err := pathID(c, "resource_id")
	if err != nil {
		return err
	}
	q, err := parseQuery(c, "time")
	if err != nil {
		return err
	}
	t := q.time("time")
	if t == nil && q.get("time") == "" {
		q.v.add("query", "time", "is required: an RFC 3339 time")
	}
	var out store.ResourceVersion
	err = r.tx(c, func(tx pgx.Tx) error {
		// Another tenant's resource is not found whatever the parameters.
		if err := store.ResourceExists(c.Request().Context(), tx, id); err != nil {
			return err
		}
		if err := q.v.problem(); err != nil {
			return err
		}
		var err error
		out, err = store.ResourceVersionAt(c.Request().Context(), tx, id, *t)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
