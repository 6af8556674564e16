// Command gen builds checks/iampolicy/catalog.json, the catalog of AWS IAM actions, from
// the AWS SDK for Go v2 service modules that go.mod requires, plus a reviewed override
// file. Run it through `go generate ./checks/iampolicy` (or `make generate`):
//
//	go run ./checks/iampolicy/gen -gomod go.mod \
//	    -overrides checks/iampolicy/gen/overrides.json -out checks/iampolicy/catalog.json
//
// For each module it reads the operation names (api_op_*.go), the SigV4 signing name
// (the IAM service prefix, unless overridden) and applies the overrides: renamed
// operations (s3 ListObjectsV2 -> s3:ListBucket), actions that are no API operation
// (iam:PassRole), excluded modules, and access-level corrections. The access level
// otherwise comes from the operation's verb (see levelOf).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	gomod := flag.String("gomod", "go.mod", "the repository's go.mod")
	overrides := flag.String("overrides", "checks/iampolicy/gen/overrides.json", "reviewed override file")
	out := flag.String("out", "checks/iampolicy/catalog.json", "output file")
	flag.Parse()
	b, err := generate(*gomod, *overrides)
	if err != nil {
		fmt.Fprintln(os.Stderr, "iam catalog:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "iam catalog:", err)
		os.Exit(1)
	}
}
