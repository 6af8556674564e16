package aws_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	vaws "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/providers/aws/awstest"
)

// BenchmarkInventory inventories ~2,000 mixed resources over three regions in a
// private moto_server (created before the timer) and reports, per run, the documents
// emitted and the AWS operations per document, split between list and enrichment
// calls. moto answers ~250 requests per CPU-second, so ns/op mostly measures calls.
func BenchmarkInventory(b *testing.B) {
	srv := awstest.NewServer(b)
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	seedBench(b, srv, regions)
	ctx := context.Background()
	var docs, gaps int
	var stats vaws.CallStats
	// The wire-format answers for the calls moto lacks, as in the tests.
	tr := newTransport()
	cfg := srv.Config(b, regions[0])
	cfg.HTTPClient = &http.Client{Transport: tr}
	cfg.APIOptions = append(cfg.APIOptions, tagOperations)
	// Peak heap in use during collection: documents stream to the consumer, so it must
	// not grow with the estate. (The process RSS also holds the seeding's clients.)
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		p, err := vaws.New(ctx, vaws.Config{AWS: cfg, Regions: regions, EndpointURL: srv.URL, AccountID: awstest.AccountID})
		require.NoError(b, err)
		docs, gaps = 0, 0
		results, err := vaws.CollectAll(ctx, p, func(_ context.Context, r providers.Resource) error {
			docs++
			gaps += len(r.Gaps)
			return nil
		})
		require.NoError(b, err)
		for _, r := range results {
			require.NoError(b, r.Err, "unit %s", r.Unit)
		}
		stats = p.Stats()
	}
	b.ReportMetric(float64(docs), "resources/op")
	b.ReportMetric(float64(stats.Total())/float64(docs), "api_calls/resource")
	b.ReportMetric(float64(stats.List)/float64(docs), "list_calls/resource")
	b.ReportMetric(float64(stats.Enrich)/float64(docs), "enrich_calls/resource")
	b.ReportMetric(float64(gaps), "gaps/op")
	close(done)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak_heap_MiB")
}

func seedBench(b *testing.B, srv *awstest.Server, regions []string) {
	ctx := context.Background()
	cfg := srv.Config(b, regions[0])
	ic := iam.NewFromConfig(cfg)
	for i := range 150 {
		_, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user%03d", i))})
		require.NoError(b, err)
	}
	for i := range 60 {
		_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("role%03d", i)), AssumeRolePolicyDocument: aws.String(trustPolicy)})
		require.NoError(b, err)
	}
	for i := range 30 {
		_, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pol%03d", i)), PolicyDocument: aws.String(adminPolicy)})
		require.NoError(b, err)
	}
	for i, region := range regions {
		rc := srv.Config(b, region)
		sc := s3.NewFromConfig(rc, awstest.S3Options)
		for j := range 20 {
			in := &s3.CreateBucketInput{Bucket: aws.String(fmt.Sprintf("bench-%d-%03d", i, j))}
			if region != "us-east-1" {
				in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
			}
			_, err := sc.CreateBucket(ctx, in)
			require.NoError(b, err)
		}
		ec := ec2.NewFromConfig(rc)
		for j := range 120 {
			_, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(fmt.Sprintf("sg%03d", j)), Description: aws.String("bench")})
			require.NoError(b, err)
			_, err = ec.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(1)})
			require.NoError(b, err)
		}
		_, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(50), MaxCount: aws.Int32(50)})
		require.NoError(b, err)
		for j := range 60 {
			name := fmt.Sprintf("r%03d", j)
			_, err := sns.NewFromConfig(rc).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
			require.NoError(b, err)
			_, err = sqs.NewFromConfig(rc).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
			require.NoError(b, err)
			_, err = cloudwatchlogs.NewFromConfig(rc).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/bench/" + name)})
			require.NoError(b, err)
		}
		for j := range 30 {
			_, err := kms.NewFromConfig(rc).CreateKey(ctx, &kms.CreateKeyInput{})
			require.NoError(b, err)
			_, err = dynamodb.NewFromConfig(rc).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(fmt.Sprintf("t%03d", j)), BillingMode: ddbtypes.BillingModePayPerRequest,
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}})
			require.NoError(b, err)
		}
	}
}
