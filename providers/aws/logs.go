package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// CloudWatch resource types.
const (
	TypeLogsLogGroup       = "aws.logs.log_group"
	TypeLogsMetricFilter   = "aws.logs.metric_filter"
	TypeCloudWatchAlarm    = "aws.cloudwatch.alarm"
	metricFilterARNPattern = "metric-filter"
)

// trimLogGroupARN drops the ":*" suffix AWS appends to log group ARNs in some APIs.
func trimLogGroupARN(arn string) string { return strings.TrimSuffix(arn, ":*") }

// logsLogGroupCollector emits log groups (retention, KMS key, class) from the listing.
func logsLogGroupCollector() collector {
	return collector{
		name: "logs_log_groups", service: "logs", types: []string{TypeLogsLogGroup},
		collect: func(ctx context.Context, s *scope) error {
			p := cloudwatchlogs.NewDescribeLogGroupsPaginator(cloudwatchlogs.NewFromConfig(s.cfg), &cloudwatchlogs.DescribeLogGroupsInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "logs:DescribeLogGroups")
				}
				for _, g := range out.LogGroups {
					arn := trimLogGroupARN(aws.ToString(g.Arn))
					if arn == "" {
						arn = s.arn("logs", s.region, "log-group:"+aws.ToString(g.LogGroupName))
					}
					r, err := s.newResource(TypeLogsLogGroup, arn, aws.ToString(g.LogGroupName), s.region, g)
					if err != nil {
						return err
					}
					relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(g.KmsKeyId)), TypeKMSKey)
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// logsMetricFilterCollector emits metric filters. They have no ARN: the native id is
// "arn:<partition>:logs:<region>:<account>:log-group:<group>:metric-filter:<name>".
func logsMetricFilterCollector() collector {
	return collector{
		name: "logs_metric_filters", service: "logs", types: []string{TypeLogsMetricFilter},
		collect: func(ctx context.Context, s *scope) error {
			p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(cloudwatchlogs.NewFromConfig(s.cfg), &cloudwatchlogs.DescribeMetricFiltersInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "logs:DescribeMetricFilters")
				}
				for _, f := range out.MetricFilters {
					group := s.arn("logs", s.region, "log-group:"+aws.ToString(f.LogGroupName))
					r, err := s.newResource(TypeLogsMetricFilter, group+":"+metricFilterARNPattern+":"+aws.ToString(f.FilterName), aws.ToString(f.FilterName), s.region, f)
					if err != nil {
						return err
					}
					relate(r, "log_group", group, TypeLogsLogGroup)
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// cloudwatchAlarmCollector emits metric alarms (composite alarms are not emitted).
func cloudwatchAlarmCollector() collector {
	return collector{
		name: "cloudwatch_alarms", service: "cloudwatch", types: []string{TypeCloudWatchAlarm},
		collect: func(ctx context.Context, s *scope) error {
			p := cloudwatch.NewDescribeAlarmsPaginator(cloudwatch.NewFromConfig(s.cfg, s.p.cloudwatchOptions), &cloudwatch.DescribeAlarmsInput{MaxRecords: aws.Int32(100)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "cloudwatch:DescribeAlarms")
				}
				for _, a := range out.MetricAlarms {
					r, err := s.newResource(TypeCloudWatchAlarm, aws.ToString(a.AlarmArn), aws.ToString(a.AlarmName), s.region, a)
					if err != nil {
						return err
					}
					for _, action := range a.AlarmActions {
						if strings.Contains(action, ":sns:") {
							relate(r, "sns_topic", action, TypeSNSTopic)
						}
					}
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// cloudwatchOptions switches CloudWatch to the AWS query protocol when the endpoint is
// overridden. The SDK speaks Smithy RPC v2 CBOR to CloudWatch by default, which AWS
// serves but emulators (moto, LocalStack) do not; AWS serves the query protocol too.
func (p *Provider) cloudwatchOptions(o *cloudwatch.Options) {
	if p.cfg.BaseEndpoint != nil {
		o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
	}
}
