package checks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/providers"
)

// syntheticDocs builds n documents shaped like collector output, of the four types the
// testdata checks cover: about one result in six fails (a typical estate), two percent
// of the buckets have a gap.
func syntheticDocs(n int) []checks.Document {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	account := &providers.Resource{Provider: "aws", AccountID: "123456789012", Type: "aws.account", Region: "global",
		Properties: map[string]any{"S3PublicAccessBlock": nil}}
	docs := make([]checks.Document, n)
	for i := range docs {
		r := providers.Resource{Provider: "aws", AccountID: "123456789012", Region: "eu-west-1",
			Name: fmt.Sprintf("r%d", i), Tags: map[string]string{"env": "prod", "team": "core"}}
		var related map[string][]providers.Resource
		switch i % 10 {
		case 0, 1, 2, 3:
			r.Type = "aws.s3.bucket"
			r.NativeID = "arn:aws:s3:::" + r.Name
			r.Properties = map[string]any{
				"Name": r.Name, "CreationDate": "2024-01-01T00:00:00Z",
				"PublicAccessBlock": map[string]any{"BlockPublicAcls": true, "IgnorePublicAcls": i%7 != 0, "BlockPublicPolicy": true, "RestrictPublicBuckets": true},
				"Encryption":        map[string]any{"Rules": []any{map[string]any{"ApplyServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": []string{"AES256", "aws:kms", "aws:kms", "aws:kms"}[i%4]}, "BucketKeyEnabled": true}}},
				"Versioning":        map[string]any{"Status": "Enabled", "MFADelete": "Disabled"},
				"Policy":            nil,
				"Logging":           map[string]any{"TargetBucket": "logs", "TargetPrefix": r.Name + "/"},
			}
			if i%50 == 0 {
				delete(r.Properties, "PublicAccessBlock")
				r.Gaps = []providers.Gap{{Property: "PublicAccessBlock", Operation: "s3:GetPublicAccessBlock", Kind: providers.KindAccessDenied, Message: "denied"}}
			}
		case 4, 5, 6:
			r.Type = "aws.ec2.security_group"
			cidr := "10.0.0.0/8"
			if i%7 == 0 {
				cidr = "0.0.0.0/0"
			}
			r.Properties = map[string]any{
				"GroupId": "sg-" + r.Name, "GroupName": []string{"web", "web", "web", "default"}[i%4], "VpcId": "vpc-1", "Description": "web tier",
				"IpPermissions": []any{
					map[string]any{"IpProtocol": "tcp", "FromPort": 443.0, "ToPort": 443.0, "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}, "Ipv6Ranges": []any{}, "PrefixListIds": []any{}, "UserIdGroupPairs": []any{}},
					map[string]any{"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0, "IpRanges": []any{map[string]any{"CidrIp": cidr}}, "Ipv6Ranges": []any{}, "PrefixListIds": []any{}, "UserIdGroupPairs": []any{}},
				},
				"IpPermissionsEgress": []any{
					map[string]any{"IpProtocol": "-1", "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}, "Ipv6Ranges": []any{}, "PrefixListIds": []any{}, "UserIdGroupPairs": []any{}},
				},
			}
		case 7, 8:
			r.Type = "aws.iam.user"
			r.Region = providers.RegionGlobal
			r.Properties = map[string]any{
				"UserName": r.Name, "Arn": "arn:aws:iam::123456789012:user/" + r.Name,
				"LoginProfile": map[string]any{"CreateDate": "2024-01-01T00:00:00Z"},
				"MFADevices":   []any{map[string]any{"SerialNumber": "arn:aws:iam::123456789012:mfa/" + r.Name}},
				"AccessKeys": []any{
					map[string]any{"AccessKeyId": "AKIA" + r.Name, "Status": "Active", "CreateDate": []string{"2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z", "2025-01-01T00:00:00Z"}[i%4]},
				},
			}
		default:
			r.Type = "aws.rds.db_instance"
			r.Properties = map[string]any{"DBInstanceIdentifier": r.Name, "StorageEncrypted": true, "Engine": "postgres"}
			related = map[string][]providers.Resource{"kms_key": {{Type: "aws.kms.key", Properties: map[string]any{"KeyRotationEnabled": i%4 != 0}}}}
		}
		docs[i] = checks.Document{Resource: r, Account: account, Related: related, Now: now}
	}
	return docs
}

func loadTestdata(tb testing.TB) *checks.Registry {
	tb.Helper()
	reg, err := checks.Load(os.DirFS("testdata/checks"), ".")
	require.NoError(tb, err)
	return reg
}

// BenchmarkEvaluate evaluates the testdata checks over 100,000 synthetic documents per
// iteration and reports check evaluations per second (run with -cpu 1 for the per-core
// figure).
func BenchmarkEvaluate(b *testing.B) {
	benchmarkRegistry(b, loadTestdata(b), syntheticDocs(100_000))
}

// BenchmarkCheck evaluates each testdata check alone over documents of its type, to
// find the expensive ones.
func BenchmarkCheck(b *testing.B) {
	reg := loadTestdata(b)
	docs := syntheticDocs(1000)
	ctx := context.Background()
	for _, c := range reg.Checks() {
		var mine []checks.Document
		for _, d := range docs {
			if d.Resource.Type == c.Resource {
				mine = append(mine, d)
			}
		}
		b.Run(c.ID, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Evaluate(ctx, mine[i%len(mine)])
				i++
			}
		})
	}
}

// cpuTime is the CPU time the process has used (user + system, every thread: the
// garbage collector's work counts). On a shared machine it is a steadier measure of
// the work than the wall clock, which also counts the time spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goldenDir holds the documents the AWS collectors emit against moto_server, one file
// per resource type (providers/aws golden tests keep them current).
const goldenDir = "../providers/aws/testdata/golden"

