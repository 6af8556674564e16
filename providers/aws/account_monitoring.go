package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/vigilsec/vigil/providers"
)

// Operations of the monitoring chain, named in gaps.
const (
	opDescribeTrails           = "cloudtrail:DescribeTrails"
	opDescribeMetricFilters    = "logs:DescribeMetricFilters"
	opDescribeAlarms           = "cloudwatch:DescribeAlarms"
	opListSubscriptionsByTopic = "sns:ListSubscriptionsByTopic"
)

// accountMonitoring adds what CIS section 4 (log metric filters and alarms) asks of the
// account, so that one document answers "is X monitored":
//
//   - MetricFilters: the metric filters of the log groups that multi-region trails
//     deliver to (CloudWatchLogsLogGroupArn), one paged DescribeMetricFilters per group;
//   - MetricAlarms: the metric alarms on the metrics those filters publish, from one
//     paged DescribeAlarms per region that has such filters;
//   - SnsTopicSubscriptions: the subscriptions of the SNS topics those alarms notify,
//     one paged ListSubscriptionsByTopic per topic.
//
// Each key depends on the previous one: when a call of the chain fails, that key and
// every later one are gaps naming the failed call, never empty lists.
func accountMonitoring(ctx context.Context, s *scope, r *providers.Resource, trails []any, trailsErr error) {
	ctx = context.WithValue(ctx, enrichKey{}, true) // counted as enrichment calls
	failAll := func(keys []string, op string, err error) {
		for _, k := range keys {
			s.gap(r, k, op, err)
		}
	}
	keys := []string{"MetricFilters", "MetricAlarms", "SnsTopicSubscriptions"}
	if trailsErr != nil {
		failAll(keys, opDescribeTrails, trailsErr)
		return
	}
	filters, err := trailMetricFilters(ctx, s, trails)
	if err != nil {
		failAll(keys, opDescribeMetricFilters, err)
		return
	}
	alarms, err := filterAlarms(ctx, s, filters)
	if err != nil {
		failAll(keys[1:], opDescribeAlarms, err)
		s.set(r, "MetricFilters", opDescribeMetricFilters, flattenFilters(filters))
		return
	}
	subs, err := topicSubscriptions(ctx, s, alarms)
	s.set(r, "MetricFilters", opDescribeMetricFilters, flattenFilters(filters))
	s.set(r, "MetricAlarms", opDescribeAlarms, alarms)
	if err != nil {
		s.gap(r, "SnsTopicSubscriptions", opListSubscriptionsByTopic, err)
		return
	}
	s.set(r, "SnsTopicSubscriptions", opListSubscriptionsByTopic, subs)
}

// set stores v under key as a JSON value, or records a gap if it cannot be converted.
func (s *scope) set(r *providers.Resource, key, op string, v any) {
	jv, err := jsonValue(v)
	if err != nil {
		s.gap(r, key, op, err)
		return
	}
	r.Properties[key] = jv
}

// regionFilters are the metric filters found in one region.
type regionFilters struct {
	region  string
	filters []logstypes.MetricFilter
}

// trailMetricFilters reads the metric filters of every distinct log group that a
// multi-region trail delivers to, grouped by the log group's region.
func trailMetricFilters(ctx context.Context, s *scope, trails []any) ([]regionFilters, error) {
	var out []regionFilters
	seen := map[string]bool{}
	for _, t := range trails {
		m, _ := t.(map[string]any)
		arn, _ := m["CloudWatchLogsLogGroupArn"].(string)
		region, group, ok := logGroupFromARN(arn)
		if !ok || seen[region+"|"+group] {
			continue
		}
		seen[region+"|"+group] = true
		c := cloudwatchlogs.NewFromConfig(s.p.regionConfig(region))
		p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(c, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
		var filters []logstypes.MetricFilter
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if isCode(err, "ResourceNotFoundException") {
				break // the trail points at a deleted log group: it has no filters
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", region, group, err)
			}
			filters = append(filters, page.MetricFilters...)
		}
		i := slices.IndexFunc(out, func(rf regionFilters) bool { return rf.region == region })
		if i < 0 {
			out = append(out, regionFilters{region: region})
			i = len(out) - 1
		}
		out[i].filters = append(out[i].filters, filters...)
	}
	return out, nil
}

