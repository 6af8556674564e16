package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vigilsec/vigil/providers"
)

// EC2 and VPC resource types.
const (
	TypeEC2Instance        = "aws.ec2.instance"
	TypeEC2SecurityGroup   = "aws.ec2.security_group"
	TypeEC2NetworkACL      = "aws.ec2.network_acl"
	TypeEC2VPC             = "aws.ec2.vpc"
	TypeEC2Subnet          = "aws.ec2.subnet"
	TypeEC2RouteTable      = "aws.ec2.route_table"
	TypeEC2InternetGateway = "aws.ec2.internet_gateway"
	TypeEC2NATGateway      = "aws.ec2.nat_gateway"
	TypeEC2VPCEndpoint     = "aws.ec2.vpc_endpoint"
	TypeEC2VPCPeering      = "aws.ec2.vpc_peering_connection"
	TypeEC2Volume          = "aws.ec2.volume"
	TypeEC2Snapshot        = "aws.ec2.snapshot"
	TypeEC2Image           = "aws.ec2.image"
	TypeEC2ElasticIP       = "aws.ec2.elastic_ip"
	TypeEC2LaunchTemplate  = "aws.ec2.launch_template"
	TypeEC2KeyPair         = "aws.ec2.key_pair"
)

// ec2Spec describes one EC2 resource type: how to list it, its id and tags, the ARN
// resource kind ("security-group"), and optional per-resource work.
type ec2Spec[T any] struct {
	name, typ, op string
	// arnKind is the resource part of the documented ARN, "<arnKind>/<id>".
	arnKind string
	// noAccount builds the ARN without the account id, as AWS documents for
	// snapshots and images ("arn:aws:ec2:us-east-1::snapshot/snap-1").
	noAccount bool
	list      func(ctx context.Context, c *ec2.Client, page func([]T) error) error
	id        func(T) string
	tags      func(T) []ec2types.Tag
	// prepare runs once per unit, before the first document is finished: a region-wide
	// lookup such as flow logs, whose failure is a gap on every document.
	prepare func(ctx context.Context, s *scope, c *ec2.Client) (any, error)
	// finish adds relations and enrichment to one document.
	finish func(ctx context.Context, s *scope, c *ec2.Client, r *providers.Resource, v T, prepared any, prepErr error)
}

func (sp ec2Spec[T]) collector() collector {
	return collector{
		name: sp.name, service: "ec2", types: []string{sp.typ},
		collect: func(ctx context.Context, s *scope) error {
			c := ec2.NewFromConfig(s.cfg)
			var prepared any
			var prepErr error
			prepDone := sp.prepare == nil
			w := s.workers(ctx)
			defer func() { _ = w.Wait() }() // no goroutine outlives the unit
			err := sp.list(ctx, c, func(items []T) error {
				for _, v := range items {
					// The region-wide lookup runs after the list call succeeded, and
					// only when there is something to enrich.
					if !prepDone {
						prepared, prepErr = sp.prepare(ctx, s, c)
						prepDone = true
					}
					id := sp.id(v)
					tags := tagMap(sp.tags(v), func(t ec2types.Tag) (*string, *string) { return t.Key, t.Value })
					name := tags["Name"]
					if name == "" {
						name = id
					}
					arn := s.arn("ec2", s.region, sp.arnKind+"/"+id)
					if sp.noAccount {
						arn = "arn:" + s.p.partition + ":ec2:" + s.region + "::" + sp.arnKind + "/" + id
					}
					prepared, prepErr := prepared, prepErr
					w.Go(func(ctx context.Context) error {
						r, err := s.newResource(sp.typ, arn, name, s.region, v)
						if err != nil {
							return err
						}
						r.Tags = tags
						if sp.finish != nil {
							sp.finish(ctx, s, c, r, v, prepared, prepErr)
						}
						return s.emit(ctx, r)
					})
				}
				return nil
			})
			if err != nil {
				_ = w.Wait()
				return s.fail(err, sp.op)
			}
			return w.Wait()
		},
	}
}

