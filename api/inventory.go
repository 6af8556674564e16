package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/store"
)

// resourceFilter builds the inventory filter from its parameters.
func resourceFilter(q, typ, region *string, account *uuid.UUID, tag *string, includeDeleted *bool) store.ResourceFilter {
	f := store.ResourceFilter{Q: strings.TrimSpace(val(q, "")), Type: val(typ, ""), Region: val(region, ""),
		AccountID: account, IncludeDeleted: val(includeDeleted, false)}
	// The document's pattern guarantees "key=" at least.
	f.TagKey, f.TagValue, _ = strings.Cut(val(tag, ""), "=")
	return f
}

func (r *handlers) ListResources(c echo.Context, params apigen.ListResourcesParams) error {
	f := resourceFilter(params.Q, params.Type, params.Region, params.AccountID, params.Tag, params.IncludeDeleted)
	after, err := cursorParam(params.Cursor, "type")
	if err != nil {
		return err
	}
	var page store.ResourcePage
	err = r.tx(c, func(tx pgx.Tx) error {
		var err error
		page, err = store.ResourceList(c.Request().Context(), tx, f, after, val(params.Limit, 50))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listResponse[store.ResourceItem]{Items: orEmpty(page.Items), NextCursor: page.NextCursor})
}

func (r *handlers) GetResourceFacets(c echo.Context, params apigen.GetResourceFacetsParams) error {
	f := resourceFilter(params.Q, params.Type, params.Region, params.AccountID, params.Tag, params.IncludeDeleted)
	var out map[string][]store.FacetCount
	err := r.tx(c, func(tx pgx.Tx) error {
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

func (r *handlers) GetResource(c echo.Context, id uuid.UUID) error {
	var out resourceDetail
	err := r.tx(c, func(tx pgx.Tx) error {
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

func (r *handlers) ListResourceVersions(c echo.Context, id uuid.UUID, params apigen.ListResourceVersionsParams) error {
	// The document allows only a version number above 1 (the pattern).
	before, _ := strconv.Atoi(val(params.Cursor, "0"))
	limit := val(params.Limit, 50)
	var out []store.ResourceVersion
	err := r.tx(c, func(tx pgx.Tx) error {
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

func (r *handlers) GetResourceVersion(c echo.Context, id uuid.UUID, version int) error {
	var out store.ResourceVersion
	err := r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.ResourceVersionGet(c.Request().Context(), tx, id, version)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (r *handlers) DiffResourceVersions(c echo.Context, id uuid.UUID, params apigen.DiffResourceVersionsParams) error {
	var out store.VersionDiff
	err := r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.ResourceDiff(c.Request().Context(), tx, id, params.From, params.To)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (r *handlers) GetResourceAt(c echo.Context, id uuid.UUID, params apigen.GetResourceAtParams) error {
	var out store.ResourceVersion
	err := r.tx(c, func(tx pgx.Tx) error {
		var err error
		out, err = store.ResourceVersionAt(c.Request().Context(), tx, id, params.Time)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