// goldenResources reads the golden documents, with the "<time>" placeholders of the
// files replaced by a time.
func goldenResources(tb testing.TB) []providers.Resource {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	require.NoError(tb, err)
	require.NotEmpty(tb, files, "no golden documents in %s", goldenDir)
	var out []providers.Resource
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(tb, err)
		var list []providers.Resource
		require.NoError(tb, json.Unmarshal(data, &list), f)
		for _, r := range list {
			r.Properties = unscrub(r.Properties).(map[string]any)
			out = append(out, r)
		}
	}
	return out
}

func unscrub(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = unscrub(e)
		}
	case []any:
		for i, e := range x {
			x[i] = unscrub(e)
		}
	case string:
		if x == "<time>" {
			return "2026-11-01T00:00:00Z"
		}
	}
	return v
}

// merge returns base with over laid on it: maps merge key by key, any other value of
// over replaces base's. Neither argument is modified.
func merge(base, over any) any {
	bm, bok := base.(map[string]any)
	om, ook := over.(map[string]any)
	if !bok || !ook {
		return over
	}
	out := make(map[string]any, len(bm)+len(om))
	maps.Copy(out, bm)
	for k, v := range om {
		out[k] = merge(bm[k], v)
	}
	return out
}

// builtinDocs builds n documents for the built-in checks: the golden estate (the
// documents the collectors emit, in its proportions of types: one account document per
// hundred resources), repeated, each copy of a document carrying the resource of one
// fixture of its type laid over it, so that every check meets its passing and failing
// cases on otherwise complete documents. One copy in fifty takes an "unknown" fixture
// instead, whose gaps reach the checks that read the missing property (collection gaps
// are that rare with a working role). The variants are built once and shared by the
// copies.
func builtinDocs(tb testing.TB, reg *checks.Registry, n int) []checks.Document {
	tb.Helper()
	golden := goldenResources(tb)
	var account *providers.Resource
	for i := range golden {
		if golden[i].Type == "aws.account" {
			account = &golden[i]
		}
	}
	require.NotNil(tb, account)
	type overlay struct {
		doc  checks.Document
		gaps bool
	}
	overlays := map[string][]overlay{}
	for _, c := range reg.Checks() {
		for i := range c.Tests {
			doc, err := checks.FixtureDoc(c, i)
			require.NoError(tb, err)
			gaps := len(doc.Resource.Gaps) > 0 || doc.Account != nil && len(doc.Account.Gaps) > 0
			overlays[c.Resource] = append(overlays[c.Resource], overlay{doc, gaps})
		}
	}
	complete := make([][]checks.Document, len(golden))
	withGaps := make([][]checks.Document, len(golden))
	for i, g := range golden {
		for _, o := range overlays[g.Type] {
			r := g
			r.Properties = merge(g.Properties, o.doc.Resource.Properties).(map[string]any)
			r.Gaps = o.doc.Resource.Gaps
			doc := checks.Document{Resource: r, Account: account, Related: o.doc.Related, Now: o.doc.Now}
			if g.Type == "aws.account" {
				doc.Account = &doc.Resource
			}
			if o.gaps {
				withGaps[i] = append(withGaps[i], doc)
			} else {
				complete[i] = append(complete[i], doc)
			}
		}
	}
	docs := make([]checks.Document, 0, n)
	for round := 0; len(docs) < n; round++ {
		for i := range golden {
			if len(docs) == n {
				break
			}
			switch {
			case round%50 == 49 && len(withGaps[i]) > 0:
				docs = append(docs, withGaps[i][(round/50)%len(withGaps[i])])
			case len(complete[i]) > 0:
				docs = append(docs, complete[i][round%len(complete[i])])
			default:
				docs = append(docs, checks.Document{Resource: golden[i], Account: account, Now: fixtureClock})
			}
		}
	}
	return docs
}

// fixtureClock is the evaluation clock of fixtures that set none.
var fixtureClock = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// benchmarkRegistry evaluates every applicable check of reg over docs per iteration and
// reports evaluations (check x document pairs of the check's type) per second of wall
// clock and per second of CPU time, and the share of results that are not pass.
func benchmarkRegistry(b *testing.B, reg *checks.Registry, docs []checks.Document) {
	evals := 0
	for _, d := range docs {
		evals += len(reg.ForType(d.Resource.Type))
	}
	ctx := context.Background()
	var results []checks.Result
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		for i := range docs {
			results = reg.EvaluateAppend(ctx, docs[i], results[:0])
		}
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(evals)*float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	if cpu > 0 {
		b.ReportMetric(float64(evals)*float64(b.N)/cpu.Seconds(), "evals/cpu-s")
	}
	counts := map[checks.Status]int{}
	for i := range docs[:min(len(docs), 10_000)] {
		for _, res := range reg.Evaluate(ctx, docs[i]) {
			counts[res.Status]++
		}
	}
	total := counts[checks.StatusPass] + counts[checks.StatusFail] + counts[checks.StatusUnknown]
	b.ReportMetric(float64(counts[checks.StatusFail])/float64(total), "fail-ratio")
	b.ReportMetric(float64(counts[checks.StatusUnknown])/float64(total), "unknown-ratio")
	b.ReportMetric(float64(evals)/float64(len(docs)), "checks/doc")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEvaluateBuiltin evaluates the built-in checks over 100,000 documents built
// from the golden estate and the checks' fixtures (see builtinDocs).
func BenchmarkEvaluateBuiltin(b *testing.B) {
	reg, err := builtin.Registry()
	require.NoError(b, err)
	benchmarkRegistry(b, reg, builtinDocs(b, reg, 100_000))
}