// ec2ARN is the documented ARN of an EC2 resource in the unit's region.
func (s *scope) ec2ARN(kind, id string) string {
	if id == "" {
		return ""
	}
	return s.arn("ec2", s.region, kind+"/"+id)
}

func ec2InstanceCollector() collector {
	return ec2Spec[ec2types.Instance]{
		name: "ec2_instances", typ: TypeEC2Instance, op: "ec2:DescribeInstances", arnKind: "instance",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Instance) error) error {
			p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, res := range out.Reservations {
					if err := page(res.Instances); err != nil {
						return err
					}
				}
			}
			return nil
		},
		id:   func(v ec2types.Instance) string { return aws.ToString(v.InstanceId) },
		tags: func(v ec2types.Instance) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.Instance, _ any, _ error) {
			for _, g := range v.SecurityGroups {
				relate(r, "security_group", s.ec2ARN("security-group", aws.ToString(g.GroupId)), TypeEC2SecurityGroup)
			}
			relate(r, "subnet", s.ec2ARN("subnet", aws.ToString(v.SubnetId)), TypeEC2Subnet)
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
			if v.IamInstanceProfile != nil {
				relate(r, "instance_profile", aws.ToString(v.IamInstanceProfile.Arn), TypeIAMInstanceProfile)
			}
			for _, m := range v.BlockDeviceMappings {
				if m.Ebs != nil {
					relate(r, "volume", s.ec2ARN("volume", aws.ToString(m.Ebs.VolumeId)), TypeEC2Volume)
				}
			}
		},
	}.collector()
}

func ec2SecurityGroupCollector() collector {
	return ec2Spec[ec2types.SecurityGroup]{
		name: "ec2_security_groups", typ: TypeEC2SecurityGroup, op: "ec2:DescribeSecurityGroups", arnKind: "security-group",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.SecurityGroup) error) error {
			p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.SecurityGroups); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.SecurityGroup) string { return aws.ToString(v.GroupId) },
		tags: func(v ec2types.SecurityGroup) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.SecurityGroup, _ any, _ error) {
			if r.Tags["Name"] == "" {
				r.Name = aws.ToString(v.GroupName)
			}
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
		},
	}.collector()
}

func ec2NetworkACLCollector() collector {
	return ec2Spec[ec2types.NetworkAcl]{
		name: "ec2_network_acls", typ: TypeEC2NetworkACL, op: "ec2:DescribeNetworkAcls", arnKind: "network-acl",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.NetworkAcl) error) error {
			p := ec2.NewDescribeNetworkAclsPaginator(c, &ec2.DescribeNetworkAclsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.NetworkAcls); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.NetworkAcl) string { return aws.ToString(v.NetworkAclId) },
		tags: func(v ec2types.NetworkAcl) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.NetworkAcl, _ any, _ error) {
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
			for _, a := range v.Associations {
				relate(r, "subnet", s.ec2ARN("subnet", aws.ToString(a.SubnetId)), TypeEC2Subnet)
			}
		},
	}.collector()
}

// ec2VPCCollector emits VPCs with their flow logs, read with one DescribeFlowLogs
// listing per region rather than one call per VPC.
func ec2VPCCollector() collector {
	return ec2Spec[ec2types.Vpc]{
		name: "ec2_vpcs", typ: TypeEC2VPC, op: "ec2:DescribeVpcs", arnKind: "vpc",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Vpc) error) error {
			p := ec2.NewDescribeVpcsPaginator(c, &ec2.DescribeVpcsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.Vpcs); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.Vpc) string { return aws.ToString(v.VpcId) },
		tags: func(v ec2types.Vpc) []ec2types.Tag { return v.Tags },
		prepare: func(ctx context.Context, s *scope, c *ec2.Client) (any, error) {
			ctx = context.WithValue(ctx, enrichKey{}, true)
			byResource := map[string][]any{}
			p := ec2.NewDescribeFlowLogsPaginator(c, &ec2.DescribeFlowLogsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				for _, fl := range out.FlowLogs {
					v, err := jsonValue(fl)
					if err != nil {
						return nil, err
					}
					byResource[aws.ToString(fl.ResourceId)] = append(byResource[aws.ToString(fl.ResourceId)], v)
				}
			}
			return byResource, nil
		},
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.Vpc, prepared any, prepErr error) {
			if prepErr != nil {
				s.gap(r, "FlowLogs", "ec2:DescribeFlowLogs", prepErr)
				return
			}
			logs := prepared.(map[string][]any)[aws.ToString(v.VpcId)]
			if logs == nil {
				logs = []any{}
			}
			r.Properties["FlowLogs"] = logs
		},
	}.collector()
}

