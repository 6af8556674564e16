package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/vigilsec/vigil/providers"
)

// TypeCloudTrailTrail is a CloudTrail trail, emitted in its home region only.
const TypeCloudTrailTrail = "aws.cloudtrail.trail"

// cloudtrailTrailCollector emits the trails whose home region is the unit's region
// (shadow copies of multi-region trails are skipped, so each trail appears once) with
// their status, event selectors and insight selectors.
func cloudtrailTrailCollector() collector {
	return collector{name: "cloudtrail_trails", service: "cloudtrail", types: []string{TypeCloudTrailTrail}, collect: collectTrails}
}

func collectTrails(ctx context.Context, s *scope) error {
	c := cloudtrail.NewFromConfig(s.cfg)
	out, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
	if err != nil {
		return s.fail(err, "cloudtrail:DescribeTrails")
	}
	for _, t := range out.TrailList {
		if aws.ToString(t.HomeRegion) != "" && aws.ToString(t.HomeRegion) != s.region {
			continue
		}
		r, err := trail(ctx, s, c, t)
		if err != nil {
			return err
		}
		if err := s.emit(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func trail(ctx context.Context, s *scope, c *cloudtrail.Client, t cttypes.Trail) (*providers.Resource, error) {
	r, err := s.newResource(TypeCloudTrailTrail, aws.ToString(t.TrailARN), aws.ToString(t.Name), s.region, t)
	if err != nil {
		return nil, err
	}
	relate(r, "s3_bucket", bucketARN(s, aws.ToString(t.S3BucketName)), TypeS3Bucket)
	relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(t.KmsKeyId)), TypeKMSKey)
	if arn := aws.ToString(t.CloudWatchLogsLogGroupArn); arn != "" {
		relate(r, "log_group", trimLogGroupARN(arn), TypeLogsLogGroup)
	}
	relate(r, "sns_topic", aws.ToString(t.SnsTopicARN), TypeSNSTopic)
	s.enrich(ctx, r, "Status", "cloudtrail:GetTrailStatus", nil, func(ctx context.Context) (any, error) {
		out, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: t.TrailARN})
		if err != nil {
			return nil, err
		}
		return out, nil
	})
	s.enrich(ctx, r, "EventSelectors", "cloudtrail:GetEventSelectors", nil, func(ctx context.Context) (any, error) {
		out, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: t.TrailARN})
		if err != nil {
			return nil, err
		}
		return map[string]any{"EventSelectors": nonNil(out.EventSelectors), "AdvancedEventSelectors": nonNil(out.AdvancedEventSelectors)}, nil
	})
	s.enrich(ctx, r, "InsightSelectors", "cloudtrail:GetInsightSelectors", []string{"InsightNotEnabledException"}, func(ctx context.Context) (any, error) {
		out, err := c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: t.TrailARN})
		if err != nil {
			return nil, err
		}
		return nonNil(out.InsightSelectors), nil
	})
	return r, nil
}

// bucketARN is the ARN of bucket name, or "".
func bucketARN(s *scope, name string) string {
	if name == "" {
		return ""
	}
	return "arn:" + s.p.partition + ":s3:::" + name
}
