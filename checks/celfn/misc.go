package celfn

import (
	"encoding/json"
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// ARN is the parsed form of an Amazon Resource Name.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits "arn:partition:service:region:account:resource".
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("parse arn %q: want arn:partition:service:region:account:resource", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// DecodeJSON parses JSON text into the JSON-shaped Go value CEL reads as dyn. Some AWS
// properties are JSON documents carried as strings (SQS and SNS policies, Lambda
// resource policies, CloudFormation templates).
func DecodeJSON(s string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	return v, nil
}

func miscFunctions() []cel.EnvOption {
	stringFn := func(name string, out *cel.Type, fn func(string) (any, error)) cel.EnvOption {
		return cel.Function(name,
			cel.Overload(strings.ReplaceAll(name, ".", "_")+"_string", []*cel.Type{cel.StringType}, out,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					s, ok := v.(types.String)
					if !ok {
						return types.MaybeNoSuchOverloadErr(v)
					}
					r, err := fn(string(s))
					if err != nil {
						return types.NewErr("%s: %v", name, err)
					}
					return types.DefaultTypeAdapter.NativeToValue(r)
				})))
	}
	arnPart := func(pick func(ARN) string) func(string) (any, error) {
		return func(s string) (any, error) {
			a, err := ParseARN(s)
			if err != nil {
				return nil, err
			}
			return pick(a), nil
		}
	}
	return []cel.EnvOption{
		stringFn("arn.account", cel.StringType, arnPart(func(a ARN) string { return a.Account })),
		stringFn("arn.service", cel.StringType, arnPart(func(a ARN) string { return a.Service })),
		stringFn("arn.region", cel.StringType, arnPart(func(a ARN) string { return a.Region })),
		stringFn("arn.resource", cel.StringType, arnPart(func(a ARN) string { return a.Resource })),
		stringFn("json.decode", cel.DynType, DecodeJSON),
	}
}