func ec2SubnetCollector() collector {
	return ec2Spec[ec2types.Subnet]{
		name: "ec2_subnets", typ: TypeEC2Subnet, op: "ec2:DescribeSubnets", arnKind: "subnet",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Subnet) error) error {
			p := ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.Subnets); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.Subnet) string { return aws.ToString(v.SubnetId) },
		tags: func(v ec2types.Subnet) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.Subnet, _ any, _ error) {
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
		},
	}.collector()
}

func ec2RouteTableCollector() collector {
	return ec2Spec[ec2types.RouteTable]{
		name: "ec2_route_tables", typ: TypeEC2RouteTable, op: "ec2:DescribeRouteTables", arnKind: "route-table",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.RouteTable) error) error {
			p := ec2.NewDescribeRouteTablesPaginator(c, &ec2.DescribeRouteTablesInput{MaxResults: aws.Int32(100)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.RouteTables); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.RouteTable) string { return aws.ToString(v.RouteTableId) },
		tags: func(v ec2types.RouteTable) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.RouteTable, _ any, _ error) {
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
			for _, a := range v.Associations {
				relate(r, "subnet", s.ec2ARN("subnet", aws.ToString(a.SubnetId)), TypeEC2Subnet)
			}
		},
	}.collector()
}

func ec2InternetGatewayCollector() collector {
	return ec2Spec[ec2types.InternetGateway]{
		name: "ec2_internet_gateways", typ: TypeEC2InternetGateway, op: "ec2:DescribeInternetGateways", arnKind: "internet-gateway",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.InternetGateway) error) error {
			p := ec2.NewDescribeInternetGatewaysPaginator(c, &ec2.DescribeInternetGatewaysInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.InternetGateways); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.InternetGateway) string { return aws.ToString(v.InternetGatewayId) },
		tags: func(v ec2types.InternetGateway) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.InternetGateway, _ any, _ error) {
			for _, a := range v.Attachments {
				relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(a.VpcId)), TypeEC2VPC)
			}
		},
	}.collector()
}

func ec2NATGatewayCollector() collector {
	return ec2Spec[ec2types.NatGateway]{
		name: "ec2_nat_gateways", typ: TypeEC2NATGateway, op: "ec2:DescribeNatGateways", arnKind: "natgateway",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.NatGateway) error) error {
			p := ec2.NewDescribeNatGatewaysPaginator(c, &ec2.DescribeNatGatewaysInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.NatGateways); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.NatGateway) string { return aws.ToString(v.NatGatewayId) },
		tags: func(v ec2types.NatGateway) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.NatGateway, _ any, _ error) {
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
			relate(r, "subnet", s.ec2ARN("subnet", aws.ToString(v.SubnetId)), TypeEC2Subnet)
		},
	}.collector()
}

func ec2VPCEndpointCollector() collector {
	return ec2Spec[ec2types.VpcEndpoint]{
		name: "ec2_vpc_endpoints", typ: TypeEC2VPCEndpoint, op: "ec2:DescribeVpcEndpoints", arnKind: "vpc-endpoint",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.VpcEndpoint) error) error {
			p := ec2.NewDescribeVpcEndpointsPaginator(c, &ec2.DescribeVpcEndpointsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.VpcEndpoints); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.VpcEndpoint) string { return aws.ToString(v.VpcEndpointId) },
		tags: func(v ec2types.VpcEndpoint) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.VpcEndpoint, _ any, _ error) {
			r.Properties["PolicyDocument"] = parsePolicyPtr(v.PolicyDocument)
			relate(r, "vpc", s.ec2ARN("vpc", aws.ToString(v.VpcId)), TypeEC2VPC)
			for _, id := range v.SubnetIds {
				relate(r, "subnet", s.ec2ARN("subnet", id), TypeEC2Subnet)
			}
			for _, g := range v.Groups {
				relate(r, "security_group", s.ec2ARN("security-group", aws.ToString(g.GroupId)), TypeEC2SecurityGroup)
			}
		},
	}.collector()
}

