package iampolicy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SetQualifier is the ForAnyValue:/ForAllValues: prefix of a condition operator.
type SetQualifier string

// Set qualifiers; SetNone is a plain operator.
const (
	SetNone      SetQualifier = ""
	SetAnyValue  SetQualifier = "ForAnyValue"
	SetAllValues SetQualifier = "ForAllValues"
)

// Condition is one key of one operator in a Condition element, e.g.
// "StringEquals": {"aws:SourceAccount": "111122223333"}.
type Condition struct {
	// Operator is the operator as written, e.g. "ForAnyValue:StringLikeIfExists".
	Operator string
	// Base is the operator without qualifier and IfExists, in AWS's spelling, e.g.
	// "StringLike".
	Base string
	// Set is the set qualifier.
	Set SetQualifier
	// IfExists is true for the ...IfExists form.
	IfExists bool
	// Key is the condition key as written.
	Key string
	// Values are the policy's values, as text (numbers and booleans formatted as JSON).
	Values []string

	op     *operator
	key    string    // lower-cased Key
	pats   []pattern // String/Arn operators: values with variables compiled
	nums   []float64
	times  []time.Time
	cidrs  []netip.Prefix
	binary [][]byte
}

// operator describes one base operator: how a policy value matches one request value,
// and whether the operator is negated (StringNotEquals: no value may match).
type operator struct {
	name    string
	negated bool
	kind    opKind
	// variables are substituted in the values of string and ARN operators only.
	vars bool
}

type opKind int

const (
	kStringEquals opKind = iota
	kStringEqualsIgnoreCase
	kStringLike
	kNumericEquals
	kNumericLT
	kNumericLTE
	kNumericGT
	kNumericGTE
	kDateEquals
	kDateLT
	kDateLTE
	kDateGT
	kDateGTE
	kBool
	kBinaryEquals
	kIPAddress
	kArnLike
	kNull
)

var operators = func() map[string]*operator {
	list := []operator{
		{"StringEquals", false, kStringEquals, true},
		{"StringNotEquals", true, kStringEquals, true},
		{"StringEqualsIgnoreCase", false, kStringEqualsIgnoreCase, true},
		{"StringNotEqualsIgnoreCase", true, kStringEqualsIgnoreCase, true},
		{"StringLike", false, kStringLike, true},
		{"StringNotLike", true, kStringLike, true},
		{"NumericEquals", false, kNumericEquals, false},
		{"NumericNotEquals", true, kNumericEquals, false},
		{"NumericLessThan", false, kNumericLT, false},
		{"NumericLessThanEquals", false, kNumericLTE, false},
		{"NumericGreaterThan", false, kNumericGT, false},
		{"NumericGreaterThanEquals", false, kNumericGTE, false},
		{"DateEquals", false, kDateEquals, false},
		{"DateNotEquals", true, kDateEquals, false},
		{"DateLessThan", false, kDateLT, false},
		{"DateLessThanEquals", false, kDateLTE, false},
		{"DateGreaterThan", false, kDateGT, false},
		{"DateGreaterThanEquals", false, kDateGTE, false},
		{"Bool", false, kBool, false},
		{"BinaryEquals", false, kBinaryEquals, false},
		{"IpAddress", false, kIPAddress, false},
		{"NotIpAddress", true, kIPAddress, false},
		{"ArnEquals", false, kArnLike, true},
		{"ArnNotEquals", true, kArnLike, true},
		{"ArnLike", false, kArnLike, true},
		{"ArnNotLike", true, kArnLike, true},
		{"Null", false, kNull, false},
	}
	m := make(map[string]*operator, len(list))
	for i := range list {
		m[strings.ToLower(list[i].name)] = &list[i]
	}
	return m
}()