// logGroupFromARN returns the region and name of a log group ARN
// ("arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/Default:*").
func logGroupFromARN(arn string) (region, group string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "logs" || !strings.HasPrefix(parts[5], "log-group:") {
		return "", "", false
	}
	group = strings.TrimSuffix(strings.TrimPrefix(parts[5], "log-group:"), ":*")
	return parts[3], group, group != "" && parts[3] != ""
}

func flattenFilters(rfs []regionFilters) []logstypes.MetricFilter {
	out := []logstypes.MetricFilter{}
	for _, rf := range rfs {
		out = append(out, rf.filters...)
	}
	return out
}

// filterAlarms returns the metric alarms, in the filters' regions, whose metric is
// published by one of the filters. The alarm state fields (StateValue, StateReason,
// StateReasonData, StateUpdatedTimestamp, StateTransitionedTimestamp) are dropped:
// they change with every evaluation and would make each scan a new version of the
// account document without any configuration change.
func filterAlarms(ctx context.Context, s *scope, rfs []regionFilters) ([]any, error) {
	alarms := []any{}
	for _, rf := range rfs {
		metrics := map[string]bool{}
		for _, f := range rf.filters {
			for _, mt := range f.MetricTransformations {
				metrics[aws.ToString(mt.MetricNamespace)+"|"+aws.ToString(mt.MetricName)] = true
			}
		}
		if len(metrics) == 0 {
			continue
		}
		c := cloudwatch.NewFromConfig(s.p.regionConfig(rf.region), s.p.cloudwatchOptions)
		p := cloudwatch.NewDescribeAlarmsPaginator(c, &cloudwatch.DescribeAlarmsInput{
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}, MaxRecords: aws.Int32(100),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", rf.region, err)
			}
			for _, a := range page.MetricAlarms {
				if !metrics[aws.ToString(a.Namespace)+"|"+aws.ToString(a.MetricName)] {
					continue
				}
				v, err := jsonValue(a)
				if err != nil {
					return nil, err
				}
				m := v.(map[string]any)
				for _, k := range []string{"StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp", "StateTransitionedTimestamp"} {
					delete(m, k)
				}
				alarms = append(alarms, m)
			}
		}
	}
	return alarms, nil
}

// topicSubscriptions lists the subscriptions of every SNS topic that an alarm notifies,
// keyed by topic ARN. Endpoints are not kept: they are e-mail addresses, phone numbers
// and URLs that may carry credentials, and "has a confirmed subscriber" needs only the
// SubscriptionArn ("PendingConfirmation" until confirmed). A deleted topic has none.
func topicSubscriptions(ctx context.Context, s *scope, alarms []any) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range alarms {
		actions, _ := a.(map[string]any)["AlarmActions"].([]any)
		for _, act := range actions {
			topic, _ := act.(string)
			parts := strings.SplitN(topic, ":", 6)
			if len(parts) != 6 || parts[2] != "sns" {
				continue
			}
			if _, done := out[topic]; done {
				continue
			}
			c := sns.NewFromConfig(s.p.regionConfig(parts[3]))
			subs := []any{}
			p := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if isCode(err, "NotFound") {
					break
				}
				if err != nil {
					return nil, fmt.Errorf("%s: %w", topic, err)
				}
				for _, sub := range page.Subscriptions {
					subs = append(subs, map[string]any{
						"SubscriptionArn": aws.ToString(sub.SubscriptionArn),
						"Protocol":        aws.ToString(sub.Protocol),
						"Owner":           aws.ToString(sub.Owner),
						"TopicArn":        aws.ToString(sub.TopicArn),
					})
				}
			}
			out[topic] = subs
		}
	}
	return out, nil
}
