// Package iampolicy parses and evaluates AWS IAM policy documents: identity policies,
// resource policies (bucket, key, queue, topic policies, trust policies), permissions
// boundaries, session policies, SCPs and RCPs. It decides whether a request is allowed
// following AWS's documented evaluation logic, finds grants to the public, and carries a
// catalog of AWS actions with their access levels.
//
// The package is pure computation: it performs no I/O and imports no database, queue,
// HTTP or cloud SDK package. docs/iam.md describes what it supports and its known limits.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Effect is a statement's Effect element.
type Effect string

// The two effects a statement can have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy versions. Only VersionCurrent substitutes policy variables: under the old
// version (or no Version element) "${aws:username}" is literal text, as in AWS.
const (
	VersionCurrent = "2012-10-17"
	VersionLegacy  = "2008-10-17"
)

// ErrMalformed is wrapped by every error Parse returns for a document that is not a
// valid policy, so callers can tell a bad document from a bad argument.
var ErrMalformed = errors.New("malformed policy document")

// Policy is a parsed policy document. It is immutable after Parse and safe for
// concurrent use.
type Policy struct {
	// Version is the Version element, empty when absent.
	Version string
	// ID is the Id element.
	ID string
	// Statements are the statements in document order.
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	// Index is the statement's position in the document, from 0.
	Index int
	// Sid is the statement id, empty when absent.
	Sid string
	// Effect is Allow or Deny.
	Effect Effect
	// Action and NotAction hold the action patterns as written; exactly one is set.
	Action    []string
	NotAction []string
	// Resource and NotResource hold the resource patterns as written; at most one is
	// set. Trust policies have neither.
	Resource    []string
	NotResource []string
	// Principal and NotPrincipal are set in resource policies; at most one is set.
	Principal    *Principals
	NotPrincipal *Principals
	// Conditions are the Condition element's entries, all of which must hold.
	Conditions []Condition

	actions   []string // lower-cased Action or NotAction patterns
	notAction bool
	resources []pattern // Resource or NotResource
	notRes    bool
	hasRes    bool
}

// Principals is a Principal or NotPrincipal element.
type Principals struct {
	// Wildcard is true for "*" or {"AWS": "*"}: every principal, including anonymous.
	Wildcard bool
	// AWS lists account ids and ARNs; a bare account id is kept as written.
	AWS []string
	// Service lists service principals such as "lambda.amazonaws.com".
	Service []string
	// Federated lists identity providers.
	Federated []string
	// CanonicalUser lists S3 canonical user ids.
	CanonicalUser []string
}

// Label names a statement in errors and explanations: its Sid, or its index.
func (s *Statement) Label() string {
	if s.Sid != "" {
		return fmt.Sprintf("statement %d (Sid %q)", s.Index, s.Sid)
	}
	return fmt.Sprintf("statement %d", s.Index)
}

// Parse reads a policy document. doc is JSON text as a string or []byte (text starting
// with '%' is URL-decoded first, as IAM's GetAccountAuthorizationDetails returns
// policies), or an already decoded JSON value (map[string]any). A malformed document
// returns an error wrapping ErrMalformed that names the statement and field.
func Parse(doc any) (*Policy, error) {
	var root any
	switch v := doc.(type) {
	case string:
		r, err := decodeText([]byte(v))
		if err != nil {
			return nil, err
		}
		root = r
	case []byte:
		r, err := decodeText(v)
		if err != nil {
			return nil, err
		}
		root = r
	case json.RawMessage:
		r, err := decodeText(v)
		if err != nil {
			return nil, err
		}
		root = r
	case map[string]any:
		root = v
	case nil:
		return nil, fmt.Errorf("%w: empty document", ErrMalformed)
	default:
		return nil, fmt.Errorf("parse policy: unsupported document type %T", doc)
	}
	return parseRoot(root)
}

// MustParse is Parse for documents known to be valid at compile time (tests, built-in
// data); it panics on error.
func MustParse(doc any) *Policy {
	p, err := Parse(doc)
	if err != nil {
		panic(err)
	}
	return p
}

