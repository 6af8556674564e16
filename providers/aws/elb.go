package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/vigilsec/vigil/providers"
)

// Load balancer types.
const (
	TypeELBv2LoadBalancer = "aws.elbv2.load_balancer"
	TypeELBLoadBalancer   = "aws.elb.load_balancer"
	elbv2TagsBatch        = 20 // DescribeTags accepts at most 20 ARNs
)

// elbv2Collector emits application, network and gateway load balancers with their
// listeners (protocol, port, SslPolicy, certificates), attributes and tags (tags read
// 20 load balancers per call).
func elbv2Collector() collector {
	return collector{
		name: "elbv2_load_balancers", service: "elasticloadbalancing", types: []string{TypeELBv2LoadBalancer},
		collect: func(ctx context.Context, s *scope) error {
			c := elbv2.NewFromConfig(s.cfg)
			p := elbv2.NewDescribeLoadBalancersPaginator(c, &elbv2.DescribeLoadBalancersInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "elasticloadbalancing:DescribeLoadBalancers")
				}
				tags, tagErr := elbv2Tags(context.WithValue(ctx, enrichKey{}, true), c, out.LoadBalancers)
				for _, lb := range out.LoadBalancers {
					arn := lb.LoadBalancerArn
					err := s.emitDoc(ctx, TypeELBv2LoadBalancer, aws.ToString(arn), aws.ToString(lb.LoadBalancerName), lb, func(r *providers.Resource) {
						relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(lb.VpcId)), TypeEC2VPC)
						for _, g := range lb.SecurityGroups {
							relate(r, "security_group", s.ec2ARN("security-group", g), TypeEC2SecurityGroup)
						}
						if tagErr != nil {
							s.gap(r, "Tags", "elasticloadbalancing:DescribeTags", tagErr)
						} else {
							r.Tags = tags[aws.ToString(arn)]
							r.Properties["Tags"] = r.Tags
						}
						s.enrich(ctx, r, "Listeners", "elasticloadbalancing:DescribeListeners", nil, func(ctx context.Context) (any, error) {
							var all []elbv2types.Listener
							lp := elbv2.NewDescribeListenersPaginator(c, &elbv2.DescribeListenersInput{LoadBalancerArn: arn})
							for lp.HasMorePages() {
								out, err := lp.NextPage(ctx)
								if err != nil {
									return nil, err
								}
								all = append(all, out.Listeners...)
							}
							return nonNil(all), nil
						})
						s.enrich(ctx, r, "Attributes", "elasticloadbalancing:DescribeLoadBalancerAttributes", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeLoadBalancerAttributes(ctx, &elbv2.DescribeLoadBalancerAttributesInput{LoadBalancerArn: arn})
							if err != nil {
								return nil, err
							}
							m := map[string]any{}
							for _, a := range out.Attributes {
								m[aws.ToString(a.Key)] = aws.ToString(a.Value)
							}
							return m, nil
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

// elbv2Tags reads the tags of lbs, 20 per call.
func elbv2Tags(ctx context.Context, c *elbv2.Client, lbs []elbv2types.LoadBalancer) (map[string]map[string]string, error) {
	tags := map[string]map[string]string{}
	for i := 0; i < len(lbs); i += elbv2TagsBatch {
		var arns []string
		for _, lb := range lbs[i:min(i+elbv2TagsBatch, len(lbs))] {
			arns = append(arns, aws.ToString(lb.LoadBalancerArn))
		}
		out, err := c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
		if err != nil {
			return nil, err
		}
		for _, d := range out.TagDescriptions {
			tags[aws.ToString(d.ResourceArn)] = tagMap(d.Tags, func(t elbv2types.Tag) (*string, *string) { return t.Key, t.Value })
		}
	}
	for _, lb := range lbs {
		if tags[aws.ToString(lb.LoadBalancerArn)] == nil {
			tags[aws.ToString(lb.LoadBalancerArn)] = map[string]string{}
		}
	}
	return tags, nil
}

// elbClassicCollector emits classic load balancers with their attributes (access log,
// connection draining, cross-zone) and policies (the TLS negotiation policies their
// HTTPS listeners use). Native id: arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/<name>.
func elbClassicCollector() collector {
	return collector{
		name: "elb_load_balancers", service: "elasticloadbalancing", types: []string{TypeELBLoadBalancer},
		collect: func(ctx context.Context, s *scope) error {
			c := elb.NewFromConfig(s.cfg)
			p := elb.NewDescribeLoadBalancersPaginator(c, &elb.DescribeLoadBalancersInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "elasticloadbalancing:DescribeLoadBalancers")
				}
				for _, lb := range out.LoadBalancerDescriptions {
					name := lb.LoadBalancerName
					err := s.emitDoc(ctx, TypeELBLoadBalancer, s.arn("elasticloadbalancing", s.region, "loadbalancer/"+aws.ToString(name)), aws.ToString(name), lb, func(r *providers.Resource) {
						relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(lb.VPCId)), TypeEC2VPC)
						for _, g := range lb.SecurityGroups {
							relate(r, "security_group", s.ec2ARN("security-group", g), TypeEC2SecurityGroup)
						}
						for _, i := range lb.Instances {
							relate(r, "instance", s.ec2ARN("instance", aws.ToString(i.InstanceId)), TypeEC2Instance)
						}
						s.enrich(ctx, r, "Attributes", "elasticloadbalancing:DescribeLoadBalancerAttributes", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerName: name})
							if err != nil {
								return nil, err
							}
							return out.LoadBalancerAttributes, nil
						})
						s.enrich(ctx, r, "Policies", "elasticloadbalancing:DescribeLoadBalancerPolicies", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeLoadBalancerPolicies(ctx, &elb.DescribeLoadBalancerPoliciesInput{LoadBalancerName: name})
							if err != nil {
								return nil, err
							}
							return nonNil(out.PolicyDescriptions), nil
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
