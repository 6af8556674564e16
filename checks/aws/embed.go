// Package awschecks holds Vigil's built-in AWS checks: one YAML file per check, at
// <service>/<short_name>.yaml, embedded in FS. The check engine (package checks) parses
// and validates them; this package only ships the files and imports nothing else.
package awschecks

import "embed"

// FS holds the built-in AWS check files, as <service>/<short_name>.yaml.
//
//go:embed */*.yaml
var FS embed.FS
