package iampolicy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// condAllowed evaluates an identity policy with one Allow statement carrying cond
// against a request with ctx.
func condAllowed(t *testing.T, version, cond string, ctx map[string][]string) bool {
	t.Helper()
	doc := `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + cond + `}]}`
	if version != "" {
		doc = `{"Version":"` + version + `",` + doc[1:]
	}
	p, err := Parse(doc)
	require.NoError(t, err, doc)
	d := Evaluate(Request{
		Principal: RequestPrincipal{ARN: "arn:aws:iam::111122223333:user/alice", Type: PrincipalUser,
			Tags: map[string]string{"team": "blue"}},
		Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx,
	}, PolicySet{IdentityPolicies: []NamedPolicy{{Name: "p", Policy: p}}})
	return d.Allowed
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func TestConditionOperators(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cond string
		ctx  map[string][]string
		want bool
	}{
		// String operators: case-sensitive values, case-insensitive keys.
		{"StringEquals match", `{"StringEquals":{"s3:prefix":"home"}}`, ctx("s3:prefix", "home"), true},
		{"StringEquals key case-insensitive", `{"StringEquals":{"S3:Prefix":"home"}}`, ctx("s3:prefix", "home"), true},
		{"StringEquals value case-sensitive", `{"StringEquals":{"s3:prefix":"Home"}}`, ctx("s3:prefix", "home"), false},
		{"StringEquals any of values", `{"StringEquals":{"s3:prefix":["a","home"]}}`, ctx("s3:prefix", "home"), true},
		{"StringEquals no wildcard", `{"StringEquals":{"s3:prefix":"h*"}}`, ctx("s3:prefix", "home"), false},
		{"StringEquals missing key", `{"StringEquals":{"s3:prefix":"home"}}`, nil, false},
		{"StringNotEquals differs", `{"StringNotEquals":{"s3:prefix":"home"}}`, ctx("s3:prefix", "work"), true},
		{"StringNotEquals same", `{"StringNotEquals":{"s3:prefix":["x","home"]}}`, ctx("s3:prefix", "home"), false},
		{"StringNotEquals missing key is true", `{"StringNotEquals":{"s3:prefix":"home"}}`, nil, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"s3:prefix":"HOME"}}`, ctx("s3:prefix", "home"), true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"s3:prefix":"HOME"}}`, ctx("s3:prefix", "home"), false},
		{"StringLike star", `{"StringLike":{"s3:prefix":"home/*"}}`, ctx("s3:prefix", "home/a/b"), true},
		{"StringLike question", `{"StringLike":{"s3:prefix":"ho?e"}}`, ctx("s3:prefix", "home"), true},
		{"StringLike case-sensitive", `{"StringLike":{"s3:prefix":"HOME*"}}`, ctx("s3:prefix", "home"), false},
		{"StringNotLike", `{"StringNotLike":{"s3:prefix":"home/*"}}`, ctx("s3:prefix", "work/a"), true},
		{"StringNotLike matching", `{"StringNotLike":{"s3:prefix":"home/*"}}`, ctx("s3:prefix", "home/a"), false},
		// Numeric.
		{"NumericEquals", `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "10.0"), true},
		{"NumericNotEquals", `{"NumericNotEquals":{"s3:max-keys":10}}`, ctx("s3:max-keys", "10"), false},
		{"NumericLessThan true", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx("s3:max-keys", "9"), true},
		{"NumericLessThan equal", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx("s3:max-keys", "10"), false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"s3:max-keys":10}}`, ctx("s3:max-keys", "10"), true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s3:max-keys":10}}`, ctx("s3:max-keys", "11"), true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"s3:max-keys":10}}`, ctx("s3:max-keys", "9"), false},
		{"Numeric request not a number", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx("s3:max-keys", "x"), false},
		// Date.
		{"DateEquals", `{"DateEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2024-01-01T00:00:00Z"), true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2024-01-01T00:00:00Z"), false},
		{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2024-06-30"}}`, ctx("aws:CurrentTime", "2024-01-01T12:00:00Z"), true},
		{"DateLessThanEquals epoch", `{"DateLessThanEquals":{"aws:EpochTime":"1700000000"}}`, ctx("aws:EpochTime", "1700000000"), true},
		{"DateGreaterThan", `{"DateGreaterThan":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}`, ctx("aws:TokenIssueTime", "2023-12-31T23:59:59Z"), false},
		{"DateGreaterThanEquals offset", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01T01:00:00+01:00"}}`, ctx("aws:CurrentTime", "2024-01-01T00:00:00Z"), true},
		// Bool, Binary, IP.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SecureTransport", "true"), true},
		{"Bool JSON false", `{"Bool":{"aws:SecureTransport":false}}`, ctx("aws:SecureTransport", "true"), false},
		{"Bool case", `{"Bool":{"aws:MultiFactorAuthPresent":"TRUE"}}`, ctx("aws:MultiFactorAuthPresent", "true"), true},
		{"BinaryEquals", `{"BinaryEquals":{"k":"QmluYXJ5"}}`, ctx("k", "QmluYXJ5"), true},
		{"BinaryEquals differs", `{"BinaryEquals":{"k":"QmluYXJ5"}}`, ctx("k", "QmluYXJa"), false},
		{"IpAddress in range", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", "203.0.113.7"), true},
		{"IpAddress single", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx("aws:SourceIp", "203.0.113.8"), false},
		{"IpAddress v6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx("aws:SourceIp", "2001:db8::1"), true},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, ctx("aws:SourceIp", "203.0.113.7"), true},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}`, ctx("aws:SourceIp", "10.1.2.3"), false},
		// ARN.
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t"}}`, ctx("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:t"), true},
		{"ArnLike wildcard region", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx("aws:SourceArn", "arn:aws:sns:eu-west-1:111122223333:topic"), true},
		{"ArnLike star does not cross components", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*"}}`, ctx("aws:SourceArn", "arn:aws:sns:eu-west-1:111122223333:topic"), false},
		{"ArnLike resource with colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:*:log-group:x:*"}}`, ctx("aws:SourceArn", "arn:aws:logs:us-east-1:1:log-group:x:log-stream:y"), true},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t"}}`, ctx("aws:SourceArn", "arn:aws:sns:us-east-1:999988887777:t"), true},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:t"), false},
		{"ArnLike value not an ARN", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, ctx("aws:SourceArn", "not-an-arn"), false},
		// Null.
		{"Null true absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, true},
		{"Null true present", `{"Null":{"aws:TokenIssueTime":"true"}}`, ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), false},
		{"Null false present", `{"Null":{"aws:TokenIssueTime":false}}`, ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), true},
		{"Null false absent", `{"Null":{"aws:TokenIssueTime":"false"}}`, nil, false},
		// IfExists.
		{"IfExists absent", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, nil, true},
		{"IfExists present match", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, ctx("ec2:InstanceType", "t3.micro"), true},
		{"IfExists present mismatch", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, ctx("ec2:InstanceType", "m5.large"), false},
		{"NumericLessThanIfExists absent", `{"NumericLessThanIfExists":{"s3:max-keys":5}}`, nil, true},
		{"NotIpAddressIfExists absent", `{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true},
		// Set operators.
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "c", "aws:TagKeys", "b"), true},
		{"ForAnyValue none matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "c"), false},
		{"ForAnyValue missing is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, nil, false},
		{"ForAnyValue empty list is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, map[string][]string{"aws:TagKeys": {}}, false},
		{"ForAnyValue negated one differs", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "z"), true},
		{"ForAnyValue negated all equal", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", "a"), false},
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"ForAllValues not subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "c"), false},
		{"ForAllValues missing is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, nil, true},
		{"ForAllValues negated none match", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["sec*"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"ForAllValues negated one matches", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["sec*"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "secret"), false},
		{"ForAnyValue IfExists absent", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["a"]}}`, nil, true},
		{"qualifier case-insensitive", `{"foranyvalue:StringLike":{"aws:TagKeys":["a*"]}}`, ctx("aws:TagKeys", "ab"), true},
		// Combination: all operators and keys AND, values OR.
		{"two keys both hold", `{"StringEquals":{"a":"1","b":"2"}}`, ctx("a", "1", "b", "2"), true},
		{"two keys one fails", `{"StringEquals":{"a":"1","b":"2"}}`, ctx("a", "1", "b", "3"), false},
		{"two operators one fails", `{"StringEquals":{"a":"1"},"Bool":{"aws:SecureTransport":"true"}}`, ctx("a", "1", "aws:SecureTransport", "false"), false},
		// Derived keys.
		{"aws:PrincipalTag derived", `{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`, nil, true},
		{"aws:username derived", `{"StringEquals":{"aws:username":"alice"}}`, nil, true},
		{"aws:PrincipalAccount derived", `{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`, nil, true},
		{"aws:PrincipalType derived", `{"StringEquals":{"aws:PrincipalType":"User"}}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, condAllowed(t, VersionCurrent, tc.cond, tc.ctx))
		})
	}
}

func TestPolicyVariables(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, version, cond string
		ctx                 map[string][]string
		want                bool
	}{
		{"username in condition", VersionCurrent, `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx("s3:prefix", "home/alice/docs"), true},
		{"username other user", VersionCurrent, `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx("s3:prefix", "home/bob/docs"), false},
		{"legacy version keeps text literal", VersionLegacy, `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, ctx("s3:prefix", "home/alice/docs"), false},
		{"no version keeps text literal", "", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, ctx("s3:prefix", "${aws:username}"), true},
		{"principal tag", VersionCurrent, `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team}"}}`, ctx("s3:prefix", "blue"), true},
		{"literal star variable", VersionCurrent, `{"StringLike":{"s3:prefix":"a${*}b"}}`, ctx("s3:prefix", "a*b"), true},
		{"literal star is not a wildcard", VersionCurrent, `{"StringLike":{"s3:prefix":"a${*}b"}}`, ctx("s3:prefix", "axxb"), false},
		{"literal question", VersionCurrent, `{"StringEquals":{"s3:prefix":"a${?}"}}`, ctx("s3:prefix", "a?"), true},
		{"literal dollar", VersionCurrent, `{"StringEquals":{"s3:prefix":"${$}5"}}`, ctx("s3:prefix", "$5"), true},
		{"missing variable matches nothing", VersionCurrent, `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/absent}"}}`, ctx("s3:prefix", ""), false},
		{"default value", VersionCurrent, `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/absent, 'none'}"}}`, ctx("s3:prefix", "none"), true},
		{"variable value is literal", VersionCurrent, `{"StringLike":{"s3:prefix":"${aws:PrincipalTag/team}"}}`, ctx("s3:prefix", "blue"), true},
		{"arn with variable", VersionCurrent, `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:user/${aws:username}"}}`, ctx("aws:SourceArn", "arn:aws:iam::1:user/alice"), true},
		{"numeric ignores variables", VersionCurrent, `{"NumericEquals":{"s3:max-keys":"5"}}`, ctx("s3:max-keys", "5"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, condAllowed(t, tc.version, tc.cond, tc.ctx))
		})
	}

	t.Run("resource with variable", func(t *testing.T) {
		t.Parallel()
		p := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`)
		set := PolicySet{IdentityPolicies: []NamedPolicy{{Name: "home", Policy: p}}}
		req := func(res string) Request {
			return Request{Principal: RequestPrincipal{ARN: "arn:aws:iam::1:user/alice", Type: PrincipalUser}, Action: "s3:GetObject", Resource: res}
		}
		require.True(t, Evaluate(req("arn:aws:s3:::home/alice/x"), set).Allowed)
		require.False(t, Evaluate(req("arn:aws:s3:::home/bob/x"), set).Allowed)
		// Role sessions have no aws:username: the resource matches nothing.
		r := req("arn:aws:s3:::home/alice/x")
		r.Principal = RequestPrincipal{ARN: "arn:aws:sts::1:assumed-role/R/alice", Type: PrincipalAssumedRole}
		require.False(t, Evaluate(r, set).Allowed)
		// Worst-case Allows treats the variable as a wildcard.
		require.True(t, p.Allows("s3:GetObject", "arn:aws:s3:::home/bob/x"))
	})
}

func TestConditionValuesKeepJSONForm(t *testing.T) {
	t.Parallel()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NumericEquals":{"k":1.5},"Bool":{"b":true}}}}`), &m))
	p, err := Parse(m)
	require.NoError(t, err)
	require.Equal(t, []string{"true"}, p.Statements[0].Conditions[0].Values)
	require.Equal(t, []string{"1.5"}, p.Statements[0].Conditions[1].Values)
}
