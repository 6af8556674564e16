package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/vigilsec/vigil/auth"
	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/store"
)

// readRoutes registers the read side: findings explorer, inventory, drift, summary,
// checks catalog and compliance. Kept beside routes.go so that both lists stay short.
func (s *Server) readRoutes(route func(method, path string, perm auth.Permission, h echo.HandlerFunc)) {
	co, err := checks.NewCompiler(checks.CompilerConfig{RuntimeCostLimit: checks.DefaultMaxCost})
	if err != nil {
		panic("build the compiler of custom checks: " + err.Error()) // a broken CEL environment is a programming error
	}
	r := &reader{Server: s, cat: newCatalog(s.cfg.Checks), compiler: co}

	route("GET", "/findings", auth.PermRead, r.listFindings)
	route("GET", "/findings/facets", auth.PermRead, r.findingFacets)
	route("GET", "/findings/export", auth.PermRead, r.exportFindings)
	route("POST", "/findings/mute", auth.PermManageMutes, r.muteFindings)
	route("GET", "/findings/:finding_id", auth.PermRead, r.getFinding)

	route("GET", "/summary", auth.PermRead, r.summary)

	route("GET", "/resources", auth.PermRead, r.listResources)
	route("GET", "/resources/facets", auth.PermRead, r.resourceFacets)
	route("GET", "/resources/:resource_id", auth.PermRead, r.getResource)
	route("GET", "/resources/:resource_id/versions", auth.PermRead, r.listVersions)
	route("GET", "/resources/:resource_id/versions/:version", auth.PermRead, r.getVersion)
	route("GET", "/resources/:resource_id/diff", auth.PermRead, r.diffVersions)
	route("GET", "/resources/:resource_id/at", auth.PermRead, r.versionAt)

	route("GET", "/drift", auth.PermRead, r.listDrift)

	route("GET", "/checks", auth.PermRead, r.listChecks)
	route("GET", "/checks/:check_id", auth.PermRead, r.getCheck)
	route("GET", "/custom-checks", auth.PermRead, r.listCustomChecks)
	route("POST", "/custom-checks", auth.PermManageChecks, r.createCustomCheck)
	route("POST", "/custom-checks/dry-run", auth.PermManageChecks, r.dryRunCustomCheck)
	route("GET", "/custom-checks/:custom_check_id", auth.PermRead, r.getCustomCheck)
	route("PUT", "/custom-checks/:custom_check_id", auth.PermManageChecks, r.updateCustomCheck)
	route("DELETE", "/custom-checks/:custom_check_id", auth.PermManageChecks, r.deleteCustomCheck)

	route("GET", "/compliance/frameworks", auth.PermRead, r.listFrameworks)
	route("GET", "/compliance/frameworks/:framework_id", auth.PermRead, r.getFramework)
	route("GET", "/compliance/frameworks/:framework_id/controls/:control_id", auth.PermRead, r.getControl)
}

// reader serves the read side. It holds what is built once with the routes: the
// built-in catalog and the compiler of custom checks (both immutable).
type reader struct {
	*Server
	cat      *catalog
	compiler *checks.Compiler
}

var (
	severityValues = []string{"critical", "high", "medium", "low", "info"}
	statusValues   = []string{store.StatusPass, store.StatusFail, store.StatusUnknown}
	stateValues    = []string{store.StateOpen, store.StateResolved, store.StateMuted}
	providerValues = []string{"aws", "azure", "gcp"}
	changeValues   = []string{"created", "modified", "deleted", "restored"}
)

// enumList reads a comma-separated list whose every element must be allowed.
func (q *query) enumList(name string, allowed []string) []string {
	s := q.get(name)
	if s == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if !slices.Contains(allowed, v) {
			q.v.add("query", name, "each value must be one of "+strings.Join(allowed, ", "))
			return nil
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// enum reads one value that must be allowed.
func (q *query) enum(name string, allowed []string) string {
	s := q.get(name)
	if s != "" && !slices.Contains(allowed, s) {
		q.v.add("query", name, "must be one of "+strings.Join(allowed, ", "))
		return ""
	}
	return s
}

// uuidParam reads an optional UUID parameter.
func (q *query) uuidParam(name string) *uuid.UUID {
	s := q.get(name)
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		q.v.add("query", name, "must be a UUID")
		return nil
	}
	return &id
}

// cursor decodes the cursor parameter for a sort.
func (q *query) cursor(sort string) *store.Cursor {
	cur, err := store.DecodeCursor(q.get("cursor"), sort)
	if err != nil {
		q.v.add("query", "cursor", "is not a cursor this API returned for this sort; start again without it")
		return nil
	}
	return cur
}

// storeErr maps a bad cursor surfacing from the store to a 422.
func storeErr(err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return badQuery("cursor", "is not a cursor this API returned for this sort; start again without it")
	}
	return err
}

// notFound is the 404 of the read side.
func notFound(detail string) error { return NewProblem(http.StatusNotFound, CodeNotFound, detail) }
