package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// bindJSON decodes the request body strictly into dst: the content type must be JSON,
// unknown fields and trailing data are errors, and every error is a 400 problem that
// says what was wrong.
func bindJSON(c echo.Context, dst any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return NewProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send the body as application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return NewProblem(http.StatusRequestEntityTooLarge, CodeTooLarge, "request body is too large")
		}
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "cannot read request body")
	}
	if !utf8.Valid(body) {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "malformed JSON body: "+describeJSONError(err))
	}
	if dec.More() {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "malformed JSON body: data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s", te.Field, te.Type)
		}
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF):
		return "empty body"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "invalid JSON"
}

// validator collects field errors; problem() returns nil when there are none.
type validator struct{ errs []FieldError }

func (v *validator) add(loc, field, msg string) {
	v.errs = append(v.errs, FieldError{Location: loc, Field: field, Message: msg})
}

// text checks a required-or-optional string's length in characters.
func (v *validator) text(field, s string, required bool, maxLen int) {
	switch n := utf8.RuneCountInString(s); {
	case required && strings.TrimSpace(s) == "":
		v.add("body", field, "is required")
	case n > maxLen:
		v.add("body", field, fmt.Sprintf("must be at most %d characters", maxLen))
	}
}

func (v *validator) email(field, s string) {
	if s == "" {
		v.add("body", field, "is required")
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 320 || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		v.add("body", field, "must be a plain e-mail address such as ana@example.com")
	}
}

func (v *validator) problem() error {
	if len(v.errs) == 0 {
		return nil
	}
	p := NewProblem(http.StatusUnprocessableEntity, CodeValidation, "the request has invalid fields")
	p.Errors = v.errs
	return p
}