func decodeText(b []byte) (any, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '%' {
		s, err := url.QueryUnescape(string(b))
		if err != nil {
			return nil, fmt.Errorf("%w: url-decode: %w", ErrMalformed, err)
		}
		b = bytes.TrimSpace([]byte(s))
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the document", ErrMalformed)
	}
	return v, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func parseRoot(root any) (*Policy, error) {
	m, ok := root.(map[string]any)
	if !ok {
		return nil, malformed("document must be a JSON object, got %s", jsonType(root))
	}
	p := &Policy{}
	for k, v := range m {
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok {
				return nil, malformed("Version must be a string, got %s", jsonType(v))
			}
			if s != VersionCurrent && s != VersionLegacy {
				return nil, malformed("Version %q is not %s or %s", s, VersionCurrent, VersionLegacy)
			}
			p.Version = s
		case "Id":
			s, ok := v.(string)
			if !ok {
				return nil, malformed("Id must be a string, got %s", jsonType(v))
			}
			p.ID = s
		case "Statement":
		default:
			return nil, malformed("unsupported top-level element %q", k)
		}
	}
	raw, ok := m["Statement"]
	if !ok {
		return nil, malformed("Statement is missing")
	}
	var list []any
	switch v := raw.(type) {
	case map[string]any:
		list = []any{v}
	case []any:
		list = v
	default:
		return nil, malformed("Statement must be an object or a list, got %s", jsonType(raw))
	}
	vars := p.Version == VersionCurrent
	p.Statements = make([]Statement, 0, len(list))
	for i, item := range list {
		sm, ok := item.(map[string]any)
		if !ok {
			return nil, malformed("statement %d must be an object, got %s", i, jsonType(item))
		}
		st, err := parseStatement(i, sm, vars)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(i int, m map[string]any, vars bool) (Statement, error) {
	st := Statement{Index: i}
	if sid, ok := m["Sid"]; ok {
		s, ok := sid.(string)
		if !ok {
			return st, malformed("statement %d: Sid must be a string, got %s", i, jsonType(sid))
		}
		st.Sid = s
	}
	fail := func(format string, args ...any) (Statement, error) {
		return st, malformed("%s: %s", st.Label(), fmt.Sprintf(format, args...))
	}
	// Walk keys in sorted order so the first error reported is deterministic. When
	// every key is a known element (a valid statement), the known elements in their
	// sorted order are that walk, without collecting and sorting the keys.
	keys := statementElements[:]
	present := 0
	for _, k := range keys {
		if _, ok := m[k]; ok {
			present++
		}
	}
	if present != len(m) {
		keys = make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		var err error
		switch k {
		case "Sid":
		case "Effect":
			s, ok := v.(string)
			if !ok || (s != string(Allow) && s != string(Deny)) {
				return fail("Effect must be \"Allow\" or \"Deny\", got %s", describe(v))
			}
			st.Effect = Effect(s)
		case "Action":
			st.Action, err = stringList(v)
		case "NotAction":
			st.NotAction, err = stringList(v)
		case "Resource":
			st.Resource, err = stringList(v)
		case "NotResource":
			st.NotResource, err = stringList(v)
		case "Principal":
			st.Principal, err = parsePrincipals(v)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipals(v)
		case "Condition":
			st.Conditions, err = parseConditions(v, vars)
		default:
			return fail("unsupported element %q", k)
		}
		if err != nil {
			return fail("%s: %s", k, err.Error())
		}
	}
	if st.Effect == "" {
		return fail("Effect is missing")
	}
	switch {
	case st.Action != nil && st.NotAction != nil:
		return fail("Action and NotAction are both set")
	case st.Action == nil && st.NotAction == nil:
		return fail("Action or NotAction is required")
	case st.Resource != nil && st.NotResource != nil:
		return fail("Resource and NotResource are both set")
	case st.Principal != nil && st.NotPrincipal != nil:
		return fail("Principal and NotPrincipal are both set")
	}
	acts := st.Action
	if st.NotAction != nil {
		acts, st.notAction = st.NotAction, true
	}
	if len(acts) == 0 {
		return fail("%s is empty", actionField(st.notAction))
	}
	st.actions = make([]string, len(acts))
	for j, a := range acts {
		if a != "*" && !validAction(a) {
			return fail("%s[%d]: %q is not \"*\" or \"service:action\"", actionField(st.notAction), j, a)
		}
		st.actions[j] = strings.ToLower(a)
	}
	res := st.Resource
	if st.NotResource != nil {
		res, st.notRes = st.NotResource, true
	}
	if res != nil {
		st.hasRes = true
		if len(res) == 0 {
			return fail("%s is empty", resourceField(st.notRes))
		}
		st.resources = make([]pattern, len(res))
		for j, r := range res {
			st.resources[j] = compilePattern(r, vars)
		}
	}
	return st, nil
}

// statementElements are the elements of a statement, in sorted order.
var statementElements = [...]string{"Action", "Condition", "Effect", "NotAction", "NotPrincipal", "NotResource", "Principal", "Resource", "Sid"}

func actionField(not bool) string {
	if not {
		return "NotAction"
	}
	return "Action"
}

func resourceField(not bool) string {
	if not {
		return "NotResource"
	}
	return "Resource"
}

func validAction(a string) bool {
	i := strings.IndexByte(a, ':')
	return i > 0 && i < len(a)-1 && !strings.ContainsAny(a, " \t\n")
}

// stringList accepts a string or a non-nil list of strings.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("item %d must be a string, got %s", i, jsonType(e))
			}
			out[i] = s
		}
		return out, nil
	case []string:
		return append([]string{}, x...), nil
	default:
		return nil, fmt.Errorf("must be a string or a list of strings, got %s", jsonType(v))
	}
}

func parsePrincipals(v any) (*Principals, error) {
	if s, ok := v.(string); ok {
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", got %q", s)
		}
		return &Principals{Wildcard: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be \"*\" or an object, got %s", jsonType(v))
	}
	p := &Principals{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		list, err := stringList(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		switch k {
		case "AWS":
			for _, a := range list {
				if a == "*" {
					p.Wildcard = true
				}
			}
			p.AWS = list
		case "Service":
			p.Service = list
		case "Federated":
			p.Federated = list
		case "CanonicalUser":
			p.CanonicalUser = list
		default:
			return nil, fmt.Errorf("unsupported principal type %q (want AWS, Service, Federated or CanonicalUser)", k)
		}
	}
	return p, nil
}

// jsonType names the JSON type of a decoded value for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64, float32, int, int64:
		return "number"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return jsonType(v)
}
