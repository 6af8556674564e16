package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/store"
)

// ConnectionTest is the answer to "do these credentials work, and what can they read?".
type ConnectionTest struct {
	OK bool `json:"ok"`
	// Identity is the ARN Vigil runs as in the account (sts:GetCallerIdentity).
	Identity string `json:"identity,omitempty"`
	// AccountID is the cloud account the credentials reach.
	AccountID string `json:"account_id,omitempty"`
	// Error explains a failure to authenticate at all.
	Error string `json:"error,omitempty"`
	// Permissions lists probed read permissions and whether each is granted.
	Permissions []PermissionProbe `json:"permissions"`
}

// PermissionProbe is one read permission tried with a cheap call.
type PermissionProbe struct {
	Action  string `json:"action"`
	Granted bool   `json:"granted"`
	Error   string `json:"error,omitempty"`
}

// TestConnection authenticates as the account and probes representative read
// permissions of the SecurityAudit policy. A denied probe is reported, not an error.
func TestConnection(ctx context.Context, acct store.Account, secret []byte) (ConnectionTest, error) {
	res := ConnectionTest{Permissions: []PermissionProbe{}}
	if acct.Provider != providers.AWS {
		return res, errors.New("connection tests exist for aws accounts only so far")
	}
	creds, cfg, err := AWSCredentials(acct, secret)
	if err != nil {
		return res, err
	}
	creds.MaxAttempts = 3
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	awsCfg, err := awsprov.LoadConfig(ctx, creds)
	if err != nil {
		res.Error = err.Error()
		return res, nil
	}
	if cfg.EndpointURL != "" {
		awsCfg.BaseEndpoint = aws.String(cfg.EndpointURL)
	}
	id, err := sts.NewFromConfig(awsCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		res.Error = "sts:GetCallerIdentity: " + err.Error()
		return res, nil
	}
	res.OK, res.Identity, res.AccountID = true, aws.ToString(id.Arn), aws.ToString(id.Account)
	probe := func(action string, call func() error) {
		err := call()
		p := PermissionProbe{Action: action, Granted: err == nil}
		if err != nil {
			p.Error = string(awsprov.Classify(err, action, awsCfg.Region).Kind)
			// Only a denial means the permission is missing; other errors say so.
			p.Granted = p.Error != string(providers.KindAccessDenied)
			if p.Granted {
				p.Error = "not verified: " + p.Error
			}
		}
		res.Permissions = append(res.Permissions, p)
	}
	probe("iam:GetAccountSummary", func() error {
		_, err := iam.NewFromConfig(awsCfg).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		return err
	})
	probe("iam:GetAccountAuthorizationDetails", func() error {
		_, err := iam.NewFromConfig(awsCfg).GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1)})
		return err
	})
	probe("s3:ListAllMyBuckets", func() error {
		_, err := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = cfg.EndpointURL != "" }).ListBuckets(ctx, &s3.ListBucketsInput{})
		return err
	})
	probe("ec2:DescribeRegions", func() error {
		_, err := ec2.NewFromConfig(awsCfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		return err
	})
	probe("ec2:DescribeSecurityGroups", func() error {
		_, err := ec2.NewFromConfig(awsCfg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)})
		return err
	})
	probe("cloudtrail:DescribeTrails", func() error {
		_, err := cloudtrail.NewFromConfig(awsCfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		return err
	})
	probe("kms:ListKeys", func() error {
		_, err := kms.NewFromConfig(awsCfg).ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(1)})
		return err
	})
	probe("config:DescribeConfigurationRecorders", func() error {
		_, err := configservice.NewFromConfig(awsCfg).DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
		return err
	})
	return res, nil
}
