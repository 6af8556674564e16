package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// day1 builds the estate as it is on the first day: a mix of good and bad.
func (e *estate) day1(ctx context.Context) error {
	steps := []func() error{
		// IAM: an admin user, a CI user who can rewrite policies, a reader, a role
		// trusting another account without an external id, a group.
		func() error { return e.user(ctx, "ana.admin", adminPolicy) },
		func() error {
			return e.user(ctx, "ci-deployer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreatePolicyVersion","s3:PutObject"],"Resource":"*"}]}`)
		},
		func() error {
			return e.user(ctx, "read-only-auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`)
		},
		func() error {
			_, err := e.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci-deployer")})
			return err
		},
		func() error {
			_, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("partner-access"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}`)})
			return err
		},
		func() error {
			_, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app-server"),
				AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
			return err
		},
		func() error {
			_, err := e.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("developers")})
			return err
		},
		func() error {
			_, err := e.iam.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(8)})
			return err
		},
		// S3: a private, encrypted, versioned bucket; a website bucket; a log bucket.
		func() error { return e.bucket(ctx, "acme-customer-data", true) },
		func() error { return e.bucket(ctx, "acme-public-website", false) },
		func() error { return e.bucket(ctx, "acme-access-logs", true) },
		// KMS: a key without rotation.
		func() error {
			k, err := e.kms.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("customer data")})
			if err != nil {
				return err
			}
			e.keys = append(e.keys, *k.KeyMetadata.KeyId)
			return nil
		},
		// CloudTrail in one region only, without log validation.
		func() error {
			_, err := cloudtrail.NewFromConfig(e.cfg["us-east-1"]).CreateTrail(ctx, &cloudtrail.CreateTrailInput{
				Name: aws.String("management-events"), S3BucketName: aws.String("acme-access-logs")})
			return err
		},
		// Messaging and data.
		func() error {
			_, err := sns.NewFromConfig(e.cfg["us-east-1"]).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
			return err
		},
		func() error {
			_, err := sqs.NewFromConfig(e.cfg["eu-west-1"]).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
			return err
		},
		func() error {
			_, err := dynamodb.NewFromConfig(e.cfg["eu-west-1"]).CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String("sessions"),
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
				BillingMode:          ddbtypes.BillingModePayPerRequest})
			return err
		},
	}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		region := region
		steps = append(steps,
			func() error { return e.securityGroup(ctx, region, "web-"+region, 443, "0.0.0.0/0") },
			func() error { return e.securityGroup(ctx, region, "bastion-"+region, 22, "0.0.0.0/0") },
			func() error { return e.securityGroup(ctx, region, "db-"+region, 5432, "10.0.0.0/16") },
			func() error { return e.instance(ctx, region, "web-1-"+region) },
			func() error { return e.volume(ctx, region, "scratch-"+region, false) },
		)
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}

// day2 changes the estate: drift for the demo's timeline and new findings.
func (e *estate) day2(ctx context.Context) error {
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-public-website/*"}]}`
	steps := []func() error{
		func() error {
			_, err := e.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("acme-public-website"), Policy: aws.String(public)})
			return err
		},
		func() error {
			return e.openPort(ctx, "us-east-1", e.ids["web-us-east-1"], 3389, "0.0.0.0/0")
		},
		func() error {
			_, err := e.ec2["eu-west-1"].TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{e.ids["web-1-eu-west-1"]}})
			return err
		},
		func() error { return e.user(ctx, "contractor-temp", adminPolicy) },
		func() error {
			_, err := e.ec2["us-east-1"].DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(e.ids["scratch-us-east-1"])})
			return err
		},
		func() error {
			_, err := e.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(e.keys[0])})
			return err
		},
		func() error { return e.volume(ctx, "us-east-1", "encrypted-data", true) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
}

func (e *estate) user(ctx context.Context, name, inline string) error {
	if _, err := e.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		return err
	}
	_, err := e.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(name + "-inline"), PolicyDocument: aws.String(inline)})
	return err
}

func (e *estate) bucket(ctx context.Context, name string, private bool) error {
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return err
	}
	if !private {
		return nil
	}
	if _, err := e.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(name),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		return err
	}
	if _, err := e.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return err
	}
	_, err := e.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(name),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}}}}})
	return err
}

func (e *estate) securityGroup(ctx context.Context, region, name string, port int32, cidr string) error {
	sg, err := e.ec2[region].CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		return err
	}
	e.ids[name] = *sg.GroupId
	return e.openPort(ctx, region, *sg.GroupId, port, cidr)
}

func (e *estate) openPort(ctx context.Context, region, group string, port int32, cidr string) error {
	_, err := e.ec2[region].AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(group),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String(cidr)}}}}})
	return err
}

func (e *estate) instance(ctx context.Context, region, name string) error {
	out, err := e.ec2[region].RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1),
		MaxCount: aws.Int32(1), InstanceType: ec2types.InstanceTypeT3Micro,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}, {Key: aws.String("team"), Value: aws.String("web")}}}}})
	if err != nil {
		return err
	}
	e.ids[name] = *out.Instances[0].InstanceId
	return nil
}

func (e *estate) volume(ctx context.Context, region, name string, encrypted bool) error {
	in := &ec2.CreateVolumeInput{AvailabilityZone: aws.String(region + "a"), Size: aws.Int32(20), Encrypted: aws.Bool(encrypted),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}}
	if encrypted {
		in.KmsKeyId = aws.String(e.keys[0])
	}
	v, err := e.ec2[region].CreateVolume(ctx, in)
	if err != nil {
		return err
	}
	e.ids[name] = *v.VolumeId
	return nil
}