// parseOperator splits "ForAllValues:StringLikeIfExists" into its parts. Operator
// names are matched case-insensitively.
func parseOperator(s string) (*operator, SetQualifier, bool, error) {
	name := s
	set := SetNone
	if q, rest, ok := strings.Cut(s, ":"); ok {
		switch strings.ToLower(q) {
		case "foranyvalue":
			set = SetAnyValue
		case "forallvalues":
			set = SetAllValues
		default:
			return nil, "", false, fmt.Errorf("unknown set qualifier %q (want ForAnyValue or ForAllValues)", q)
		}
		name = rest
	}
	lower := strings.ToLower(name)
	ifExists := false
	if op, ok := operators[lower]; ok {
		return op, set, false, nil
	}
	if base, ok := strings.CutSuffix(lower, "ifexists"); ok {
		lower, ifExists = base, true
	}
	op, ok := operators[lower]
	if !ok {
		return nil, "", false, fmt.Errorf("unknown condition operator %q", s)
	}
	if ifExists && op.kind == kNull {
		return nil, "", false, fmt.Errorf("operator %q: Null has no IfExists form", s)
	}
	return op, set, ifExists, nil
}

func parseConditions(v any, vars bool) ([]Condition, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be an object, got %s", jsonType(v))
	}
	ops := make([]string, 0, len(m))
	for k := range m {
		ops = append(ops, k)
	}
	sort.Strings(ops)
	var out []Condition
	for _, opName := range ops {
		op, set, ifExists, err := parseOperator(opName)
		if err != nil {
			return nil, err
		}
		km, ok := m[opName].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s must be an object of condition keys, got %s", opName, jsonType(m[opName]))
		}
		keys := make([]string, 0, len(km))
		for k := range km {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			c, err := newCondition(opName, op, set, ifExists, key, km[key], vars)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", opName, key, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func newCondition(opName string, op *operator, set SetQualifier, ifExists bool, key string, raw any, vars bool) (Condition, error) {
	c := Condition{
		Operator: opName, Base: op.name, Set: set, IfExists: ifExists,
		Key: key, op: op, key: strings.ToLower(key),
	}
	var items []any
	switch x := raw.(type) {
	case []any:
		items = x
	default:
		items = []any{x}
	}
	for i, it := range items {
		s, err := scalarText(it)
		if err != nil {
			if len(items) > 1 {
				return c, fmt.Errorf("value %d: %w", i, err)
			}
			return c, err
		}
		c.Values = append(c.Values, s)
	}
	for _, s := range c.Values {
		switch op.kind {
		case kStringEquals, kStringEqualsIgnoreCase, kStringLike, kArnLike:
			c.pats = append(c.pats, compilePattern(s, vars && op.vars))
		case kNumericEquals, kNumericLT, kNumericLTE, kNumericGT, kNumericGTE:
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) {
				return c, fmt.Errorf("%q is not a number", s)
			}
			c.nums = append(c.nums, f)
		case kDateEquals, kDateLT, kDateLTE, kDateGT, kDateGTE:
			t, ok := parseDate(s)
			if !ok {
				return c, fmt.Errorf("%q is not an ISO 8601 date or epoch seconds", s)
			}
			c.times = append(c.times, t)
		case kBool, kNull:
			if !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
				return c, fmt.Errorf("%q is not true or false", s)
			}
		case kBinaryEquals:
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return c, fmt.Errorf("%q is not base64", s)
			}
			c.binary = append(c.binary, b)
		case kIPAddress:
			p, ok := parseCIDR(s)
			if !ok {
				return c, fmt.Errorf("%q is not an IP address or CIDR block", s)
			}
			c.cidrs = append(c.cidrs, p)
		}
	}
	return c, nil
}

// scalarText formats one condition value. AWS accepts strings, numbers and booleans and
// compares them as text.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	default:
		return "", fmt.Errorf("must be a string, number or boolean, got %s", jsonType(v))
	}
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z",
}

