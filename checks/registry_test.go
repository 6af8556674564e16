package checks_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
)

const validCheck = `id: aws.s3.bucket_versioning_enabled
title: S3 bucket versioning is enabled
severity: low
resource: aws.s3.bucket
description: Checks versioning.
risk: Lost objects.
remediation:
  text: Enable versioning.
  cli: aws s3api put-bucket-versioning --bucket {{.Name}} --versioning-configuration Status=Enabled
compliance:
  test-fw: ["1.1"]
assert: resource.properties.Versioning.Status == "Enabled"
message: '"bucket " + resource.name + " is not versioned"'
tests:
  - {name: on, expect: pass, resource: {name: b, properties: {Versioning: {Status: Enabled}}}}
  - {name: off, expect: fail, resource: {name: b, properties: {Versioning: {Status: Suspended}}}}
  - {name: gap, expect: unknown, resource: {name: b, properties: {}, gaps: [Versioning]}}
`

// withLine replaces the line starting with prefix (a field) by repl.
func withLine(prefix, repl string) string {
	lines := strings.Split(validCheck, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = repl
		}
	}
	return strings.Join(lines, "\n")
}

func TestParseCheckProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want checks.Problem // fields compared when set; Message as a substring
	}{
		{name: "unknown key", yaml: validCheck + "colour: blue\n", want: checks.Problem{Line: 18, Message: "field colour not found"}},
		{name: "bad id", yaml: withLine("id:", "id: AWS.S3.Bad-Name"), want: checks.Problem{Field: "id", Line: 1, Message: "is not <cloud>.<service>.<snake_name>"}},
		{name: "double underscore id", yaml: withLine("id:", "id: aws.s3.bad__name"), want: checks.Problem{Field: "id"}},
		{name: "cloud mismatch", yaml: withLine("id:", "id: gcp.s3.x"), want: checks.Problem{Field: "id", Message: "differs from the cloud"}},
		{name: "bad severity", yaml: withLine("severity:", "severity: urgent"), want: checks.Problem{Field: "severity", Line: 3, Message: `"urgent" is not one of`}},
		{name: "missing title", yaml: withLine("title:", ""), want: checks.Problem{Field: "title", Message: "required"}},
		{name: "missing remediation text", yaml: withLine("  text:", "  text: ''"), want: checks.Problem{Field: "remediation.text", Message: "required"}},
		{name: "bad template", yaml: withLine("  cli:", "  cli: x {{.Nope}}"), want: checks.Problem{Field: "remediation.cli", Message: "Nope"}},
		{name: "syntax error with position", yaml: withLine("assert:", "assert: resource.properties.Versioning.Status == "), want: checks.Problem{Field: "assert", Line: 12, ExprLine: 1, ExprColumn: 41, Message: "Syntax error"}},
		{name: "undeclared reference with position", yaml: withLine("assert:", "assert: resourc.name == 'x'"), want: checks.Problem{Field: "assert", ExprLine: 1, ExprColumn: 1, Message: "undeclared reference to 'resourc'"}},
		{name: "error on the second line of a block", yaml: withLine("assert:", "assert: |\n  resource.name == 'x' &&\n    nofunc(1)"), want: checks.Problem{Field: "assert", ExprLine: 2, ExprColumn: 9, Message: "undeclared reference to 'nofunc'"}},
		{name: "wrong argument types", yaml: withLine("assert:", "assert: cidr.is_public(1)"), want: checks.Problem{Field: "assert", Message: "found no matching overload for 'cidr.is_public'"}},
		{name: "assert must be bool", yaml: withLine("assert:", "assert: resource.properties.Enabled"), want: checks.Problem{Field: "assert", Message: "has type dyn, want bool (compare explicitly"}},
		{name: "message must be string", yaml: withLine("message:", "message: 'true'"), want: checks.Problem{Field: "message", Message: "has type bool, want string"}},
		{name: "when must be bool", yaml: validCheck + "when: '1'\n", want: checks.Problem{Field: "when", Message: "has type int, want bool"}},
		{name: "cost limit", yaml: withLine("assert:", "assert: resource.properties.L.all(a, resource.properties.L.all(b, resource.properties.L.all(c, resource.properties.L.all(d, a == d))))"),
			want: checks.Problem{Field: "assert", Message: "exceeds the limit 10000000"}},
		{name: "bad expect", yaml: strings.Replace(validCheck, "expect: pass", "expect: passes", 1), want: checks.Problem{Field: "tests[0].expect", Message: `"passes" is not one of`}},
		{name: "skip without when", yaml: strings.Replace(validCheck, "expect: pass", "expect: skip", 1), want: checks.Problem{Field: "tests[0].expect", Message: "skip needs a `when`"}},
		{name: "not yaml", yaml: "id: [", want: checks.Problem{Message: "did not find expected"}},
		{name: "empty", yaml: "", want: checks.Problem{Message: "empty file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := checks.ParseCheck([]byte(tc.yaml))
			require.Error(t, err)
			var ve *checks.ValidationError
			require.ErrorAs(t, err, &ve)
			var found bool
			for _, p := range ve.Problems {
				if (tc.want.Field == "" || p.Field == tc.want.Field) &&
					(tc.want.Line == 0 || p.Line == tc.want.Line) &&
					(tc.want.ExprLine == 0 || p.ExprLine == tc.want.ExprLine) &&
					(tc.want.ExprColumn == 0 || p.ExprColumn == tc.want.ExprColumn) &&
					strings.Contains(p.Message, tc.want.Message) {
					found = true
				}
			}
			require.True(t, found, "want %+v among %+v", tc.want, ve.Problems)
		})
	}
}