func ec2VPCPeeringCollector() collector {
	return ec2Spec[ec2types.VpcPeeringConnection]{
		name: "ec2_vpc_peering_connections", typ: TypeEC2VPCPeering, op: "ec2:DescribeVpcPeeringConnections", arnKind: "vpc-peering-connection",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.VpcPeeringConnection) error) error {
			p := ec2.NewDescribeVpcPeeringConnectionsPaginator(c, &ec2.DescribeVpcPeeringConnectionsInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.VpcPeeringConnections); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.VpcPeeringConnection) string { return aws.ToString(v.VpcPeeringConnectionId) },
		tags: func(v ec2types.VpcPeeringConnection) []ec2types.Tag { return v.Tags },
	}.collector()
}

func ec2VolumeCollector() collector {
	return ec2Spec[ec2types.Volume]{
		name: "ec2_volumes", typ: TypeEC2Volume, op: "ec2:DescribeVolumes", arnKind: "volume",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Volume) error) error {
			p := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.Volumes); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.Volume) string { return aws.ToString(v.VolumeId) },
		tags: func(v ec2types.Volume) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.Volume, _ any, _ error) {
			relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(v.KmsKeyId)), TypeKMSKey)
			for _, a := range v.Attachments {
				relate(r, "instance", s.ec2ARN("instance", aws.ToString(a.InstanceId)), TypeEC2Instance)
			}
		},
	}.collector()
}

// ec2SnapshotCollector emits the account's own snapshots with who may create volumes
// from them ("all" in Group means public).
func ec2SnapshotCollector() collector {
	return ec2Spec[ec2types.Snapshot]{
		name: "ec2_snapshots", typ: TypeEC2Snapshot, op: "ec2:DescribeSnapshots", arnKind: "snapshot", noAccount: true,
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Snapshot) error) error {
			p := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.Snapshots); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.Snapshot) string { return aws.ToString(v.SnapshotId) },
		tags: func(v ec2types.Snapshot) []ec2types.Tag { return v.Tags },
		finish: func(ctx context.Context, s *scope, c *ec2.Client, r *providers.Resource, v ec2types.Snapshot, _ any, _ error) {
			relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(v.KmsKeyId)), TypeKMSKey)
			relate(r, "volume", s.ec2ARN("volume", aws.ToString(v.VolumeId)), TypeEC2Volume)
			s.enrich(ctx, r, "CreateVolumePermissions", "ec2:DescribeSnapshotAttribute", nil, func(ctx context.Context) (any, error) {
				out, err := c.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
					SnapshotId: v.SnapshotId, Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission,
				})
				if err != nil {
					return nil, err
				}
				return nonNil(out.CreateVolumePermissions), nil
			})
		},
	}.collector()
}

// ec2ImageCollector emits AMIs the account owns with their launch permissions.
func ec2ImageCollector() collector {
	return ec2Spec[ec2types.Image]{
		name: "ec2_images", typ: TypeEC2Image, op: "ec2:DescribeImages", arnKind: "image", noAccount: true,
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Image) error) error {
			p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(1000)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.Images); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.Image) string { return aws.ToString(v.ImageId) },
		tags: func(v ec2types.Image) []ec2types.Tag { return v.Tags },
		finish: func(ctx context.Context, s *scope, c *ec2.Client, r *providers.Resource, v ec2types.Image, _ any, _ error) {
			if r.Tags["Name"] == "" && v.Name != nil {
				r.Name = aws.ToString(v.Name)
			}
			s.enrich(ctx, r, "LaunchPermissions", "ec2:DescribeImageAttribute", nil, func(ctx context.Context) (any, error) {
				out, err := c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
					ImageId: v.ImageId, Attribute: ec2types.ImageAttributeNameLaunchPermission,
				})
				if err != nil {
					return nil, err
				}
				return nonNil(out.LaunchPermissions), nil
			})
		},
	}.collector()
}

