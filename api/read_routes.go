package api

import (
	"errors"
	"net/http"

	"github.com/vigilsec/vigil/api/apigen"
	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/store"
)

// newHandlers builds the implementation of the generated server interface with what is
// built once: the built-in catalog and the compiler of custom checks (both immutable).
func (s *Server) newHandlers() *handlers {
	co, err := checks.NewCompiler(checks.CompilerConfig{RuntimeCostLimit: checks.DefaultMaxCost})
	if err != nil {
		panic("build the compiler of custom checks: " + err.Error()) // a broken CEL environment is a programming error
	}
	return &handlers{Server: s, cat: newCatalog(s.cfg.Checks), compiler: co}
}

// handlers implements apigen.ServerInterface: one method per operation of
// api/openapi.yaml, taking the path and query parameters the generated wrapper bound.
type handlers struct {
	*Server
	cat      *catalog
	compiler *checks.Compiler
}

var _ apigen.ServerInterface = (*handlers)(nil)

// storeErr maps a bad cursor surfacing from the store to a 422.
func storeErr(err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return badQuery("cursor", "is not a cursor this API returned for this sort; start again without it")
	}
	return err
}

// notFound is the 404 of the read side.
func notFound(detail string) error { return NewProblem(http.StatusNotFound, CodeNotFound, detail) }