// TestCostEstimateOfNestedDocumentValues: loops over elements of bound or computed
// lists (statements normalised to a list) have a bounded estimate.
func TestCostEstimateOfNestedDocumentValues(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		`cel.bind(st, type(resource.properties.D.Statement) == list ? resource.properties.D.Statement : [resource.properties.D.Statement], !st.exists(s, has(s.Condition) && "StringEquals" in s.Condition && "k" in s.Condition["StringEquals"] && !(s.Condition["StringEquals"]["k"] in ["*", "repo:*"])))`,
		`resource.properties.Rules.exists(r, r.?Ranges.orValue([]).exists(x, cidr.is_public(x.CidrIp)))`,
		`resource.properties.Entries.exists(e, !resource.properties.Entries.exists(d, d.RuleNumber < e.RuleNumber))`,
	} {
		_, err := checks.ParseCheck([]byte(withLine("assert:", "assert: '"+strings.ReplaceAll(expr, "'", "''")+"'")))
		require.NoError(t, err, expr)
	}
}

func TestParseCheckValid(t *testing.T) {
	t.Parallel()
	c, err := checks.ParseCheck([]byte(validCheck))
	require.NoError(t, err)
	require.Equal(t, "aws.s3.bucket_versioning_enabled", c.ID)
	require.Equal(t, checks.SeverityLow, c.Severity)
	require.Equal(t, []string{"1.1"}, c.Compliance["test-fw"])
	require.Len(t, c.Tests, 3)
	require.Empty(t, c.RunFixtures(context.Background()))

	rem, err := c.Remediation.Render(bucket(nil))
	require.NoError(t, err)
	require.Equal(t, "aws s3api put-bucket-versioning --bucket b1 --versioning-configuration Status=Enabled", rem.CLI)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	require.Empty(t, checks.Validate(ctx, []byte(validCheck)))

	// A tenant check without fixtures is valid.
	noTests := validCheck[:strings.Index(validCheck, "tests:")]
	require.Empty(t, checks.Validate(ctx, []byte(noTests)))

	// A fixture that does not give its expected status is a problem.
	wrong := strings.Replace(validCheck, "{name: off, expect: fail", "{name: off, expect: pass", 1)
	probs := checks.Validate(ctx, []byte(wrong))
	require.Len(t, probs, 1)
	require.Equal(t, "tests[1]", probs[0].Field)
	require.Contains(t, probs[0].Message, `fixture "off": want pass, got fail`)

	probs = checks.Validate(ctx, []byte(withLine("assert:", "assert: 1 +")))
	require.NotEmpty(t, probs)
	require.Equal(t, "assert", probs[0].Field)
	require.Equal(t, 1, probs[0].ExprLine)
}

func TestRuntimeCostLimit(t *testing.T) {
	t.Parallel()
	co, err := checks.NewCompiler(checks.CompilerConfig{RuntimeCostLimit: 1000})
	require.NoError(t, err)
	c, err := co.ParseCheck([]byte(withLine("assert:", "assert: resource.properties.L.all(a, resource.properties.L.all(b, a != b || a == b))")))
	require.NoError(t, err)
	list := make([]any, 200)
	for i := range list {
		list[i] = float64(i)
	}
	got := c.Evaluate(context.Background(), docOf(map[string]any{"L": list}))
	require.Equal(t, checks.StatusUnknown, got.Status)
	require.Contains(t, got.Reason, "cost limit exceeded")

	small := c.Evaluate(context.Background(), docOf(map[string]any{"L": []any{1.0, 2.0}}))
	require.Equal(t, checks.StatusPass, small.Status)
}

func docOf(props map[string]any) checks.Document {
	return checks.Document{Resource: bucket(props)}
}

func TestStaticCostLimitConfigurable(t *testing.T) {
	t.Parallel()
	co, err := checks.NewCompiler(checks.CompilerConfig{MaxCost: 100})
	require.NoError(t, err)
	_, err = co.ParseCheck([]byte(withLine("assert:", "assert: resource.properties.L.all(a, a == 1)")))
	require.ErrorContains(t, err, "exceeds the limit 100")
	_, err = co.ParseCheck([]byte(validCheck))
	require.NoError(t, err)
}

const testFramework = `id: test-fw
name: Test
version: "1"
provider: aws
controls:
  - {id: "1.1", title: Versioning, checks: [aws.s3.bucket_versioning_enabled]}
  - {id: "1.2", title: Manual, manual: true, checks: []}
`

