package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	wafv2types "github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/vigilsec/vigil/providers"
)

// Types of edge and API services.
const (
	TypeCloudFrontDistribution = "aws.cloudfront.distribution"
	TypeAPIGatewayRestAPI      = "aws.apigateway.rest_api"
	TypeAPIGatewayStage        = "aws.apigateway.stage"
	TypeWAFv2WebACL            = "aws.wafv2.web_acl"
)

// cloudFrontCollector emits distributions (global) from the listing (viewer protocol
// policy, certificate, TLS minimum version, WAF, origins) with their
// "DistributionConfig" (logging, default root object).
func cloudFrontCollector() collector {
	return collector{
		name: "cloudfront_distributions", service: "cloudfront", global: true, types: []string{TypeCloudFrontDistribution},
		collect: func(ctx context.Context, s *scope) error {
			c := cloudfront.NewFromConfig(s.cfg)
			p := cloudfront.NewListDistributionsPaginator(c, &cloudfront.ListDistributionsInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "cloudfront:ListDistributions")
				}
				if out.DistributionList == nil {
					continue
				}
				for _, d := range out.DistributionList.Items {
					r, err := s.newResource(TypeCloudFrontDistribution, aws.ToString(d.ARN), aws.ToString(d.Id), providers.RegionGlobal, d)
					if err != nil {
						return err
					}
					if d.DomainName != nil {
						r.Name = aws.ToString(d.DomainName)
					}
					s.enrich(ctx, r, "DistributionConfig", "cloudfront:GetDistributionConfig", nil, func(ctx context.Context) (any, error) {
						out, err := c.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: d.Id})
						if err != nil {
							return nil, err
						}
						return out.DistributionConfig, nil
					})
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// apiGatewayCollector emits REST APIs (endpoint type, resource policy parsed) and
// their stages (logging and caching method settings, tracing, client certificate,
// WAF). Stages are listed per API: GetStages is a list call. Native ids follow the
// API Gateway ARN format: arn:aws:apigateway:<region>::/restapis/<id>[/stages/<name>].
func apiGatewayCollector() collector {
	return collector{
		name: "apigateway_rest_apis", service: "apigateway", types: []string{TypeAPIGatewayRestAPI, TypeAPIGatewayStage},
		collect: func(ctx context.Context, s *scope) error {
			c := apigateway.NewFromConfig(s.cfg)
			p := apigateway.NewGetRestApisPaginator(c, &apigateway.GetRestApisInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "apigateway:GetRestApis")
				}
				for _, api := range out.Items {
					apiARN := "arn:" + s.p.partition + ":apigateway:" + s.region + "::/restapis/" + aws.ToString(api.Id)
					err := s.emitDoc(ctx, TypeAPIGatewayRestAPI, apiARN, aws.ToString(api.Name), api, func(r *providers.Resource) {
						r.Tags = api.Tags
						r.Properties["Policy"] = parsePolicyPtr(unescapeAPIGatewayPolicy(api.Policy))
					})
					if err != nil {
						return err
					}
					if !wantsAny(s, TypeAPIGatewayStage) {
						continue
					}
					stages, err := c.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: api.Id})
					if err != nil {
						return s.fail(err, "apigateway:GetStages")
					}
					for _, st := range stages.Item {
						err := s.emitDoc(ctx, TypeAPIGatewayStage, apiARN+"/stages/"+aws.ToString(st.StageName), aws.ToString(api.Name)+"/"+aws.ToString(st.StageName), st, func(r *providers.Resource) {
							r.Tags = st.Tags
							relate(r, "rest_api", apiARN, TypeAPIGatewayRestAPI)
							relate(r, "web_acl", aws.ToString(st.WebAclArn), TypeWAFv2WebACL)
						})
						if err != nil {
							return err
						}
					}
				}
			}
			return nil
		},
	}
}

// unescapeAPIGatewayPolicy undoes the JSON-string escaping API Gateway applies to
// resource policies ({\"Version\":...}).
func unescapeAPIGatewayPolicy(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	if len(v) > 1 && v[0] == '{' && v[1] == '\\' {
		v = unescapeBackslashes(v)
	}
	return &v
}

func unescapeBackslashes(v string) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		out = append(out, v[i])
	}
	return string(out)
}

// wafv2Collector emits regional web ACLs, and in us-east-1 also the CLOUDFRONT-scope
// ones, with their rules ("WebACL": GetWebACL's web ACL) and logging configuration
// ("LoggingConfiguration", null when logging is off).
func wafv2Collector() collector {
	return collector{
		name: "wafv2_web_acls", service: "wafv2", types: []string{TypeWAFv2WebACL},
		collect: func(ctx context.Context, s *scope) error {
			c := wafv2.NewFromConfig(s.cfg)
			scopes := []wafv2types.Scope{wafv2types.ScopeRegional}
			if s.region == "us-east-1" {
				scopes = append(scopes, wafv2types.ScopeCloudfront)
			}
			for _, scope := range scopes {
				in := &wafv2.ListWebACLsInput{Scope: scope, Limit: aws.Int32(100)}
				for {
					out, err := c.ListWebACLs(ctx, in)
					if err != nil {
						return s.fail(err, "wafv2:ListWebACLs")
					}
					for _, acl := range out.WebACLs {
						err := s.emitDoc(ctx, TypeWAFv2WebACL, aws.ToString(acl.ARN), aws.ToString(acl.Name), acl, func(r *providers.Resource) {
							r.Properties["Scope"] = string(scope)
							s.enrich(ctx, r, "WebACL", "wafv2:GetWebACL", nil, func(ctx context.Context) (any, error) {
								out, err := c.GetWebACL(ctx, &wafv2.GetWebACLInput{Id: acl.Id, Name: acl.Name, Scope: scope})
								if err != nil {
									return nil, err
								}
								return out.WebACL, nil
							})
							s.enrich(ctx, r, "LoggingConfiguration", "wafv2:GetLoggingConfiguration", []string{"WAFNonexistentItemException"}, func(ctx context.Context) (any, error) {
								out, err := c.GetLoggingConfiguration(ctx, &wafv2.GetLoggingConfigurationInput{ResourceArn: acl.ARN})
								if err != nil {
									return nil, err
								}
								return out.LoggingConfiguration, nil
							})
						})
						if err != nil {
							return err
						}
					}
					if aws.ToString(out.NextMarker) == "" || len(out.WebACLs) == 0 {
						break
					}
					in.NextMarker = out.NextMarker
				}
			}
			return nil
		},
	}
}