// parseDate reads the ISO 8601 forms AWS accepts, or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseCIDR(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// eval decides the condition against the request context, following AWS's documented
// semantics for missing keys, IfExists and the set qualifiers.
func (c *Condition) eval(ctx *reqContext) bool {
	vals := ctx.get(c.key)
	if c.op.kind == kNull {
		absent := len(vals) == 0
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == absent {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		switch {
		case c.IfExists:
			return true
		case c.Set == SetAllValues:
			return true // vacuously true: the documented ForAllValues pitfall
		case c.Set == SetAnyValue:
			return false
		default:
			return c.op.negated
		}
	}
	// Resolve variables in the policy values once per evaluation.
	var policy []string
	if c.pats != nil {
		policy = make([]string, 0, len(c.pats))
		for i := range c.pats {
			if s, ok := c.pats[i].resolve(ctx); ok {
				policy = append(policy, s)
			}
		}
	}
	anyMatch := func(v string) bool { return c.matchAny(policy, v) }
	switch c.Set {
	case SetAllValues:
		for _, v := range vals {
			if anyMatch(v) == c.op.negated {
				return false
			}
		}
		return true
	case SetAnyValue:
		for _, v := range vals {
			if anyMatch(v) != c.op.negated {
				return true
			}
		}
		return false
	default:
		matched := false
		for _, v := range vals {
			if anyMatch(v) {
				matched = true
				break
			}
		}
		return matched != c.op.negated
	}
}

// matchAny reports whether request value v matches at least one policy value under the
// positive form of the operator.
func (c *Condition) matchAny(policy []string, v string) bool {
	switch c.op.kind {
	case kStringEquals:
		for _, p := range policy {
			if unescapeLiteral(p) == v {
				return true
			}
		}
	case kStringEqualsIgnoreCase:
		for _, p := range policy {
			if strings.EqualFold(unescapeLiteral(p), v) {
				return true
			}
		}
	case kStringLike:
		for _, p := range policy {
			if glob(p, v) {
				return true
			}
		}
	case kArnLike:
		for _, p := range policy {
			if arnMatch(p, v) {
				return true
			}
		}
	case kNumericEquals, kNumericLT, kNumericLTE, kNumericGT, kNumericGTE:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return false
		}
		for _, p := range c.nums {
			if compareOrdered(c.op.kind-kNumericEquals, cmpFloat(f, p)) {
				return true
			}
		}
	case kDateEquals, kDateLT, kDateLTE, kDateGT, kDateGTE:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, p := range c.times {
			if compareOrdered(c.op.kind-kDateEquals, t.Compare(p)) {
				return true
			}
		}
	case kBool:
		for _, p := range c.Values {
			if strings.EqualFold(p, v) {
				return true
			}
		}
	case kBinaryEquals:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			b = []byte(v)
		}
		for _, p := range c.binary {
			if bytes.Equal(p, b) {
				return true
			}
		}
	case kIPAddress:
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.cidrs {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// compareOrdered applies the comparison rel (0 equals, 1 less than, 2 less or equal,
// 3 greater than, 4 greater or equal) to the result of a three-way compare of the
// request value against the policy value.
func compareOrdered(rel opKind, cmp int) bool {
	switch rel {
	case 0:
		return cmp == 0
	case 1:
		return cmp < 0
	case 2:
		return cmp <= 0
	case 3:
		return cmp > 0
	default:
		return cmp >= 0
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// arnMatch compares an ARN pattern with an ARN component by component: the first five
// colon-separated parts separately and the resource part (which may contain colons) as
// a whole, each with * and ? wildcards, case-sensitively. A value that is not an ARN
// never matches.
func arnMatch(pattern, value string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	vp := strings.SplitN(value, ":", 6)
	if len(pp) != 6 || len(vp) != 6 {
		return pattern == "*" && len(vp) == 6
	}
	for i := range pp {
		if !glob(pp[i], vp[i]) {
			return false
		}
	}
	return true
}
