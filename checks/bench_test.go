package checks_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
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
	reg := loadTestdata(b)
	docs := syntheticDocs(100_000)
	evals := 0
	for _, d := range docs {
		evals += len(reg.ForType(d.Resource.Type))
	}
	ctx := context.Background()
	var results []checks.Result
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range docs {
			results = reg.EvaluateAppend(ctx, docs[i], results[:0])
		}
	}
	b.ReportMetric(float64(evals)*float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	fails := 0
	for i := range docs[:10_000] {
		for _, res := range reg.Evaluate(ctx, docs[i]) {
			if res.Status != checks.StatusPass {
				fails++
			}
		}
	}
	b.ReportMetric(float64(fails)/float64(evals/10), "non-pass-ratio")
	b.ReportMetric(0, "ns/op")
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
