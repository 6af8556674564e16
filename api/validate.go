package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The request validator checks every /api/v1 request against api/openapi.yaml before
// its handler runs: path and query parameters, and the JSON body. It runs after
// authentication and the permission check (a caller without the right learns nothing
// about the shape of the input), and answers the problems the API always answered:
//
//   - a path parameter that does not fit (not a UUID, not a number) is 404 not_found,
//     exactly as an id of another tenant;
//   - an unknown or repeated query parameter is 400 bad_request;
//   - a body that is not JSON is 415, too large 413, malformed JSON, a value of the
//     wrong JSON type or an unknown field is 400 bad_request naming the field;
//   - every other broken constraint of the document (required, enum, pattern, lengths,
//     ranges, formats) is 422 validation_failed with one errors[] entry per problem,
//     all of them at once.
//
// Handlers keep the checks the document cannot express (a time in the future, a cursor
// of the right sort, a framework that exists).

// apiDoc is the embedded document, loaded once; validation only reads it.
var apiDoc = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(openAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load the embedded OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate the embedded OpenAPI document: %w", err)
	}
	return doc, nil
})

// formatValidators are the string formats the document uses, checked the way the
// handlers parse them.
var formatValidators = map[string]openapi3.StringFormatValidator{
	"uuid": openapi3.NewCallbackValidator(func(s string) error {
		_, err := uuid.Parse(s)
		return err
	}),
	"date-time": openapi3.NewCallbackValidator(func(s string) error {
		_, err := time.Parse(time.RFC3339Nano, s)
		return err
	}),
	// A plain address only: "Eve <eve@example.com>" parses as an address too.
	"email": openapi3.NewCallbackValidator(func(s string) error {
		a, err := mail.ParseAddress(s)
		if err == nil && a.Address != s {
			err = errors.New("not a plain e-mail address")
		}
		return err
	}),
}

// specOperation is one operation of the document, prepared for validating requests.
type specOperation struct {
	route *routers.Route
	query map[string]*openapi3.Parameter
	opts  *openapi3filter.Options
}

// operationFor finds the document's operation of an Echo route and checks that the
// route enforces the permission the document names. A route without an operation, or
// with another permission, is a programmer error found at startup.
func operationFor(method, echoPath, perm string) *specOperation {
	doc, err := apiDoc()
	if err != nil {
		panic("api: " + err.Error())
	}
	path := echoParamRE.ReplaceAllString(echoPath, "{$1}")
	item := doc.Paths.Value(path)
	var op *openapi3.Operation
	if item != nil {
		op = item.GetOperation(method)
	}
	if op == nil {
		panic("api: route " + method + " " + path + " has no operation in api/openapi.yaml")
	}
	if want, _ := op.Extensions["x-vigil-permission"].(string); want != perm {
		panic(fmt.Sprintf("api: route %s %s needs permission %q but api/openapi.yaml says %q", method, path, perm, want))
	}
	// Validate with kin-openapi's OpenAPI 3.0 schema validator: it reads the 3.1 type
	// arrays (["string", "null"]) this document uses, and its errors name the failing
	// keyword and schema, from which the errors[] messages are written. The contract
	// test validates the same document with the JSON Schema 2020-12 validator.
	spec30 := *doc
	spec30.OpenAPI = "3.0.3"
	so := &specOperation{
		route: &routers.Route{Spec: &spec30, Path: path, PathItem: item, Method: method, Operation: op},
		query: map[string]*openapi3.Parameter{},
		opts: &openapi3filter.Options{
			MultiError: true,
			// Authentication is ours (authenticate): the document only describes it.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// Handlers apply defaults; a PATCH must not gain fields the caller left out.
			SkipSettingDefaults:     true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(formatValidators)},
		},
	}
	for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
		if p.Value.In == openapi3.ParameterInQuery {
			so.query[p.Value.Name] = p.Value
		}
	}
	return so
}

var echoParamRE = regexp.MustCompile(`:([a-z_]+)`)

// validateRequest wraps h with the validation of the operation method echoPath, which
// must need perm ("public" for none).
func validateRequest(method, echoPath, perm string, h echo.HandlerFunc) echo.HandlerFunc {
	so := operationFor(method, echoPath, perm)
	return func(c echo.Context) error {
		if err := so.validate(c); err != nil {
			return err
		}
		return h(c)
	}
}

