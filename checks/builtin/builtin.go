// Package builtin assembles Vigil's built-in checks (checks/aws, later checks/azure and
// checks/gcp) and compliance frameworks (checks/frameworks) into one registry. The
// files are embedded in the binary; the registry is compiled once per process.
package builtin

import (
	"fmt"
	"io/fs"
	"path"
	"sync"
	"testing/fstest"

	"github.com/vigilsec/vigil/checks"
	awschecks "github.com/vigilsec/vigil/checks/aws"
	"github.com/vigilsec/vigil/checks/frameworks"
)

// FS lays the embedded files out as checks.Load expects: aws/<service>/<name>.yaml and
// frameworks/<id>.yaml.
func FS() (fs.FS, error) {
	out := fstest.MapFS{}
	for prefix, fsys := range map[string]fs.FS{"aws": awschecks.FS, "frameworks": frameworks.FS} {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			out[path.Join(prefix, p)] = &fstest.MapFile{Data: data}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read built-in %s files: %w", prefix, err)
		}
	}
	return out, nil
}

var load = sync.OnceValues(func() (*checks.Registry, error) {
	fsys, err := FS()
	if err != nil {
		return nil, err
	}
	reg, err := checks.Load(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("built-in checks: %w", err)
	}
	return reg, nil
})

// Registry returns the compiled built-in checks and frameworks.
func Registry() (*checks.Registry, error) { return load() }
