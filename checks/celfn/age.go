package celfn

import (
	"fmt"
	"math"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// ParseTime reads a timestamp as AWS documents carry it: RFC 3339 with or without
// fractional seconds ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00"), or a bare
// date ("2024-05-01", midnight UTC).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("parse time %q: not RFC 3339", s)
}

// AgeDays returns the number of whole days from t to now (negative when t is in the
// future).
func AgeDays(t, now time.Time) int64 {
	return int64(math.Floor(now.Sub(t).Hours() / 24))
}

// AgeDaysVal is age_days over a CEL value (an RFC 3339 string or a timestamp) with the
// evaluation clock now; engines that bind late-bound functions themselves call it.
func AgeDaysVal(v ref.Val, now time.Time) ref.Val {
	var t time.Time
	switch x := v.(type) {
	case types.Timestamp:
		t = x.Time
	case types.String:
		p, err := ParseTime(string(x))
		if err != nil {
			return types.NewErr("age_days: %v", err)
		}
		t = p
	default:
		return types.NewErr("age_days: want a timestamp or an RFC 3339 string, got %s", v.Type())
	}
	return types.Int(AgeDays(t, now))
}

func ageFunctions() []cel.EnvOption {
	return []cel.EnvOption{
		// age_days reads the evaluation clock, so its implementation is bound per
		// evaluation (LateBindings). One dyn overload accepts strings and timestamps.
		cel.Function("age_days",
			cel.Overload("age_days_dyn", []*cel.Type{cel.DynType}, cel.IntType, cel.LateFunctionBinding())),
		cel.Function("time.parse",
			cel.Overload("time_parse_string", []*cel.Type{cel.StringType}, cel.TimestampType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					t, err := ParseTime(string(s))
					if err != nil {
						return types.NewErr("time.parse: %v", err)
					}
					return types.Timestamp{Time: t}
				}))),
	}
}
