package aws_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	s3controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers/aws/awstest"
)

// The estate regions: a home region and a second one, so that per-region units and
// bucket regions are exercised.
const (
	regionA = "us-east-1"
	regionB = "eu-west-1"
)

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// seedEstate creates one or more resources of every type moto emulates, with the
// settings the collectors enrich, in regionA and regionB.
func seedEstate(t testing.TB, srv *awstest.Server) {
	ctx := context.Background()
	cfg := srv.Config(t, regionA)
	cfgB := srv.Config(t, regionB)
	must := func(_ any, err error) {
		t.Helper()
		require.NoError(t, err)
	}

	// IAM and account settings.
	ic := iam.NewFromConfig(cfg)
	must(ic.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("vigil-test")}))
	must(ic.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(14), RequireSymbols: true, PasswordReusePrevention: aws.Int32(24)}))
	pol, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("admin"), PolicyDocument: aws.String(adminPolicy)})
	require.NoError(t, err)
	must(ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must(ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("read"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)}))
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	must(ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))
	must(ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: pol.Policy.Arn}))
	must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(adminPolicy)}))
	must(ic.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Very-Secret-123")}))
	must(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	mfa, err := ic.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice-mfa")})
	require.NoError(t, err)
	must(ic.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: mfa.VirtualMFADevice.SerialNumber, AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))
	must(ic.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("unassigned")}))
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustPolicy)}))
	must(ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: pol.Policy.Arn}))
	ip, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")})
	require.NoError(t, err)
	must(ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app")}))
	must(ic.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("okta"), SAMLMetadataDocument: aws.String("<EntityDescriptor>" + string(bytes.Repeat([]byte("x"), 1000)) + "</EntityDescriptor>")}))
	must(ic.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com"), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}}))
	certPEM, keyPEM := selfSignedCert(t)
	must(ic.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("legacy-tls"), CertificateBody: aws.String(certPEM), PrivateKey: aws.String(keyPEM)}))
	must(account.NewFromConfig(cfg).PutAlternateContact(ctx, &account.PutAlternateContactInput{AlternateContactType: accounttypes.AlternateContactTypeSecurity, EmailAddress: aws.String("sec@example.com"), Name: aws.String("Sec"), PhoneNumber: aws.String("+100"), Title: aws.String("CISO")}))
	must(s3control.NewFromConfig(cfg, awstest.S3ControlOptions).PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{AccountId: aws.String(awstest.AccountID), PublicAccessBlockConfiguration: &s3controltypes.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	must(organizations.NewFromConfig(cfg).CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))

	// KMS.
	key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("data")})
	require.NoError(t, err)
	keyARN := key.KeyMetadata.Arn
	must(kms.NewFromConfig(cfg).EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}))
	must(kms.NewFromConfig(cfg).CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/data"), TargetKeyId: key.KeyMetadata.KeyId}))

	// S3.
	sc := s3.NewFromConfig(cfg, awstest.S3Options)
	scB := s3.NewFromConfig(cfgB, awstest.S3Options)
	must(sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vigil-logs")}))
	must(sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vigil-plain")}))
	must(scB.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vigil-data"), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(regionB)}}))
	data := aws.String("vigil-data")
	must(scB.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: data, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: keyARN}}}}}))
	must(scB.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: data, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
	must(scB.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: data, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	must(scB.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: data, Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::vigil-data/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)}))
	must(scB.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: data, OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}))
	must(scB.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: data, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{ID: aws.String("expire"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")}, Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)}}}}}))
	must(scB.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: data, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}}))
	must(scB.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vigil-logs-eu"), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(regionB)}}))
	must(scB.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("vigil-logs-eu"), GrantWrite: aws.String(`uri="http://acs.amazonaws.com/groups/s3/LogDelivery"`), GrantReadACP: aws.String(`uri="http://acs.amazonaws.com/groups/s3/LogDelivery"`), GrantFullControl: aws.String(`id="` + "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a" + `"`)}))
	must(scB.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: data, BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{TargetBucket: aws.String("vigil-logs-eu"), TargetPrefix: aws.String("data/")}}}))

	// EC2 and VPC in regionA; the default VPC of each region is already there.
	ec := ec2.NewFromConfig(cfg)
	must(ec.EnableEbsEncryptionByDefault(ctx, &ec2.EnableEbsEncryptionByDefaultInput{}))
	vpc, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16"), TagSpecifications: nameTag(ec2types.ResourceTypeVpc, "app-vpc")})
	require.NoError(t, err)
	vpcID := vpc.Vpc.VpcId
	subnet, err := ec.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.1.1.0/24"), AvailabilityZone: aws.String("us-east-1a"), TagSpecifications: nameTag(ec2types.ResourceTypeSubnet, "app-public")})
	require.NoError(t, err)
	igw, err := ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	require.NoError(t, err)
	must(ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID}))
	rt, err := ec.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	require.NoError(t, err)
	must(ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}))
	must(ec.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: subnet.Subnet.SubnetId}))
	eipNAT, err := ec.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	require.NoError(t, err)
	must(ec.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: subnet.Subnet.SubnetId, AllocationId: eipNAT.AllocationId}))
	must(ec.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: vpcID, ServiceName: aws.String("com.amazonaws.us-east-1.s3"), RouteTableIds: []string{*rt.RouteTable.RouteTableId}, PolicyDocument: aws.String(adminPolicy)}))
	peer, err := ec.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16")})
	require.NoError(t, err)
	must(ec.CreateVpcPeeringConnection(ctx, &ec2.CreateVpcPeeringConnectionInput{VpcId: vpcID, PeerVpcId: peer.Vpc.VpcId}))
	must(ec.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{ResourceIds: []string{*vpcID}, ResourceType: ec2types.FlowLogsResourceTypeVpc, TrafficType: ec2types.TrafficTypeAll, LogDestinationType: ec2types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::vigil-logs")}))
	sg, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh-open"), Description: aws.String("ssh from anywhere"), VpcId: vpcID})
	require.NoError(t, err)
	must(ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))
	must(ec.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("deploy")}))
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: subnet.Subnet.SubnetId, SecurityGroupIds: []string{*sg.GroupId}, KeyName: aws.String("deploy"),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: ip.InstanceProfile.Arn},
		MetadataOptions:    &ec2types.InstanceMetadataOptionsRequest{HttpTokens: ec2types.HttpTokensStateOptional},
		TagSpecifications:  nameTag(ec2types.ResourceTypeInstance, "web-1"),
	})
	require.NoError(t, err)
	instanceID := run.Instances[0].InstanceId
	eip, err := ec.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	require.NoError(t, err)
	must(ec.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: instanceID}))
	vol, err := ec.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(10), Encrypted: aws.Bool(true), KmsKeyId: keyARN, TagSpecifications: nameTag(ec2types.ResourceTypeVolume, "data")})
	require.NoError(t, err)
	snap, err := ec.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, Description: aws.String("nightly")})
	require.NoError(t, err)
	must(ec.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: snap.SnapshotId, Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission, OperationType: ec2types.OperationTypeAdd, GroupNames: []string{"all"}}))
	img, err := ec.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: instanceID, Name: aws.String("web-image")})
	require.NoError(t, err)
	must(ec.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: img.ImageId, LaunchPermission: &ec2types.LaunchPermissionModifications{Add: []ec2types.LaunchPermission{{UserId: aws.String("210987654321")}}}}))
	must(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeT3Micro, UserData: aws.String("c2VjcmV0"), MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired}}}))

	// CloudTrail and CloudWatch.
	lg := aws.String("/aws/cloudtrail")
	logsc := cloudwatchlogs.NewFromConfig(cfg)
	must(logsc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: lg}))
	must(logsc.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: lg, RetentionInDays: aws.Int32(365)}))
	must(logsc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: lg, FilterName: aws.String("root-usage"), FilterPattern: aws.String(`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`), MetricTransformations: []logstypes.MetricTransformation{{MetricName: aws.String("RootUsage"), MetricNamespace: aws.String("CIS"), MetricValue: aws.String("1")}}}))
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"KmsMasterKeyId": "alias/aws/sns"}})
	require.NoError(t, err)
	must(sns.NewFromConfig(cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("email"), Endpoint: aws.String("oncall@example.com")}))
	must(cloudwatch.NewFromConfig(cfg, queryProtocol).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("root-usage"), MetricName: aws.String("RootUsage"), Namespace: aws.String("CIS"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, AlarmActions: []string{*topic.TopicArn}}))
	ct := cloudtrail.NewFromConfig(cfg)
	trail, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("org-trail"), S3BucketName: aws.String("vigil-logs"), IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true), KmsKeyId: keyARN,
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:" + awstest.AccountID + ":log-group:/aws/cloudtrail:*"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::" + awstest.AccountID + ":role/app")})
	require.NoError(t, err)
	must(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: trail.Name}))
	must(sqs.NewFromConfig(cfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs"), Attributes: map[string]string{"KmsMasterKeyId": "alias/aws/sqs", "Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`}, Tags: map[string]string{"team": "core"}}))

	// Databases and compute.
	must(rds.NewFromConfig(cfg).CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String("orders"), DBInstanceClass: aws.String("db.t3.micro"), Engine: aws.String("postgres"), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123"), AllocatedStorage: aws.Int32(20), StorageEncrypted: aws.Bool(true), KmsKeyId: keyARN, PubliclyAccessible: aws.Bool(true)}))
	must(rds.NewFromConfig(cfg).CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("orders"), DBSnapshotIdentifier: aws.String("orders-manual")}))
	must(rds.NewFromConfig(cfg).ModifyDBSnapshotAttribute(ctx, &rds.ModifyDBSnapshotAttributeInput{DBSnapshotIdentifier: aws.String("orders-manual"), AttributeName: aws.String("restore"), ValuesToAdd: []string{"all"}}))
	must(rds.NewFromConfig(cfg).CreateDBCluster(ctx, &rds.CreateDBClusterInput{DBClusterIdentifier: aws.String("analytics"), Engine: aws.String("aurora-postgresql"), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("password123"), StorageEncrypted: aws.Bool(true)}))
	ddb := dynamodb.NewFromConfig(cfg)
	must(ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("sessions"), BillingMode: ddbtypes.BillingModePayPerRequest, AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}}, KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}))
	must(ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("sessions"), PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}))
	role, err := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})
	require.NoError(t, err)
	lc := lambda.NewFromConfig(cfg)
	must(lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("resize"), Runtime: lambdatypes.RuntimePython39, Role: role.Role.Arn, Handler: aws.String("main.handler"), Code: &lambdatypes.FunctionCode{ZipFile: zipFile(t)}, Environment: &lambdatypes.Environment{Variables: map[string]string{"API_TOKEN": "s3cr3t", "DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf", "EMPTY": ""}}}))
	must(lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("resize"), StatementId: aws.String("public"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}))
	must(lc.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("resize"), AuthType: lambdatypes.FunctionUrlAuthTypeNone}))
	must(eks.NewFromConfig(cfg).CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("prod"), RoleArn: role.Role.Arn, ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{*subnet.Subnet.SubnetId}, EndpointPublicAccess: aws.Bool(true)}}))
	ecrc := ecr.NewFromConfig(cfg)
	must(ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")}))
	must(ecrc.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("web"), PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`)}))

	seedMoreServices(t, cfg, subnet.Subnet.SubnetId, vpcID, sg.GroupId, role.Role.Arn, instanceID)

	// regionB: one security group and a KMS key, so that per-region units differ.
	ecB := ec2.NewFromConfig(cfgB)
	must(ecB.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("db"), Description: aws.String("database")}))
	must(kms.NewFromConfig(cfgB).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("eu key")}))
}

func nameTag(rt ec2types.ResourceType, name string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: rt, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}
}

// zipFile is a minimal Lambda deployment package.
func zipFile(t testing.TB) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("main.py")
	require.NoError(t, err)
	_, err = f.Write([]byte("def handler(event, context):\n    return event\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// queryProtocol makes a CloudWatch client speak the query protocol moto serves.
func queryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
}

// selfSignedCert is a throwaway certificate and key in PEM, for IAM server certificates.
func selfSignedCert(t testing.TB) (string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "legacy.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}