func ec2AddressCollector() collector {
	return ec2Spec[ec2types.Address]{
		name: "ec2_elastic_ips", typ: TypeEC2ElasticIP, op: "ec2:DescribeAddresses", arnKind: "elastic-ip",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.Address) error) error {
			out, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
			if err != nil {
				return err
			}
			return page(out.Addresses)
		},
		id: func(v ec2types.Address) string {
			if v.AllocationId != nil {
				return aws.ToString(v.AllocationId)
			}
			return aws.ToString(v.PublicIp)
		},
		tags: func(v ec2types.Address) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, s *scope, _ *ec2.Client, r *providers.Resource, v ec2types.Address, _ any, _ error) {
			if r.Tags["Name"] == "" {
				r.Name = aws.ToString(v.PublicIp)
			}
			relate(r, "instance", s.ec2ARN("instance", aws.ToString(v.InstanceId)), TypeEC2Instance)
		},
	}.collector()
}

// ec2LaunchTemplateCollector emits launch templates with their latest version's data
// (user data excluded: it often holds secrets and is not configuration we check).
func ec2LaunchTemplateCollector() collector {
	return ec2Spec[ec2types.LaunchTemplate]{
		name: "ec2_launch_templates", typ: TypeEC2LaunchTemplate, op: "ec2:DescribeLaunchTemplates", arnKind: "launch-template",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.LaunchTemplate) error) error {
			p := ec2.NewDescribeLaunchTemplatesPaginator(c, &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(200)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				if err := page(out.LaunchTemplates); err != nil {
					return err
				}
			}
			return nil
		},
		id:   func(v ec2types.LaunchTemplate) string { return aws.ToString(v.LaunchTemplateId) },
		tags: func(v ec2types.LaunchTemplate) []ec2types.Tag { return v.Tags },
		finish: func(ctx context.Context, s *scope, c *ec2.Client, r *providers.Resource, v ec2types.LaunchTemplate, _ any, _ error) {
			r.Name = aws.ToString(v.LaunchTemplateName)
			s.enrich(ctx, r, "LatestVersion", "ec2:DescribeLaunchTemplateVersions", nil, func(ctx context.Context) (any, error) {
				out, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
					LaunchTemplateId: v.LaunchTemplateId, Versions: []string{"$Latest"},
				})
				if err != nil {
					return nil, err
				}
				if len(out.LaunchTemplateVersions) == 0 {
					return nil, nil
				}
				ver := out.LaunchTemplateVersions[0]
				if ver.LaunchTemplateData != nil {
					ver.LaunchTemplateData.UserData = nil
				}
				return ver, nil
			})
		},
	}.collector()
}

func ec2KeyPairCollector() collector {
	return ec2Spec[ec2types.KeyPairInfo]{
		name: "ec2_key_pairs", typ: TypeEC2KeyPair, op: "ec2:DescribeKeyPairs", arnKind: "key-pair",
		list: func(ctx context.Context, c *ec2.Client, page func([]ec2types.KeyPairInfo) error) error {
			out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
			if err != nil {
				return err
			}
			return page(out.KeyPairs)
		},
		id:   func(v ec2types.KeyPairInfo) string { return aws.ToString(v.KeyPairId) },
		tags: func(v ec2types.KeyPairInfo) []ec2types.Tag { return v.Tags },
		finish: func(_ context.Context, _ *scope, _ *ec2.Client, r *providers.Resource, v ec2types.KeyPairInfo, _ any, _ error) {
			r.Name = aws.ToString(v.KeyName)
		},
	}.collector()
}
