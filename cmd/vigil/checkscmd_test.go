package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil/checks/builtin"
)

// writeFiles creates files under a temporary folder and returns the folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return dir
}

const goodCheck = `id: aws.s3.bucket_owner_tagged
title: S3 bucket has an owner tag
severity: low
resource: aws.s3.bucket
description: Checks the owner tag.
risk: Nobody answers for the data.
remediation:
  text: Tag the bucket with its owner.
assert: has(resource.tags.owner)
message: '"bucket " + resource.name + " has no owner tag"'
tests:
  - name: tagged
    expect: pass
    resource: {tags: {owner: me}}
  - name: untagged
    expect: fail
    resource: {name: b1}
`

// badCEL has a type error inside a folded block, on its second line.
const badCEL = `id: aws.s3.bucket_custom_tag
title: Bucket has an owner tag
severity: medium
resource: aws.s3.bucket
description: x
risk: y
remediation:
  text: tag it
assert: >
  has(resource.tags.owner) &&
  resource.tags.owner.startsWith(1)
message: '"bucket " + resource.name'
`

const unknownKey = `id: aws.s3.bucket_x
title: t
severity: urgent
resource: aws.s3.bucket
description: d
risk: r
remediation:
  text: x
assert: "true"
message: '"m"'
colour: blue
`

// wrongFixture expects pass from a document that fails.
const wrongFixture = `id: aws.s3.bucket_owner_tagged
title: S3 bucket has an owner tag
severity: low
resource: aws.s3.bucket
description: Checks the owner tag.
risk: Nobody answers for the data.
remediation:
  text: Tag the bucket with its owner.
assert: has(resource.tags.owner)
message: '"bucket " + resource.name + " has no owner tag"'
tests:
  - name: untagged but expected to pass
    expect: pass
    resource: {name: b1}
`

const framework = `id: acme-baseline
name: Acme baseline
version: "1"
provider: aws
controls:
  - id: A.1
    title: Buckets are owned
    checks: [aws.s3.bucket_owner_tagged, aws.s3.bucket_no_public_read]
  - id: A.2
    title: Something else
    checks: [aws.s3.no_such_check]
  - id: A.3
    title: Automated without checks
`

func TestChecksValidate(t *testing.T) {
	t.Run("valid files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"good.yaml": goodCheck, "notes.txt": "ignored"})
		out, err := run(t, nil, "checks", "validate", dir)
		require.NoError(t, err, out)
		require.Contains(t, out, "1 files (1 checks, 0 frameworks): 0 problems")
	})
	t.Run("every problem with its position", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{
			"a/good.yaml": goodCheck, "b/dup.yml": goodCheck, "bad_cel.yaml": badCEL, "unknown.yaml": unknownKey,
			"frameworks/acme.yaml": framework,
		})
		out, err := run(t, nil, "checks", "validate", dir)
		require.Error(t, err)
		require.Equal(t, 1, exitCodeOf(err))
		p := func(name string) string { return filepath.Join(dir, name) }
		want := []string{
			p("b/dup.yml") + ":1:1: id: duplicate check id \"aws.s3.bucket_owner_tagged\" (also in " + p("a/good.yaml") + ")",
			// Line 11, column 33: the "(" of startsWith in the folded block.
			p("bad_cel.yaml") + ":11:33: assert: found no matching overload for 'startsWith' applied to 'dyn.(int)'",
			p("frameworks/acme.yaml") + ":11:14: controls[1].checks[0]: control A.2 points at unknown check \"aws.s3.no_such_check\"",
			p("frameworks/acme.yaml") + ":12:5: controls[2].checks: automated control A.3 has no checks (mark it manual: true, or list the checks that decide it)",
			p("unknown.yaml") + ":11:1: field colour not found in Check",
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, w := range want {
			require.Contains(t, lines, w, out)
		}
		require.Contains(t, out, "5 files (4 checks, 1 frameworks)")
	})
	t.Run("require fixtures", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"good.yaml": goodCheck})
		out, err := run(t, nil, "checks", "validate", "--require-fixtures", filepath.Join(dir, "good.yaml"))
		require.Error(t, err)
		require.Contains(t, out, filepath.Join(dir, "good.yaml")+`:11:1: tests: no "unknown" fixture (pass, fail and unknown are required)`)
	})
	t.Run("a fixture that fails is a problem", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"f.yaml": wrongFixture})
		out, err := run(t, nil, "checks", "validate", dir)
		require.Error(t, err)
		require.Contains(t, out, filepath.Join(dir, "f.yaml")+`:12:5: tests[0]: fixture "untagged but expected to pass": want pass, got fail`)
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := run(t, nil, "checks", "validate", filepath.Join(t.TempDir(), "nope"))
		require.ErrorContains(t, err, "no such file")
	})
}

