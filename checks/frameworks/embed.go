// Package frameworks holds Vigil's built-in compliance frameworks as YAML files
// (cis-aws-5.0.yaml, aws-fsbp.yaml, ...), embedded in FS. The check engine (package
// checks) parses them and verifies that every control points at existing checks.
package frameworks

import "embed"

// FS holds the built-in framework files at its root.
//
//go:embed *.yaml
var FS embed.FS
