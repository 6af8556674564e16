package iamgraph

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigilsec/vigil/providers"
)

// benchEstate builds n principals (four users for one role) with 20 inline policies
// each, of the shapes real estates mix: bucket-scoped S3, region-conditioned EC2,
// PassRole plus Lambda on name prefixes, denies next to broad service grants,
// tag-conditioned KMS; one principal in ten also holds a NotAction grant (a
// PowerUser-like policy), the most expensive shape to summarise.
func benchEstate(b testing.TB, n int) []providers.Resource {
	res := make([]providers.Resource, 0, n)
	for i := 0; i < n; i++ {
		var policies []string
		for j := 0; j < 20; j++ {
			var d string
			switch j % 5 {
			case 0:
				d = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::bucket-%d-%d","arn:aws:s3:::bucket-%d-%d/*"]}]}`, i, j, i, j)
			case 1:
				d = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","ec2:RunInstances","ec2:TerminateInstances"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}`
			case 2:
				d = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::%s:role/app-%d-*"},{"Effect":"Allow","Action":["lambda:*"],"Resource":"arn:aws:lambda:*:%s:function:app-%d-*"}]}`, acct, i, acct, i)
			case 3:
				d = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:Stop*","cloudtrail:Delete*","guardduty:Delete*"],"Resource":"*"},{"Effect":"Allow","Action":["logs:*","cloudwatch:*"],"Resource":"*"}]}`
			default:
				d = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt","secretsmanager:GetSecretValue"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}]}`, i%7)
			}
			if j == 19 && i%10 == 0 {
				d = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`
			}
			policies = append(policies, d)
		}
		name := fmt.Sprintf("p%05d", i)
		if i%5 == 4 {
			res = append(res, role(b, name, trustService("lambda.amazonaws.com"), inline(b, "RolePolicyList", policies...)))
		} else {
			u := user(b, name, inline(b, "UserPolicyList", policies...))
			u.Tags = map[string]string{"team": fmt.Sprintf("t%d", i%7)}
			res = append(res, u)
		}
	}
	return res
}

// BenchmarkBuild measures building the graph of 5,000 principals x 20 policies.
func BenchmarkBuild(b *testing.B) {
	res := benchEstate(b, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if _, err := Build(res, BuildConfig{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEffectiveSummary computes the effective-permission summary of every one of
// 5,000 principals with 20 policies each (one iteration = the whole estate).
func BenchmarkEffectiveSummary(b *testing.B) {
	g, err := Build(benchEstate(b, 5000), BuildConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	actions := 0
	for n := 0; n < b.N; n++ {
		for _, p := range g.Principals {
			for _, levels := range g.EffectiveSummary(p) {
				for _, c := range levels {
					actions += c
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(g.Principals)), "µs/principal")
	b.ReportMetric(float64(actions)/float64(b.N*len(g.Principals)), "actions/principal")
	if actions == 0 {
		b.Fatal("no action allowed: the benchmark measures nothing")
	}
}

// BenchmarkAnalyze runs every analyzer over estates of 1,000 and 5,000 principals
// (admin probes, 78 escalation methods, pairwise edges, chains, trust, unused access),
// building a fresh graph each time (decisions are memoised per graph).
func BenchmarkAnalyze(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("principals=%d", n), func(b *testing.B) {
			res := benchEstate(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				g, err := Build(res, BuildConfig{})
				if err != nil {
					b.Fatal(err)
				}
				fs, err := Analyze(context.Background(), g, Config{})
				if err != nil {
					b.Fatal(err)
				}
				if len(fs) == 0 {
					b.Fatal("no findings")
				}
			}
		})
	}
}