func (so *specOperation) validate(c echo.Context) error {
	req := c.Request()

	// Query: only the document's parameters, each once. An empty value is the same as
	// leaving the parameter out (forms and generated clients send them).
	vals := req.URL.Query()
	var bad validator
	for k, vs := range vals {
		switch {
		case so.query[k] == nil:
			bad.add("query", k, "unknown parameter")
		case len(vs) > 1:
			bad.add("query", k, "given more than once")
		case vs[0] == "":
			delete(vals, k)
		}
	}
	if err := bad.problem(); err != nil {
		return asBadRequest(err.(*Problem))
	}
	req.URL.RawQuery = vals.Encode()

	// Body: JSON, within the size limit, well-formed, before the schema sees it.
	var body []byte
	if rb := so.route.Operation.RequestBody; rb != nil {
		var err error
		if body, err = readJSONBody(req); err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}

	params := map[string]string{}
	for i, name := range c.ParamNames() {
		params[name] = c.ParamValues()[i]
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: so.route, Options: so.opts}
	err := openapi3filter.ValidateRequest(context.WithoutCancel(req.Context()), in)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err == nil {
		return nil
	}
	return problemOf(err)
}

// readJSONBody reads a JSON request body strictly: JSON content type, within the size
// limit, UTF-8, one JSON value and nothing after it.
func readJSONBody(req *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, NewProblem(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "send the body as application/json")
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, NewProblem(http.StatusRequestEntityTooLarge, CodeTooLarge, "request body is too large")
		}
		return nil, NewProblem(http.StatusBadRequest, CodeBadRequest, "cannot read request body")
	}
	if !utf8.Valid(body) {
		return nil, NewProblem(http.StatusBadRequest, CodeBadRequest, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, NewProblem(http.StatusBadRequest, CodeBadRequest, "malformed JSON body: "+describeJSONError(err))
	}
	if dec.More() {
		return nil, NewProblem(http.StatusBadRequest, CodeBadRequest, "malformed JSON body: data after the JSON object")
	}
	return body, nil
}

// asBadRequest turns a problem with field errors into a 400.
func asBadRequest(p *Problem) *Problem {
	p.Status, p.Title, p.Code = http.StatusBadRequest, http.StatusText(http.StatusBadRequest), CodeBadRequest
	p.Type = "https://vigil.dev/problems/" + CodeBadRequest
	p.Detail = "the request has unknown or repeated parameters"
	return p
}

// problemOf maps kin-openapi's validation errors to the API's problems.
func problemOf(err error) error {
	var v validator
	var malformed string
	for _, e := range flatten(err) {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			v.add("body", "", e.Error())
			continue
		}
		switch {
		case re.Parameter != nil && re.Parameter.In == openapi3.ParameterInPath:
			return NewProblem(http.StatusNotFound, CodeNotFound, "not found")
		case re.Parameter != nil:
			for _, fe := range parameterErrors(re) {
				v.add(fe.Location, fe.Field, fe.Message)
			}
		case re.RequestBody != nil:
			for _, se := range schemaErrors(re.Err) {
				field, msg, wrongType := describeSchemaError(se)
				if wrongType && malformed == "" {
					malformed = msg
				}
				if !wrongType {
					v.add("body", field, msg)
				}
			}
			if len(schemaErrors(re.Err)) == 0 {
				malformed = "the body does not fit the operation's schema"
			}
		default:
			v.add("body", "", re.Error())
		}
	}
	// A wrong JSON type or an unknown field is a malformed request (400), as strict
	// decoding always answered; only well-formed input gets the 422 list.
	if malformed != "" {
		return NewProblem(http.StatusBadRequest, CodeBadRequest, "malformed JSON body: "+malformed)
	}
	return v.problem()
}

