package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Messaging resource types.
const (
	TypeSNSTopic = "aws.sns.topic"
	TypeSQSQueue = "aws.sqs.queue"
)

// policyAttributes are the attributes of SNS topics and SQS queues that hold JSON
// documents; they are stored parsed.
var policyAttributes = []string{"Policy", "DeliveryPolicy", "EffectiveDeliveryPolicy", "RedrivePolicy", "RedriveAllowPolicy"}

// parsedAttributes returns attrs as a document map with the JSON attributes parsed.
func parsedAttributes(attrs map[string]string) map[string]any {
	m := make(map[string]any, len(attrs))
	for k, v := range attrs {
		m[k] = v
	}
	for _, k := range policyAttributes {
		if v, ok := attrs[k]; ok {
			m[k] = parsePolicy(v)
		}
	}
	return m
}

// snsTopicCollector emits topics with their attributes (policy, KmsMasterKeyId, ...)
// and tags.
func snsTopicCollector() collector {
	return collector{
		name: "sns_topics", service: "sns", types: []string{TypeSNSTopic},
		collect: func(ctx context.Context, s *scope) error {
			c := sns.NewFromConfig(s.cfg)
			p := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{})
			w := s.workers(ctx)
			defer func() { _ = w.Wait() }() // no goroutine outlives the unit
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					_ = w.Wait()
					return s.fail(err, "sns:ListTopics")
				}
				for _, t := range out.Topics {
					w.Go(func(ctx context.Context) error {
						arn := aws.ToString(t.TopicArn)
						r, err := s.newResource(TypeSNSTopic, arn, arn[strings.LastIndex(arn, ":")+1:], s.region, t)
						if err != nil {
							return err
						}
						s.enrich(ctx, r, "Attributes", "sns:GetTopicAttributes", nil, func(ctx context.Context) (any, error) {
							out, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: t.TopicArn})
							if err != nil {
								return nil, err
							}
							relate(r, "kms_key", s.kmsKeyARN(s.region, out.Attributes["KmsMasterKeyId"]), TypeKMSKey)
							return parsedAttributes(out.Attributes), nil
						})
						s.enrich(ctx, r, "Tags", "sns:ListTagsForResource", nil, func(ctx context.Context) (any, error) {
							out, err := c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: t.TopicArn})
							if err != nil {
								return nil, err
							}
							r.Tags = tagMap(out.Tags, func(t snstypes.Tag) (*string, *string) { return t.Key, t.Value })
							return nonNil(out.Tags), nil
						})
						return s.emit(ctx, r)
					})
				}
			}
			return w.Wait()
		},
	}
}

// sqsQueueCollector emits queues with all their attributes (policy, encryption,
// redrive) and tags. The native id is the QueueArn attribute, or the documented
// "arn:<partition>:sqs:<region>:<account>:<name>" when attributes are unreadable.
func sqsQueueCollector() collector {
	return collector{
		name: "sqs_queues", service: "sqs", types: []string{TypeSQSQueue},
		collect: func(ctx context.Context, s *scope) error {
			c := sqs.NewFromConfig(s.cfg)
			p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{MaxResults: aws.Int32(1000)})
			w := s.workers(ctx)
			defer func() { _ = w.Wait() }() // no goroutine outlives the unit
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					_ = w.Wait()
					return s.fail(err, "sqs:ListQueues")
				}
				for _, url := range out.QueueUrls {
					w.Go(func(ctx context.Context) error {
						name := url[strings.LastIndex(url, "/")+1:]
						r, err := s.newResource(TypeSQSQueue, s.arn("sqs", s.region, name), name, s.region, map[string]any{"QueueUrl": url})
						if err != nil {
							return err
						}
						s.enrich(ctx, r, "Attributes", "sqs:GetQueueAttributes", nil, func(ctx context.Context) (any, error) {
							out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
								QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
							})
							if err != nil {
								return nil, err
							}
							if arn := out.Attributes["QueueArn"]; arn != "" {
								r.NativeID = arn
							}
							relate(r, "kms_key", s.kmsKeyARN(s.region, out.Attributes["KmsMasterKeyId"]), TypeKMSKey)
							return parsedAttributes(out.Attributes), nil
						})
						s.enrich(ctx, r, "Tags", "sqs:ListQueueTags", nil, func(ctx context.Context) (any, error) {
							out, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(url)})
							if err != nil {
								return nil, err
							}
							r.Tags = out.Tags
							if out.Tags == nil {
								return map[string]string{}, nil
							}
							return out.Tags, nil
						})
						return s.emit(ctx, r)
					})
				}
			}
			return w.Wait()
		},
	}
}
