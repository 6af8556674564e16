package celfn

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/vigilsec/vigil/checks/iampolicy"
)

// parsePolicy parses a policy document from a document property. A null document (no
// policy set) yields nil: it grants nothing.
func parsePolicy(doc any) (*iampolicy.Policy, error) {
	if doc == nil {
		return nil, nil
	}
	return iampolicy.Parse(doc)
}

// PolicyIsPublic reports whether a resource or trust policy grants access to everyone
// (see iampolicy.Policy.IsPublic: conditions on aws:SourceArn, SourceAccount,
// SourceOwner, PrincipalOrgID, SourceVpce, SourceIp... restrict it). No policy is not
// public.
func PolicyIsPublic(doc any) (bool, error) {
	p, err := parsePolicy(doc)
	if err != nil || p == nil {
		return false, err
	}
	return p.IsPublic(), nil
}

// PolicyAllows reports whether the policy allows action on resource in the worst case
// (conditions ignored, no Deny denies it). No policy allows nothing.
func PolicyAllows(doc any, action, resource string) (bool, error) {
	p, err := parsePolicy(doc)
	if err != nil || p == nil {
		return false, err
	}
	return p.Allows(action, resource), nil
}

// PolicyGrantsAdmin reports whether the policy allows "*" on "*" without conditions.
func PolicyGrantsAdmin(doc any) (bool, error) {
	p, err := parsePolicy(doc)
	if err != nil || p == nil {
		return false, err
	}
	return p.AllowsAdmin(), nil
}

func iamFunctions() []cel.EnvOption {
	unary := func(name string, fn func(any) (bool, error)) cel.EnvOption {
		return cel.Function(name,
			cel.Overload(name[len("iam."):]+"_iam_dyn", []*cel.Type{cel.DynType}, cel.BoolType,
				cel.UnaryBinding(func(v ref.Val) ref.Val {
					doc, errv := nativeArg(name, v)
					if errv != nil {
						return errv
					}
					b, err := fn(doc)
					return boolOrErr(name, b, err)
				})))
	}
	return []cel.EnvOption{
		unary("iam.is_public", PolicyIsPublic),
		unary("iam.grants_admin", PolicyGrantsAdmin),
		cel.Function("iam.allows",
			cel.Overload("allows_iam_dyn_string_string", []*cel.Type{cel.DynType, cel.StringType, cel.StringType}, cel.BoolType,
				cel.FunctionBinding(func(args ...ref.Val) ref.Val {
					doc, errv := nativeArg("iam.allows", args[0])
					if errv != nil {
						return errv
					}
					action, ok1 := args[1].(types.String)
					res, ok2 := args[2].(types.String)
					if !ok1 || !ok2 {
						return types.NewErr("iam.allows: action and resource must be strings")
					}
					b, err := PolicyAllows(doc, string(action), string(res))
					return boolOrErr("iam.allows", b, err)
				}))),
	}
}
