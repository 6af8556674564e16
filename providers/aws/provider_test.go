package aws_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	vaws "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/providers/aws/awstest"
)

func TestPlan(t *testing.T) {
	srv := seededServer(t)
	ctx := context.Background()

	t.Run("every collector once per region, global ones once", func(t *testing.T) {
		p, _ := newProvider(t, srv, nil)
		units, err := p.Plan(ctx)
		require.NoError(t, err)
		count := map[string]int{}
		for _, u := range units {
			count[u.Collector]++
			require.NotEmpty(t, u.Types)
			require.NotEmpty(t, u.Service)
		}
		require.Equal(t, 1, count["s3_buckets"])
		require.Equal(t, 1, count["iam"])
		require.Equal(t, 2, count["ec2_instances"])
	})

	t.Run("types filter units and documents", func(t *testing.T) {
		p, _ := newProvider(t, srv, func(c *vaws.Config) { c.Types = []string{"aws.iam.role", "aws.kms.key"} })
		units, err := p.Plan(ctx)
		require.NoError(t, err)
		require.Len(t, units, 3) // iam@global + kms in two regions
		docs, results := collect(t, p)
		for _, r := range results {
			require.NoError(t, r.Err)
		}
		for _, d := range docs {
			require.Contains(t, []string{"aws.iam.role", "aws.kms.key"}, d.Type)
		}
		require.Len(t, byType(docs)["aws.kms.key"], 2)
		require.Len(t, byType(docs)["aws.iam.role"], 1)
	})

	t.Run("unknown type is refused", func(t *testing.T) {
		_, err := vaws.New(ctx, vaws.Config{AWS: srv.Config(t, regionA), Types: []string{"aws.nope.thing"}})
		require.ErrorContains(t, err, "aws.nope.thing")
	})

	t.Run("account and regions are discovered", func(t *testing.T) {
		p, err := vaws.New(ctx, vaws.Config{AWS: srv.Config(t, regionA), EndpointURL: srv.URL})
		require.NoError(t, err)
		require.Equal(t, awstest.AccountID, p.AccountID())
		require.Contains(t, p.Regions(), regionA)
		require.Contains(t, p.Regions(), "ap-southeast-2")
	})
}

func TestCollectAllRecordsFailedUnits(t *testing.T) {
	srv := seededServer(t)
	p, tr := newProvider(t, srv, nil)
	tr.set("S3:ListBuckets", rule{status: 403, code: "AccessDenied"})
	tr.set("EC2:DescribeVolumes", rule{status: 503, code: "RequestLimitExceeded"})
	docs, results := collect(t, p)
	failed := map[string]providers.ErrorKind{}
	for _, r := range results {
		if r.Err != nil {
			failed[r.Unit.String()] = r.Kind()
		}
	}
	require.Equal(t, map[string]providers.ErrorKind{
		"s3_buckets@global":     providers.KindAccessDenied,
		"ec2_volumes@us-east-1": providers.KindThrottled,
		"ec2_volumes@eu-west-1": providers.KindThrottled,
	}, failed)
	require.Empty(t, byType(docs)[vaws.TypeS3Bucket])
	require.NotEmpty(t, byType(docs)[vaws.TypeIAMUser], "other units still ran")
	stats := p.Stats()
	require.Positive(t, stats.List)
	require.Positive(t, stats.Enrich)
}

func TestLoadConfig(t *testing.T) {
	srv := seededServer(t)
	ctx := context.Background()
	// A custom *http.Client cannot load a CA bundle: the test clients talk plain HTTP.
	t.Setenv("AWS_CA_BUNDLE", "")

	t.Run("static keys and endpoint", func(t *testing.T) {
		cfg, err := vaws.LoadConfig(ctx, vaws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", EndpointURL: srv.URL})
		require.NoError(t, err)
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		require.Equal(t, awstest.AccountID, aws.ToString(out.Account))
		require.Equal(t, "us-east-1", cfg.Region)
	})

	t.Run("assume role with external id", func(t *testing.T) {
		var mu sync.Mutex
		var bodies []string
		client := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.Body != nil {
				b, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(strings.NewReader(string(b)))
				mu.Lock()
				bodies = append(bodies, string(b))
				mu.Unlock()
			}
			return http.DefaultTransport.RoundTrip(req)
		})}
		cfg, err := vaws.LoadConfig(ctx, vaws.Credentials{
			AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", EndpointURL: srv.URL, HTTPClient: client,
			RoleARN: "arn:aws:iam::" + awstest.AccountID + ":role/vigil-audit", ExternalID: "tenant-42",
		})
		require.NoError(t, err)
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		require.Contains(t, aws.ToString(out.Arn), "assumed-role/vigil-audit/vigil")
		mu.Lock()
		defer mu.Unlock()
		require.Contains(t, strings.Join(bodies, "\n"), "ExternalId=tenant-42")
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPaginationDrained creates more items than one page of each paged listing holds
// (IAM authorization details 100, log groups 50, SNS topics 100, DynamoDB tables 100;
// moto returns every KMS key in one page, so ListKeys paging is not exercised here) and checks that every item is collected over several pages.
func TestPaginationDrained(t *testing.T) {
	srv := awstest.NewServer(t)
	ctx := context.Background()
	cfg := srv.Config(t, regionA)
	const n = 130
	for i := range n {
		name := fmt.Sprintf("p%03d", i)
		_, err := iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		require.NoError(t, err)
		_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/p/" + name)})
		require.NoError(t, err)
		_, err = sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		require.NoError(t, err)
		_, err = dynamodb.NewFromConfig(cfg).CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}})
		require.NoError(t, err)
	}
	types := map[string]string{
		vaws.TypeIAMUser:       "IAM:GetAccountAuthorizationDetails",
		vaws.TypeLogsLogGroup:  "CloudWatch Logs:DescribeLogGroups",
		vaws.TypeSNSTopic:      "SNS:ListTopics",
		vaws.TypeDynamoDBTable: "DynamoDB:ListTables",
	}
	for typ, op := range types {
		t.Run(typ, func(t *testing.T) {
			p, tr := newProvider(t, srv, func(c *vaws.Config) {
				c.Regions = []string{regionA}
				c.Types = []string{typ}
			})
			docs, results := collect(t, p)
			for _, r := range results {
				require.NoError(t, r.Err)
			}
			require.Len(t, docs, n)
			pages := 0
			for _, c := range tr.takeCalls() {
				if c == op {
					pages++
				}
			}
			require.GreaterOrEqual(t, pages, 2, "%s was not paged: the test does not exercise pagination", op)
		})
	}
}
