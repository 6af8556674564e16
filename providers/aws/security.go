package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/vigilsec/vigil/providers"
)

// Types of the security services.
const (
	TypeConfigRecorder        = "aws.config.configuration_recorder"
	TypeConfigDeliveryChannel = "aws.config.delivery_channel"
	TypeGuardDutyDetector     = "aws.guardduty.detector"
	TypeSecurityHubHub        = "aws.securityhub.hub"
	TypeAccessAnalyzer        = "aws.accessanalyzer.analyzer"
)

// configCollector emits AWS Config recorders, each with its status (one
// DescribeConfigurationRecorderStatus call for the region), and delivery channels.
func configCollector() collector {
	return collector{
		name: "config_recorders", service: "config", types: []string{TypeConfigRecorder, TypeConfigDeliveryChannel},
		collect: func(ctx context.Context, s *scope) error {
			c := configservice.NewFromConfig(s.cfg)
			recs, err := c.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
			if err != nil {
				return s.fail(err, "config:DescribeConfigurationRecorders")
			}
			status := map[string]any{}
			var statusErr error
			if len(recs.ConfigurationRecorders) > 0 {
				out, err := c.DescribeConfigurationRecorderStatus(context.WithValue(ctx, enrichKey{}, true), &configservice.DescribeConfigurationRecorderStatusInput{})
				statusErr = err
				if err == nil {
					for _, st := range out.ConfigurationRecordersStatus {
						v, err := jsonValue(st)
						if err != nil {
							return err
						}
						status[aws.ToString(st.Name)] = v
					}
				}
			}
			for _, rec := range recs.ConfigurationRecorders {
				arn := aws.ToString(rec.Arn)
				if arn == "" {
					arn = s.arn("config", s.region, "configuration-recorder/"+aws.ToString(rec.Name))
				}
				err := s.emitDoc(ctx, TypeConfigRecorder, arn, aws.ToString(rec.Name), rec, func(r *providers.Resource) {
					relate(r, "role", aws.ToString(rec.RoleARN), TypeIAMRole)
					if statusErr != nil {
						s.gap(r, "Status", "config:DescribeConfigurationRecorderStatus", statusErr)
						return
					}
					r.Properties["Status"] = status[aws.ToString(rec.Name)]
				})
				if err != nil {
					return err
				}
			}
			chans, err := c.DescribeDeliveryChannels(ctx, &configservice.DescribeDeliveryChannelsInput{})
			if err != nil {
				return s.fail(err, "config:DescribeDeliveryChannels")
			}
			for _, ch := range chans.DeliveryChannels {
				err := s.emitDoc(ctx, TypeConfigDeliveryChannel, s.arn("config", s.region, "delivery-channel/"+aws.ToString(ch.Name)), aws.ToString(ch.Name), ch, func(r *providers.Resource) {
					relate(r, "s3_bucket", bucketARN(s, aws.ToString(ch.S3BucketName)), TypeS3Bucket)
					relate(r, "sns_topic", aws.ToString(ch.SnsTopicARN), TypeSNSTopic)
				})
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// guardDutyCollector emits GuardDuty detectors with their configuration ("Detector":
// GetDetector's output: Status, FindingPublishingFrequency, Features). A region
// without a detector emits nothing: GuardDuty is off there.
func guardDutyCollector() collector {
	return collector{
		name: "guardduty_detectors", service: "guardduty", types: []string{TypeGuardDutyDetector},
		collect: func(ctx context.Context, s *scope) error {
			c := guardduty.NewFromConfig(s.cfg)
			p := guardduty.NewListDetectorsPaginator(c, &guardduty.ListDetectorsInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "guardduty:ListDetectors")
				}
				for _, id := range out.DetectorIds {
					err := s.emitDoc(ctx, TypeGuardDutyDetector, s.arn("guardduty", s.region, "detector/"+id), id, map[string]any{"DetectorId": id}, func(r *providers.Resource) {
						s.enrich(ctx, r, "Detector", "guardduty:GetDetector", nil, func(ctx context.Context) (any, error) {
							out, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(id)})
							if err != nil {
								return nil, err
							}
							r.Tags = out.Tags
							return out, nil
						})
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// securityHubCollector emits the region's Security Hub hub with its enabled standards.
// Security Hub not enabled (InvalidAccessException) is data: the unit completes and
// emits nothing.
func securityHubCollector() collector {
	return collector{
		name: "securityhub_hubs", service: "securityhub", types: []string{TypeSecurityHubHub},
		collect: func(ctx context.Context, s *scope) error {
			c := securityhub.NewFromConfig(s.cfg)
			hub, err := c.DescribeHub(ctx, &securityhub.DescribeHubInput{})
			if isCode(err, "InvalidAccessException", "ResourceNotFoundException") {
				return nil
			}
			if err != nil {
				return s.fail(err, "securityhub:DescribeHub")
			}
			return s.emitDoc(ctx, TypeSecurityHubHub, aws.ToString(hub.HubArn), "securityhub", hub, func(r *providers.Resource) {
				delete(r.Properties, "ResultMetadata")
				s.enrich(ctx, r, "EnabledStandards", "securityhub:GetEnabledStandards", nil, func(ctx context.Context) (any, error) {
					var all []shtypes.StandardsSubscription
					p := securityhub.NewGetEnabledStandardsPaginator(c, &securityhub.GetEnabledStandardsInput{})
					for p.HasMorePages() {
						out, err := p.NextPage(ctx)
						if err != nil {
							return nil, err
						}
						all = append(all, out.StandardsSubscriptions...)
					}
					return nonNil(all), nil
				})
			})
		},
	}
}

// accessAnalyzerCollector emits IAM Access Analyzer analyzers (account or organization
// zone of trust, status).
func accessAnalyzerCollector() collector {
	return collector{
		name: "accessanalyzer_analyzers", service: "access-analyzer", types: []string{TypeAccessAnalyzer},
		collect: func(ctx context.Context, s *scope) error {
			p := accessanalyzer.NewListAnalyzersPaginator(accessanalyzer.NewFromConfig(s.cfg), &accessanalyzer.ListAnalyzersInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "access-analyzer:ListAnalyzers")
				}
				for _, a := range out.Analyzers {
					err := s.emitDoc(ctx, TypeAccessAnalyzer, aws.ToString(a.Arn), aws.ToString(a.Name), a, func(r *providers.Resource) {
						r.Tags = a.Tags
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}
