package iampolicy

import (
	"errors"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	t.Run("statement object and list, all elements", func(t *testing.T) {
		t.Parallel()
		p, err := Parse(`{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`)
		require.NoError(t, err)
		require.Equal(t, "x", p.ID)
		require.Len(t, p.Statements, 1)
		require.Equal(t, []string{"s3:GetObject"}, p.Statements[0].Action)

		p, err = Parse([]byte(`{"Statement":[{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:iam::1:role/x",
			"NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/u"],"Service":"ec2.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"abc"},
			"Condition":{"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":false}}}]}`))
		require.NoError(t, err)
		st := p.Statements[0]
		require.Equal(t, Deny, st.Effect)
		require.Equal(t, []string{"iam:*"}, st.NotAction)
		require.Equal(t, []string{"ec2.amazonaws.com"}, st.NotPrincipal.Service)
		require.Len(t, st.Conditions, 2)
		require.Equal(t, "Bool", st.Conditions[0].Base)
		require.Equal(t, []string{"false"}, st.Conditions[0].Values)
		require.Equal(t, []string{"10"}, st.Conditions[1].Values)
	})
	t.Run("url-encoded text as IAM returns it", func(t *testing.T) {
		t.Parallel()
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
		p, err := Parse(url.QueryEscape(doc))
		require.NoError(t, err)
		require.True(t, p.AllowsAdmin())
	})
	t.Run("decoded map", func(t *testing.T) {
		t.Parallel()
		p, err := Parse(map[string]any{"Statement": []any{map[string]any{
			"Effect": "Allow", "Action": []any{"s3:*"}, "Resource": "*",
			"Condition": map[string]any{"NumericEquals": map[string]any{"k": float64(3)}},
		}}})
		require.NoError(t, err)
		require.Equal(t, []string{"3"}, p.Statements[0].Conditions[0].Values)
	})

	errCases := []struct {
		name, doc, want string
	}{
		{"not json", `{`, "malformed policy document: unexpected EOF"},
		{"not object", `[]`, "document must be a JSON object, got list"},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement is missing"},
		{"bad version", `{"Version":"2020-01-01","Statement":[]}`, `Version "2020-01-01" is not`},
		{"unknown top-level", `{"Statement":[],"Foo":1}`, `unsupported top-level element "Foo"`},
		{"statement not object", `{"Statement":["x"]}`, "statement 0 must be an object, got string"},
		{"missing effect", `{"Statement":[{"Action":"*"}]}`, "statement 0: Effect is missing"},
		{"bad effect", `{"Statement":[{"Sid":"S","Effect":"allow","Action":"*"}]}`, `statement 0 (Sid "S"): Effect must be "Allow" or "Deny", got "allow"`},
		{"no action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, "Action or NotAction is required"},
		{"both actions", `{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*"}]}`, "Action and NotAction are both set"},
		{"both resources", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}]}`, "Resource and NotResource are both set"},
		{"both principals", `{"Statement":[{"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"}]}`, "Principal and NotPrincipal are both set"},
		{"action not string", `{"Statement":[{"Effect":"Allow","Action":["s3:x",1]}]}`, "Action: item 1 must be a string, got number"},
		{"action format", `{"Statement":[{"Effect":"Allow","Action":"s3GetObject"}]}`, `Action[0]: "s3GetObject" is not`},
		{"empty action", `{"Statement":[{"Effect":"Allow","Action":[]}]}`, "Action is empty"},
		{"principal string", `{"Statement":[{"Effect":"Allow","Action":"*","Principal":"me"}]}`, `Principal: a string principal must be "*"`},
		{"principal type", `{"Statement":[{"Effect":"Allow","Action":"*","Principal":{"User":"x"}}]}`, `unsupported principal type "User"`},
		{"unknown operator", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringFoo":{"k":"v"}}}]}`, `unknown condition operator "StringFoo"`},
		{"bad qualifier", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"ForSome:StringEquals":{"k":"v"}}}]}`, `unknown set qualifier "ForSome"`},
		{"null ifexists", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"NullIfExists":{"k":"true"}}}]}`, "Null has no IfExists form"},
		{"bad number", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"NumericEquals":{"k":"ten"}}}]}`, `NumericEquals: k: "ten" is not a number`},
		{"bad date", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}]}`, `"tomorrow" is not an ISO 8601 date`},
		{"bad cidr", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}`, `"10.0.0.0/33" is not an IP address`},
		{"bad bool", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}`, `"yes" is not true or false`},
		{"bad binary", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"BinaryEquals":{"k":"!!"}}}]}`, `"!!" is not base64`},
		{"condition value object", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"k":{"a":1}}}}]}`, "must be a string, number or boolean, got object"},
		{"operator not object", `{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"StringEquals":"x"}}]}`, "StringEquals must be an object of condition keys"},
		{"unknown element", `{"Statement":[{"Effect":"Allow","Action":"*","Actions":"*"}]}`, `unsupported element "Actions"`},
		// The first error in the sorted order of the statement's keys is the one reported.
		{"first error by key order", `{"Statement":[{"Effect":"allow","Action":1}]}`, "Action: must be a string or a list of strings"},
		{"unknown element before a bad one", `{"Statement":[{"Resource":2,"Foo":1,"Effect":"Allow","Action":"*"}]}`, `unsupported element "Foo"`},
		{"bad url encoding", `%zz`, "url-decode"},
		{"trailing data", `{"Statement":[]} {}`, "trailing data"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.doc)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrMalformed), "error %v does not wrap ErrMalformed", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("unsupported argument type", func(t *testing.T) {
		t.Parallel()
		_, err := Parse(42)
		require.Error(t, err)
		require.False(t, errors.Is(err, ErrMalformed))
	})
}

// TestStatementElementsSorted: parseStatement walks these in place of a statement's
// sorted keys.
func TestStatementElementsSorted(t *testing.T) {
	require.True(t, sort.StringsAreSorted(statementElements[:]))
}

func TestGlob(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"s3:get*", "s3:getobject", true},
		{"s3:get*", "s3:putobject", false},
		{"s3:?etobject", "s3:getobject", true},
		{"s3:?etobject", "s3:etobject", false},
		{"arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/x", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"?", "é", true},
		{"a" + string(rune(litStar)) + "b", "a*b", true},
		{"a" + string(rune(litStar)) + "b", "axb", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, glob(tc.pattern, tc.s), "glob(%q, %q)", tc.pattern, tc.s)
	}
}
