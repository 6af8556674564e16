package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/store"
)

func TestCursor(t *testing.T) {
	t.Parallel()
	c := store.Cursor{Sort: "-severity", Value: "4", ID: uuid.New()}
	got, err := store.DecodeCursor(c.Encode(), "-severity")
	require.NoError(t, err)
	require.Equal(t, c, *got)
	none, err := store.DecodeCursor("", "-severity")
	require.NoError(t, err)
	require.Nil(t, none)
	for _, bad := range []struct{ cursor, sort string }{
		{c.Encode(), "severity"}, // another sort
		{"!!!", "-severity"},
		{"bm90IGpzb24", "-severity"}, // "not json"
		{store.Cursor{Sort: "-severity", Value: "4"}.Encode(), "-severity"}, // no id
		{strings.Repeat("A", 2000), "-severity"},
	} {
		_, err := store.DecodeCursor(bad.cursor, bad.sort)
		require.ErrorIs(t, err, store.ErrBadCursor, bad.cursor)
	}
}

const ownerCheck = `id: custom.aws.s3.owner_tag
title: S3 bucket names its owner
severity: medium
resource: aws.s3.bucket
description: d
risk: r
remediation:
  text: t
assert: "'owner' in resource.tags"
message: "'no owner'"
`

func TestCustomCheckParse(t *testing.T) {
	t.Parallel()
	co, err := checks.NewCompiler(checks.CompilerConfig{})
	require.NoError(t, err)
	ctx := context.Background()

	c, ps := store.CustomCheckParse(ctx, co, []byte(ownerCheck))
	require.Empty(t, ps)
	require.Equal(t, "aws.s3.owner_tag", c.ID, "the engine id is the part after the prefix")

	tests := []struct {
		name, src string
		field     string
		line      int
		contains  string
	}{
		{"no prefix", strings.Replace(ownerCheck, "custom.aws", "aws", 1), "id", 1, `must start with "custom."`},
		{"quoted id keeps its line", "\n" + strings.Replace(ownerCheck, "id: custom.aws.s3.owner_tag", `id: "custom.aws.s3.Bad"`, 1), "id", 2, "custom.<cloud>"},
		{"cloud mismatch", strings.Replace(ownerCheck, "custom.aws.s3", "custom.gcp.s3", 1), "id", 1, "differs"},
		{"no id", strings.Replace(ownerCheck, "id: custom.aws.s3.owner_tag\n", "", 1), "id", 0, "required"},
		{"type error on its line", strings.Replace(ownerCheck, `assert: "'owner' in resource.tags"`, `assert: "1 + 1"`, 1), "assert", 9, "want bool"},
		{"not yaml", "id: [", "", 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps := store.CustomCheckParse(ctx, co, []byte(tt.src))
			require.Nil(t, c)
			require.NotEmpty(t, ps)
			require.Equal(t, tt.field, ps[0].Field, "%+v", ps)
			require.Equal(t, tt.line, ps[0].Line, "%+v", ps)
			require.Contains(t, ps[0].Message, tt.contains)
		})
	}
}