// flatten unpacks kin-openapi's nested multi-errors (only those: a RequestError that
// wraps one stays whole).
func flatten(err error) []error {
	if me, ok := err.(openapi3.MultiError); ok {
		var out []error
		for _, e := range me {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// schemaErrors lists the schema errors inside err, innermost first.
func schemaErrors(err error) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	for _, e := range flatten(err) {
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			out = append(out, se)
		}
	}
	return out
}

// parameterErrors describes a query or header parameter's problems.
func parameterErrors(re *openapi3filter.RequestError) []FieldError {
	p := re.Parameter
	loc := p.In
	fe := func(msg string) []FieldError { return []FieldError{{Location: loc, Field: p.Name, Message: msg}} }
	switch {
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return fe("is required")
	case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
		return fe("must not be empty")
	}
	var pe *openapi3filter.ParseError
	if errors.As(re.Err, &pe) && p.Schema != nil && p.Schema.Value != nil {
		return fe("must be " + typeWord(p.Schema.Value))
	}
	ses := schemaErrors(re.Err)
	if len(ses) == 0 {
		return fe("is not valid")
	}
	var out []FieldError
	for _, se := range ses {
		_, msg, _ := describeSchemaError(se)
		if se.SchemaField == "pattern" && p.Description != "" {
			msg = "does not have the expected form: " + p.Description
		}
		out = append(out, FieldError{Location: loc, Field: p.Name, Message: msg})
	}
	return out
}

var propertyRE = regexp.MustCompile(`property "([^"]+)"`)

// describeSchemaError names the failing field (a JSON pointer without the leading
// slash: "regions/0") and says what is wrong; wrongType reports a wrong JSON type or
// an unknown field, which are malformed requests rather than invalid values.
func describeSchemaError(se *openapi3.SchemaError) (field, msg string, wrongType bool) {
	field = strings.Join(se.JSONPointer(), "/")
	join := func(prop string) string {
		if field == "" {
			return prop
		}
		return field + "/" + prop
	}
	s := se.Schema
	if s == nil {
		s = &openapi3.Schema{}
	}
	switch se.SchemaField {
	case "required":
		if m := propertyRE.FindStringSubmatch(se.Reason); m != nil {
			field = join(m[1])
		}
		return field, "is required", false
	case "additionalProperties", "properties":
		prop := ""
		if m := propertyRE.FindStringSubmatch(se.Reason); m != nil {
			prop = m[1]
		}
		return join(prop), fmt.Sprintf("unknown field %q", join(prop)), true
	case "type", "nullable":
		if field == "" {
			return field, "the body must be a JSON " + strings.TrimPrefix(strings.TrimPrefix(typeWord(s), "a "), "an "), true
		}
		return field, fmt.Sprintf("field %q must be %s", field, typeWord(s)), true
	case "enum":
		vals := make([]string, 0, len(s.Enum))
		for _, e := range s.Enum {
			if e != nil {
				vals = append(vals, fmt.Sprint(e))
			}
		}
		return field, "must be one of " + strings.Join(vals, ", "), false
	case "pattern":
		return field, "must match the pattern " + s.Pattern, false
	case "minLength":
		if s.MinLength == 1 {
			return field, "is required", false
		}
		return field, fmt.Sprintf("must be at least %d characters", s.MinLength), false
	case "maxLength":
		return field, fmt.Sprintf("must be at most %d characters", *s.MaxLength), false
	case "minimum", "maximum":
		switch {
		case s.Min != nil && s.Max != nil:
			return field, fmt.Sprintf("must be %s from %s to %s", numberWord(s), num(*s.Min), num(*s.Max)), false
		case s.Min != nil:
			return field, "must be at least " + num(*s.Min), false
		default:
			return field, "must be at most " + num(*s.Max), false
		}
	case "minItems":
		if s.MinItems == 1 {
			return field, "is required (at least one item)", false
		}
		return field, fmt.Sprintf("must have at least %d items", s.MinItems), false
	case "maxItems":
		return field, fmt.Sprintf("must have at most %d items", *s.MaxItems), false
	case "uniqueItems":
		return field, "lists a value twice", false
	case "format":
		switch s.Format {
		case "uuid":
			return field, "must be a UUID", false
		case "date-time":
			return field, "must be an RFC 3339 time such as 2026-01-31T00:00:00Z", false
		case "email":
			return field, "must be a plain e-mail address such as ana@example.com", false
		}
		return field, "must be a valid " + s.Format, false
	case "minProperties":
		return field, fmt.Sprintf("must have at least %d fields", s.MinProps), false
	case "maxProperties":
		return field, fmt.Sprintf("must have at most %d fields", *s.MaxProps), false
	}
	return field, se.Reason, false
}

// typeWord names the JSON type a schema wants, for people.
func typeWord(s *openapi3.Schema) string {
	var words []string
	for _, t := range s.Type.Slice() {
		switch t {
		case openapi3.TypeString:
			words = append(words, "a string")
		case openapi3.TypeInteger:
			words = append(words, "a whole number")
		case openapi3.TypeNumber:
			words = append(words, "a number")
		case openapi3.TypeBoolean:
			words = append(words, "true or false")
		case openapi3.TypeArray:
			words = append(words, "an array")
		case openapi3.TypeObject:
			words = append(words, "an object")
		case openapi3.TypeNull:
			words = append(words, "null")
		}
	}
	if len(words) == 0 {
		return "of another type"
	}
	return strings.Join(words, " or ")
}

func numberWord(s *openapi3.Schema) string {
	if s.Type.Is(openapi3.TypeInteger) {
		return "a whole number"
	}
	return "a number"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
