package awstest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestServer(t *testing.T) {
	srv := awstest.Start(t)
	require.Same(t, srv, awstest.Start(t), "one server per test binary")
	ctx := context.Background()
	cfg := srv.Config(t, "us-east-1")

	t.Run("sts answers with moto's account", func(t *testing.T) {
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		require.Equal(t, awstest.AccountID, aws.ToString(out.Account))
	})

	t.Run("s3 path style and reset", func(t *testing.T) {
		client := s3.NewFromConfig(cfg, awstest.S3Options)
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("awstest-reset")})
		require.NoError(t, err)
		out, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
		require.NoError(t, err)
		require.Len(t, out.Buckets, 1)

		srv.Reset(t)
		out, err = client.ListBuckets(ctx, &s3.ListBucketsInput{})
		require.NoError(t, err)
		require.Empty(t, out.Buckets)
	})

	t.Run("s3control without account host prefix", func(t *testing.T) {
		client := s3control.NewFromConfig(cfg, awstest.S3ControlOptions)
		_, err := client.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{
			AccountId: aws.String(awstest.AccountID),
			PublicAccessBlockConfiguration: &s3controltypes.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(true),
			},
		})
		require.NoError(t, err)
		out, err := client.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(awstest.AccountID)})
		require.NoError(t, err)
		require.True(t, aws.ToBool(out.PublicAccessBlockConfiguration.BlockPublicAcls))
	})
}

func TestNewServerIsPrivate(t *testing.T) {
	srv := awstest.NewServer(t)
	require.NotEqual(t, awstest.Start(t).URL, srv.URL)
}
