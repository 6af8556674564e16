package iamgraph

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

// Test fixtures: documents shaped exactly as the AWS IAM collector emits them
// (docs/aws-resources.md): SDK field names, parsed policy documents, relations.

const acct = "111122223333"

func userARN(name string) string   { return "arn:aws:iam::" + acct + ":user/" + name }
func roleARN(name string) string   { return "arn:aws:iam::" + acct + ":role/" + name }
func groupARN(name string) string  { return "arn:aws:iam::" + acct + ":group/" + name }
func policyARN(name string) string { return "arn:aws:iam::" + acct + ":policy/" + name }

// doc decodes JSON text into the JSON-shaped value a document holds.
func doc(t testing.TB, text string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(text), &v), text)
	return v
}

// allow is a one-statement Allow policy of actions on "*".
func allow(actions ...string) string {
	b, _ := json.Marshal(actions)
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + string(b) + `,"Resource":"*"}]}`
}

type docOpt func(r *providers.Resource)

func inline(t testing.TB, listKey string, policies ...string) docOpt {
	return func(r *providers.Resource) {
		var list []any
		for i, p := range policies {
			list = append(list, map[string]any{"PolicyName": "inline" + string(rune('a'+i)), "PolicyDocument": doc(t, p)})
		}
		if list == nil {
			list = []any{}
		}
		r.Properties[listKey] = list
	}
}

func attached(arns ...string) docOpt {
	return func(r *providers.Resource) {
		var list []any
		for _, a := range arns {
			list = append(list, map[string]any{"PolicyArn": a, "PolicyName": a[len(a)-5:]})
			r.Relations = append(r.Relations, providers.Relation{Kind: "attached_policy", TargetID: a, TargetType: TypePolicy})
		}
		r.Properties["AttachedManagedPolicies"] = list
	}
}

func boundary(arn string) docOpt {
	return func(r *providers.Resource) {
		r.Properties["PermissionsBoundary"] = map[string]any{"PermissionsBoundaryArn": arn, "PermissionsBoundaryType": "Policy"}
		r.Relations = append(r.Relations, providers.Relation{Kind: "permissions_boundary", TargetID: arn, TargetType: TypePolicy})
	}
}

func memberOf(groups ...string) docOpt {
	return func(r *providers.Resource) {
		var names []any
		for _, g := range groups {
			names = append(names, g)
			r.Relations = append(r.Relations, providers.Relation{Kind: "member_of", TargetID: groupARN(g), TargetType: TypeGroup})
		}
		r.Properties["GroupList"] = names
	}
}

func props(kv map[string]any) docOpt {
	return func(r *providers.Resource) {
		for k, v := range kv {
			r.Properties[k] = v
		}
	}
}

func base(typ, arn, name string) providers.Resource {
	return providers.Resource{Provider: "aws", AccountID: acct, NativeID: arn, Type: typ, Region: "global", Name: name, Tags: map[string]string{},
		Properties: map[string]any{"Arn": arn, "Path": "/", "CreateDate": "2020-01-01T00:00:00Z"}}
}

func user(t testing.TB, name string, opts ...docOpt) providers.Resource {
	r := base(TypeUser, userARN(name), name)
	r.Properties["UserName"] = name
	r.Properties["UserPolicyList"] = []any{}
	r.Properties["AttachedManagedPolicies"] = []any{}
	r.Properties["GroupList"] = []any{}
	r.Properties["PermissionsBoundary"] = nil
	r.Properties["AccessKeys"] = []any{}
	r.Properties["PasswordLastUsed"] = nil
	for _, o := range opts {
		o(&r)
	}
	return r
}

func role(t testing.TB, name, trust string, opts ...docOpt) providers.Resource {
	r := base(TypeRole, roleARN(name), name)
	r.Properties["RoleName"] = name
	r.Properties["AssumeRolePolicyDocument"] = doc(t, trust)
	r.Properties["RolePolicyList"] = []any{}
	r.Properties["AttachedManagedPolicies"] = []any{}
	r.Properties["PermissionsBoundary"] = nil
	r.Properties["RoleLastUsed"] = map[string]any{"LastUsedDate": nil, "Region": nil}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func group(t testing.TB, name string, opts ...docOpt) providers.Resource {
	r := base(TypeGroup, groupARN(name), name)
	r.Properties["GroupName"] = name
	r.Properties["GroupPolicyList"] = []any{}
	r.Properties["AttachedManagedPolicies"] = []any{}
	for _, o := range opts {
		o(&r)
	}
	return r
}

// managed is a customer-managed policy whose default version is text; versions > 1
// adds older versions.
func managed(t testing.TB, name, text string, versions int) providers.Resource {
	r := base(TypePolicy, policyARN(name), name)
	d := doc(t, text)
	var list []any
	for v := 1; v <= versions; v++ {
		list = append(list, map[string]any{"VersionId": "v" + string(rune('0'+v)), "IsDefaultVersion": v == versions, "Document": d})
	}
	r.Properties["PolicyName"] = name
	r.Properties["Document"] = d
	r.Properties["DefaultVersionId"] = "v1"
	r.Properties["PolicyVersionList"] = list
	return r
}

func trustService(services ...string) string {
	b, _ := json.Marshal(services)
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":` + string(b) + `},"Action":"sts:AssumeRole"}]}`
}

func trustAWS(principals ...string) string {
	b, _ := json.Marshal(principals)
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":` + string(b) + `},"Action":"sts:AssumeRole"}]}`
}

func build(t testing.TB, res ...providers.Resource) *Graph {
	t.Helper()
	g, err := Build(res, BuildConfig{})
	require.NoError(t, err)
	return g
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
