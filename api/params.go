package api

import (
	"strings"

	"github.com/vigilsec/vigil/store"
)

// Query parameters arrive bound by the generated wrapper (api/apigen) and validated
// against the document (validate.go): lengths, enums, patterns, ranges, formats. These
// helpers read them; what the document cannot say is checked by the handlers.

// val returns *p, or def when the parameter was not sent.
func val[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// commaList splits a comma-separated list parameter (its items already checked by the
// document's pattern), dropping repeats.
func commaList[T ~string](p *T) []string {
	if p == nil || *p == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(string(*p), ",") {
		v = strings.TrimSpace(v)
		if v != "" && !strings.Contains(","+strings.Join(out, ",")+",", ","+v+",") {
			out = append(out, v)
		}
	}
	return out
}

// cursorParam decodes the cursor parameter for a sort (422 when it is not a cursor this
// API returned for that sort).
func cursorParam(p *string, sort string) (*store.Cursor, error) {
	cur, err := store.DecodeCursor(val(p, ""), sort)
	if err != nil {
		return nil, badQuery("cursor", "is not a cursor this API returned for this sort; start again without it")
	}
	return cur, nil
}