func TestLoad(t *testing.T) {
	t.Parallel()
	second := strings.Replace(validCheck, "id: aws.s3.bucket_versioning_enabled", "id: aws.s3.bucket_versioning_on", 1)
	tests := []struct {
		name    string
		files   fstest.MapFS
		problem string // substring of the error, "" for success
	}{
		{name: "ok", files: fstest.MapFS{
			"aws/s3/a.yaml":           {Data: []byte(validCheck)},
			"aws/s3/b.yaml":           {Data: []byte(second)},
			"frameworks/test-fw.yaml": {Data: []byte(testFramework)},
			"README.md":               {Data: []byte("not yaml, ignored")},
		}},
		{name: "duplicate id", files: fstest.MapFS{
			"aws/s3/a.yaml": {Data: []byte(validCheck)},
			"aws/s3/b.yaml": {Data: []byte(validCheck)},
		}, problem: `aws/s3/b.yaml: id: duplicate check id "aws.s3.bucket_versioning_enabled" (also in aws/s3/a.yaml)`},
		{name: "missing unknown fixture", files: fstest.MapFS{
			"aws/s3/a.yaml": {Data: []byte(strings.Replace(validCheck, "expect: unknown", "expect: fail", 1))},
		}, problem: `aws/s3/a.yaml: tests: check aws.s3.bucket_versioning_enabled has no "unknown" fixture`},
		{name: "control points at unknown check", files: fstest.MapFS{
			"aws/s3/a.yaml":           {Data: []byte(validCheck)},
			"frameworks/test-fw.yaml": {Data: []byte(testFramework + "  - {id: \"1.3\", title: X, checks: [aws.s3.nope]}\n")},
		}, problem: `frameworks/test-fw.yaml: controls[2].checks[0]: control 1.3 points at unknown check "aws.s3.nope"`},
		{name: "automated control without checks", files: fstest.MapFS{
			"aws/s3/a.yaml":           {Data: []byte(validCheck)},
			"frameworks/test-fw.yaml": {Data: []byte(testFramework + "  - {id: \"1.3\", title: X, checks: []}\n")},
		}, problem: "automated control 1.3 has no checks"},
		{name: "compliance names a missing control", files: fstest.MapFS{
			"aws/s3/a.yaml":           {Data: []byte(strings.Replace(validCheck, `["1.1"]`, `["9.9"]`, 1))},
			"frameworks/test-fw.yaml": {Data: []byte(testFramework)},
		}, problem: `compliance.test-fw: framework test-fw has no control "9.9"`},
		{name: "duplicate control", files: fstest.MapFS{
			"frameworks/test-fw.yaml": {Data: []byte(testFramework + "  - {id: \"1.1\", title: again, manual: true, checks: []}\n")},
		}, problem: `duplicate control id "1.1"`},
		{name: "framework unknown key", files: fstest.MapFS{
			"frameworks/test-fw.yaml": {Data: []byte(testFramework + "owner: me\n")},
		}, problem: "field owner not found"},
		{name: "problems of several files together", files: fstest.MapFS{
			"aws/s3/a.yaml": {Data: []byte(withLine("severity:", "severity: x"))},
			"aws/s3/b.yaml": {Data: []byte(withLine("assert:", "assert: 1 +"))},
		}, problem: "2 problems"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg, err := checks.Load(tc.files, ".")
			if tc.problem != "" {
				require.ErrorContains(t, err, tc.problem)
				return
			}
			require.NoError(t, err)
			require.Len(t, reg.Checks(), 2)
			require.Len(t, reg.ForType("aws.s3.bucket"), 2)
			require.Empty(t, reg.ForType("aws.ec2.instance"))
			c, ok := reg.Check("aws.s3.bucket_versioning_on")
			require.True(t, ok)
			require.Equal(t, "aws/s3/b.yaml", c.Source)
			fw, ok := reg.Framework("test-fw")
			require.True(t, ok)
			require.Equal(t, []string{"aws.s3.bucket_versioning_enabled"}, fw.Control("1.1").Checks)
			require.True(t, fw.Control("1.2").Manual)
			require.Empty(t, reg.RunFixtures(context.Background()))
		})
	}
}

func TestNewRegistryWithoutFixtures(t *testing.T) {
	t.Parallel()
	noTests := validCheck[:strings.Index(validCheck, "tests:")]
	c, err := checks.ParseCheck([]byte(noTests))
	require.NoError(t, err)
	_, err = checks.NewRegistry([]*checks.Check{c}, nil, checks.RegistryConfig{})
	require.NoError(t, err)
	_, err = checks.NewRegistry([]*checks.Check{c}, nil, checks.RegistryConfig{RequireFixtures: true})
	require.ErrorContains(t, err, `no "pass" fixture`)
	_, err = checks.NewRegistry([]*checks.Check{c, c}, nil, checks.RegistryConfig{})
	require.ErrorContains(t, err, "duplicate check id")
}
