// Package celfn is the Go function library that Vigil exposes to check expressions
// written in CEL. Hard logic lives here, in plain Go functions that are each tested on
// their own; the CEL bindings are thin adapters around them.
//
// The library is an explicit list (see Library): CIDR exposure (cidr.*), port ranges and
// EC2 IpPermissions (ports.*), ages against the evaluation clock (age_days), TLS policy
// names (tls.*), IAM policy documents (iam.*, backed by checks/iampolicy), ARNs (arn.*)
// and JSON text (json.decode).
//
// This package imports no database, queue or HTTP package and keeps no global state.
package celfn

import (
	"fmt"
	"reflect"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// Library returns the environment option that declares and binds every function of the
// Vigil library. Functions that depend on the evaluation (age_days reads the clock) are
// declared with a late binding: supply their implementations per evaluation with
// LateBindings.
func Library() cel.EnvOption {
	return cel.Lib(library{})
}

type library struct{}

// LibraryName makes the library a singleton: adding it twice is harmless.
func (library) LibraryName() string { return "vigil.celfn" }

func (library) CompileOptions() []cel.EnvOption {
	var opts []cel.EnvOption
	opts = append(opts, cidrFunctions()...)
	opts = append(opts, portFunctions()...)
	opts = append(opts, ageFunctions()...)
	opts = append(opts, tlsFunctions()...)
	opts = append(opts, iamFunctions()...)
	opts = append(opts, miscFunctions()...)
	return opts
}

func (library) ProgramOptions() []cel.ProgramOption { return nil }

// LateBindings returns the implementations of the late-bound functions of the library
// for one evaluation whose clock reads now. Merge them into the activation with
// cel.FunctionVars.
func LateBindings(now time.Time) map[string]cel.LateBoundFunction {
	return map[string]cel.LateBoundFunction{
		"age_days": func(_ string, args ...ref.Val) ref.Val {
			if len(args) != 1 {
				return types.NewErr("age_days: want 1 argument, got %d", len(args))
			}
			return AgeDaysVal(args[0], now)
		},
	}
}

// Native converts a CEL value into the JSON-shaped Go value it stands for
// (map[string]any, []any, string, float64, int64, bool, nil, time.Time), so that the Go
// functions of this package can be called on document fragments. Values that came from
// a document are returned as they are, without copying.
func Native(v ref.Val) (any, error) {
	switch x := v.Value().(type) {
	case map[string]any, []any, string, float64, int64, bool, time.Time:
		return x, nil
	case uint64:
		return float64(x), nil
	case nil:
		return nil, nil
	}
	switch t := v.(type) {
	case types.Null:
		return nil, nil
	case traits.Lister:
		n, ok := t.Size().(types.Int)
		if !ok {
			return nil, fmt.Errorf("list of unknown size")
		}
		out := make([]any, 0, int(n))
		it := t.Iterator()
		for it.HasNext() == types.True {
			e, err := Native(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case traits.Mapper:
		out := map[string]any{}
		it := t.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key of type %s, want string", k.Type())
			}
			e, err := Native(t.Get(k))
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	}
	// Last resort: native Go values adapted by CEL (map[string]string tags, typed
	// slices).
	rv := reflect.ValueOf(v.Value())
	switch rv.Kind() {
	case reflect.Map, reflect.Slice:
		conv, err := v.ConvertToNative(reflect.TypeFor[any]())
		if err != nil {
			return nil, fmt.Errorf("convert %s: %w", v.Type(), err)
		}
		return conv, nil
	}
	return nil, fmt.Errorf("unsupported value of type %s", v.Type())
}

// toInt reads an integral number that may arrive as a CEL int, uint or double (JSON
// numbers decode to float64).
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x != float64(int64(x)) {
			return 0, false
		}
		return int64(x), true
	case uint64:
		return int64(x), true
	case string:
		var n int64
		if _, err := fmt.Sscan(x, &n); err != nil {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// valInt is toInt over a CEL value.
func valInt(v ref.Val) (int64, bool) {
	switch x := v.(type) {
	case types.Int:
		return int64(x), true
	case types.Uint:
		return int64(x), true
	case types.Double:
		return toInt(float64(x))
	case types.String:
		return toInt(string(x))
	}
	return 0, false
}

// boolOrErr turns a Go (bool, error) into a CEL value.
func boolOrErr(name string, b bool, err error) ref.Val {
	if err != nil {
		return types.NewErr("%s: %v", name, err)
	}
	return types.Bool(b)
}

// nativeArg converts one argument, reporting errors in the function's name.
func nativeArg(name string, v ref.Val) (any, ref.Val) {
	n, err := Native(v)
	if err != nil {
		return nil, types.NewErr("%s: %v", name, err)
	}
	return n, nil
}
