package awschecks_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	awschecks "github.com/vigilsec/vigil/checks/aws"
	"github.com/vigilsec/vigil/checks/frameworks"
	"github.com/vigilsec/vigil/providers"
)

// builtinFS lays the embedded check and framework files out the way checks.Load
// expects them: aws/<service>/<name>.yaml and frameworks/<id>.yaml.
func builtinFS(t *testing.T) fs.FS {
	t.Helper()
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
		require.NoError(t, err)
	}
	return out
}

func loadBuiltins(t *testing.T) *checks.Registry {
	t.Helper()
	reg, err := checks.Load(builtinFS(t), ".")
	require.NoError(t, err)
	return reg
}

// fixtureClock is the engine's default fixture clock (checks.Fixture.Now when unset).
var fixtureClock = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// toResource builds the document of a fixture the way the engine does, so that the
// reason of unknown results can be inspected.
func toResource(t *testing.T, d checks.FixtureDocument, typ string) providers.Resource {
	t.Helper()
	r := providers.Resource{Provider: "aws", AccountID: "123456789012", NativeID: d.NativeID, Type: typ,
		Region: d.Region, Name: d.Name, Tags: d.Tags, Properties: map[string]any{}}
	if d.Type != "" {
		r.Type = d.Type
	}
	b, err := json.Marshal(d.Properties)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &r.Properties))
	if r.Properties == nil {
		r.Properties = map[string]any{}
	}
	for _, g := range d.Gaps {
		r.Gaps = append(r.Gaps, providers.Gap(g))
	}
	return r
}

func TestBuiltinChecks(t *testing.T) {
	t.Parallel()
	reg := loadBuiltins(t)
	ctx := context.Background()

	for _, c := range reg.Checks() {
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			// The file is named after the id: aws/<service>/<short>.yaml holds aws.<service>.<short>.
			_, rest, _ := strings.Cut(c.ID, ".")
			svc, short, _ := strings.Cut(rest, ".")
			require.Equal(t, path.Join("aws", svc, short+".yaml"), c.Source)
			require.True(t, strings.HasPrefix(c.Resource, "aws."), "resource type %q", c.Resource)
			require.NotEmpty(t, c.Description)
			require.NotEmpty(t, c.Risk)
			require.NotEmpty(t, c.Remediation.Text)
			require.NotEmpty(t, c.References, "references")

			for _, f := range c.RunFixtures(ctx) {
				t.Errorf("%s", f.String())
			}
			// An unknown fixture must be unknown because of its gaps, not because the
			// expression failed: an evaluation error is also reported as unknown and
			// would hide a broken check.
			for _, f := range c.Tests {
				if f.Expect != checks.StatusUnknown {
					continue
				}
				require.NotEmpty(t, f.Resource.Gaps, "unknown fixture %q has no gaps", f.Name)
				doc := checks.Document{Resource: toResource(t, f.Resource, c.Resource), Now: fixtureClock}
				if f.Now != nil {
					doc.Now = *f.Now
				}
				if f.Account != nil {
					acc := toResource(t, *f.Account, "aws.account")
					doc.Account = &acc
				}
				for _, rel := range f.Related {
					if doc.Related == nil {
						doc.Related = map[string][]providers.Resource{}
					}
					doc.Related[rel.Kind] = append(doc.Related[rel.Kind], toResource(t, rel.Resource, ""))
				}
				got := c.Evaluate(ctx, doc)
				require.Equal(t, checks.StatusUnknown, got.Status, "fixture %q", f.Name)
				require.Contains(t, got.Reason, "not collected", "fixture %q: unknown for another reason than its gaps", f.Name)
			}
		})
	}
}

func TestBuiltinCount(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(loadBuiltins(t).Checks()), 200, "built-in AWS checks")
}

func TestBuiltinFrameworks(t *testing.T) {
	t.Parallel()
	reg := loadBuiltins(t)
	byID := map[string]*checks.Framework{}
	for _, fw := range reg.Frameworks() {
		byID[fw.ID] = fw
	}

	cis := byID["cis-aws-5.0"]
	require.NotNil(t, cis)
	require.Len(t, cis.Controls, 63, "CIS AWS Foundations v5.0.0 has 63 recommendations")
	automated := 0
	for _, ctl := range cis.Controls {
		require.NotEmpty(t, ctl.Section, ctl.ID)
		require.Contains(t, []int{1, 2}, ctl.Level, ctl.ID)
		if !ctl.Manual {
			automated++
			require.NotEmpty(t, ctl.Checks, ctl.ID)
		}
	}
	require.Equal(t, 35, automated, "automated CIS recommendations")

	fsbp := byID["aws-fsbp"]
	require.NotNil(t, fsbp)
	// Every mapping of a check to a framework is mirrored by the framework's control, so
	// that reports built from either side agree.
	for _, c := range reg.Checks() {
		for fwID, ids := range c.Compliance {
			fw := byID[fwID]
			require.NotNil(t, fw, "%s maps to unknown framework %s", c.ID, fwID)
			for _, id := range ids {
				ctl := fw.Control(id)
				require.NotNil(t, ctl, "%s: %s has no control %s", c.ID, fwID, id)
				require.Contains(t, ctl.Checks, c.ID, "%s control %s does not list %s", fwID, id, c.ID)
			}
		}
	}
	for _, fw := range reg.Frameworks() {
		for _, ctl := range fw.Controls {
			for _, id := range ctl.Checks {
				c, ok := reg.Check(id)
				require.True(t, ok, "%s %s: unknown check %s", fw.ID, ctl.ID, id)
				require.Contains(t, c.Compliance[fw.ID], ctl.ID, "%s lists %s under %s but the check does not map to it", fw.ID, id, ctl.ID)
			}
		}
	}
}
