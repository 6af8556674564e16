// Command gen writes api/apigen/apigen.gen.go from api/openapi.yaml and
// api/apigen/config.yaml. Run it with `go generate ./api/apigen` (or `make generate`).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vigilsec/vigil/api/apigen/internal/codegen"
)

func main() {
	spec := flag.String("spec", "../openapi.yaml", "the OpenAPI document")
	config := flag.String("config", "config.yaml", "the oapi-codegen configuration")
	out := flag.String("out", "apigen.gen.go", "the Go file to write")
	flag.Parse()
	if err := run(*spec, *config, *out); err != nil {
		fmt.Fprintln(os.Stderr, "apigen:", err)
		os.Exit(1)
	}
}

func run(specPath, configPath, outPath string) error {
	spec, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	config, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	code, err := codegen.Generate(spec, config)
	if err != nil {
		return err
	}
	return os.WriteFile(outPath, code, 0o644)
}