func TestChecksTest(t *testing.T) {
	t.Run("built-ins", func(t *testing.T) {
		reg, err := builtin.Registry()
		require.NoError(t, err)
		out, err := run(t, nil, "checks", "test")
		require.NoError(t, err, out)
		require.Contains(t, out, ": 0 failed, 0 files with problems")
		require.Contains(t, out, itoa(len(reg.Checks()))+" checks, ")
	})
	t.Run("files", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"good.yaml": goodCheck, "wrong.yaml": wrongFixture, "bad.yaml": badCEL,
			"frameworks/acme.yaml": framework})
		out, err := run(t, nil, "checks", "test", "-v", dir)
		require.Error(t, err)
		require.Equal(t, 1, exitCodeOf(err))
		require.Contains(t, out, "ok   aws.s3.bucket_owner_tagged (2 fixtures)")
		require.Contains(t, out, "FAIL aws.s3.bucket_owner_tagged: "+filepath.Join(dir, "wrong.yaml")+`:12:5: tests[0]: fixture "untagged but expected to pass": want pass, got fail`)
		require.Contains(t, out, filepath.Join(dir, "bad.yaml")+":11:33: assert: found no matching overload")
		require.Contains(t, out, "2 checks, 3 fixtures: 1 failed, 1 files with problems")
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestChecksList(t *testing.T) {
	reg, err := builtin.Registry()
	require.NoError(t, err)

	out, err := run(t, nil, "checks", "list", "--severity", "critical,high", "--provider", "aws", "--format", "json")
	require.NoError(t, err, out)
	var list []checkJSON
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	want := 0
	for _, c := range reg.Checks() {
		if c.Severity == "critical" || c.Severity == "high" {
			want++
		}
	}
	require.Len(t, list, want)
	ids := map[string]bool{}
	for _, c := range list {
		require.Contains(t, []string{"critical", "high"}, string(c.Severity))
		require.NotEmpty(t, c.Title)
		require.NotEmpty(t, c.Remediation.Text)
		ids[c.ID] = true
	}
	require.True(t, ids["aws.s3.bucket_no_public_read"])

	out, err = run(t, nil, "checks", "list", "--framework", "cis-aws-5.0")
	require.NoError(t, err, out)
	fw, ok := reg.Framework("cis-aws-5.0")
	require.True(t, ok)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.True(t, strings.HasPrefix(lines[0], "CONTROLS"), lines[0])
	inFW := map[string]bool{}
	for _, ctl := range fw.Controls {
		for _, id := range ctl.Checks {
			inFW[id] = true
		}
	}
	require.Len(t, lines, len(inFW)+2, "header, one line per check of the framework, count")
	require.Equal(t, itoa(len(inFW))+" checks", lines[len(lines)-1])

	out, err = run(t, nil, "checks", "list", "--provider", "gcp")
	require.NoError(t, err)
	require.Contains(t, out, "0 checks")

	_, err = run(t, nil, "checks", "list", "--framework", "nope")
	require.ErrorContains(t, err, `--framework "nope": unknown (known: `)
	_, err = run(t, nil, "checks", "list", "--severity", "urgent")
	require.ErrorContains(t, err, `--severity "urgent"`)
	_, err = run(t, nil, "checks", "list", "--format", "xml")
	require.ErrorContains(t, err, `--format "xml"`)
}

func TestExprPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		doc            string
		exprLine, col  int
		wantLine, want int
	}{
		{"plain", "assert: a == b\n", 1, 3, 1, 11},
		{"single quoted", "assert: 'a == b'\n", 1, 3, 1, 12},
		{"literal second line", "assert: |\n  a ||\n  b.c(1)\n", 2, 4, 3, 6},
		{"folded joins lines", "assert: >\n  a ||\n  b.c(1)\n", 1, 9, 3, 6},
		{"folded keeps blank-line breaks", "assert: >\n  a ||\n\n  b.c(1)\n", 2, 4, 4, 6},
		{"folded more-indented keeps breaks", "assert: >\n  a ||\n    b.c(1)\n", 2, 6, 3, 8},
		{"outside the block", "assert: >\n  a\nmessage: x\n", 3, 1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var root yaml.Node
			require.NoError(t, yaml.Unmarshal([]byte(tc.doc), &root))
			_, val := findField(&root, "assert")
			require.NotNil(t, val)
			line, col, ok := exprPosition([]byte(tc.doc), val, tc.exprLine, tc.col)
			if tc.wantLine == 0 {
				require.False(t, ok)
				return
			}
			require.True(t, ok)
			require.Equal(t, [2]int{tc.wantLine, tc.want}, [2]int{line, col})
		})
	}
}

func TestExitCodeOf(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, exitCodeOf(nil))
	require.Equal(t, 1, exitCodeOf(os.ErrNotExist))
	require.Equal(t, 3, exitCodeOf(&exitError{code: 3, msg: "x"}))
	require.Equal(t, 2, exitCodeOf(fmt.Errorf("wrapped: %w", &exitError{code: 2, msg: "y"})))
}
