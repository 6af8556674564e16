package apigen_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/api/apigen/internal/codegen"
)

// TestGeneratedCodeIsCurrent regenerates the code in memory from api/openapi.yaml and
// config.yaml and fails when the committed apigen.gen.go differs: a change to the
// document must come with `go generate ./api/apigen` in the same commit.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	spec, err := os.ReadFile("../openapi.yaml")
	require.NoError(t, err)
	config, err := os.ReadFile("config.yaml")
	require.NoError(t, err)
	want, err := codegen.Generate(spec, config)
	require.NoError(t, err)
	got, err := os.ReadFile("apigen.gen.go")
	require.NoError(t, err)
	if string(got) != string(want) {
		t.Fatal("api/apigen/apigen.gen.go is stale: run `go generate ./api/apigen` (make generate) and commit the result")
	}
}

// TestPrepareKeepsComponentRefs: references to whole components stay (they are the
// named Go types), references into a schema are inlined, and null leaves enums.
func TestPrepareKeepsComponentRefs(t *testing.T) {
	const doc = `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /x:
    get:
      operationId: getX
      parameters:
        - $ref: "#/components/parameters/Q"
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/B"}
components:
  parameters:
    Q: {name: q, in: query, schema: {type: string}}
  schemas:
    A:
      type: object
      properties:
        name: {type: string, maxLength: 5}
        state: {type: [string, "null"], enum: [on, off, null]}
    B:
      type: object
      properties:
        a: {$ref: "#/components/schemas/A"}
        name: {$ref: "#/components/schemas/A/properties/name"}
`
	code, err := codegen.Generate([]byte(doc), []byte("package: p\ngenerate:\n  models: true\n  echo-server: true\n"))
	require.NoError(t, err)
	s := string(code)
	require.Contains(t, s, "DO NOT EDIT.\n\npackage p\n")
	require.Regexp(t, `A\s+\*A\s+`+"`json:\"a,omitempty\"`", s)
	require.Regexp(t, `Name\s+\*string\s+`+"`json:\"name,omitempty\"`", s)
	require.Regexp(t, `On\s+AState = "on"`, s)
	require.NotContains(t, s, "nil>")
	require.Contains(t, s, "GetX(ctx echo.Context, params GetXParams) error")
	require.NotContains(t, s, "type Q ")
}
