package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers/aws/awstest"
)

// estate is what seedScanEstate created: native ids by role.
type estate struct {
	publicBucket, privateBucket, logBucket string
	plainVolume, encryptedVolume           string
	openSG, restrictedSG                   string
	adminUser, plainUser                   string
}

// seedScanEstate builds a deliberately misconfigured estate and its compliant twins in
// us-east-1 of a private moto_server.
func seedScanEstate(t *testing.T, srv *awstest.Server) estate {
	t.Helper()
	ctx := context.Background()
	cfg := srv.Config(t, "us-east-1")
	must := func(_ any, err error) {
		t.Helper()
		require.NoError(t, err)
	}
	const acct = awstest.AccountID
	e := estate{
		publicBucket: "arn:aws:s3:::vigil-e2e-public", privateBucket: "arn:aws:s3:::vigil-e2e-private",
		logBucket: "arn:aws:s3:::vigil-e2e-logs",
		adminUser: "arn:aws:iam::" + acct + ":user/vigil-e2e-admin", plainUser: "arn:aws:iam::" + acct + ":user/vigil-e2e-reader",
	}

	// KMS key with rotation, for the encrypted twins.
	kc := kms.NewFromConfig(cfg)
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("vigil e2e")})
	require.NoError(t, err)
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	must(kc.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyMetadata.KeyId}))

	// S3: a bucket made public by its policy, and a private, encrypted, versioned,
	// logged twin that denies plain HTTP. The log bucket only receives logs.
	sc := s3.NewFromConfig(cfg, awstest.S3Options)
	for _, b := range []string{"vigil-e2e-public", "vigil-e2e-private", "vigil-e2e-logs"} {
		must(sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))
	}
	must(sc.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("vigil-e2e-public"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::vigil-e2e-public/*"}]}`)}))
	must(sc.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("vigil-e2e-private"),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))
	must(sc.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("vigil-e2e-private"),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(keyARN)},
			BucketKeyEnabled:                   aws.Bool(true),
		}}}}))
	must(sc.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vigil-e2e-private"),
		MFA:                     aws.String("arn:aws:iam::" + acct + ":mfa/root 123456"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled, MFADelete: s3types.MFADeleteEnabled}}))
	must(sc.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("vigil-e2e-logs"),
		GrantWrite: aws.String(`uri="http://acs.amazonaws.com/groups/s3/LogDelivery"`), GrantReadACP: aws.String(`uri="http://acs.amazonaws.com/groups/s3/LogDelivery"`)}))
	must(sc.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String("vigil-e2e-private"),
		BucketLoggingStatus: &s3types.BucketLoggingStatus{LoggingEnabled: &s3types.LoggingEnabled{TargetBucket: aws.String("vigil-e2e-logs"), TargetPrefix: aws.String("private/")}}}))
	must(sc.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("vigil-e2e-private"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::vigil-e2e-private","arn:aws:s3:::vigil-e2e-private/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)}))
	must(sc.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("vigil-e2e-private"),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}))
	must(sc.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("vigil-e2e-private"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{ID: aws.String("expire"),
			Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(365)}}}}}))

	// EC2: an unencrypted volume and an encrypted twin (explicit key: moto invents a
	// key without rotation otherwise); a security group open to the world on SSH and
	// RDP, and a twin open to a private range only.
	ec := ec2.NewFromConfig(cfg)
	v1, err := ec.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1)})
	require.NoError(t, err)
	v2, err := ec.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(1),
		Encrypted: aws.Bool(true), KmsKeyId: aws.String(keyARN)})
	require.NoError(t, err)
	// The twin volume is attached to an instance (from an image registered here: the
	// server loads no default AMIs).
	img, err := ec.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("vigil-e2e"), RootDeviceName: aws.String("/dev/xvda")})
	require.NoError(t, err)
	inst, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro, Placement: &ec2types.Placement{AvailabilityZone: aws.String("us-east-1a")}})
	require.NoError(t, err)
	must(ec.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: v2.VolumeId, InstanceId: inst.Instances[0].InstanceId, Device: aws.String("/dev/sdf")}))
	e.plainVolume = "arn:aws:ec2:us-east-1:" + acct + ":volume/" + aws.ToString(v1.VolumeId)
	e.encryptedVolume = "arn:aws:ec2:us-east-1:" + acct + ":volume/" + aws.ToString(v2.VolumeId)
	open, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("vigil-e2e-open"), Description: aws.String("open")})
	require.NoError(t, err)
	restricted, err := ec.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("vigil-e2e-restricted"), Description: aws.String("restricted")})
	require.NoError(t, err)
	rule := func(port int32, cidr string) ec2types.IpPermission {
		return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String(cidr)}}}
	}
	must(ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: open.GroupId,
		IpPermissions: []ec2types.IpPermission{rule(22, "0.0.0.0/0"), rule(3389, "0.0.0.0/0")}}))
	must(ec.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: restricted.GroupId,
		IpPermissions: []ec2types.IpPermission{rule(22, "10.20.0.0/16"), rule(443, "0.0.0.0/0")}}))
	e.openSG = "arn:aws:ec2:us-east-1:" + acct + ":security-group/" + aws.ToString(open.GroupId)
	e.restrictedSG = "arn:aws:ec2:us-east-1:" + acct + ":security-group/" + aws.ToString(restricted.GroupId)

	// IAM: a user with an inline admin policy, and a twin whose permissions come from a
	// group.
	ic := iam.NewFromConfig(cfg)
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("vigil-e2e-admin")}))
	must(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("vigil-e2e-admin"), PolicyName: aws.String("everything"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("vigil-e2e-reader")}))
	must(ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("vigil-e2e-readers")}))
	must(ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("vigil-e2e-readers"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::vigil-e2e-private/*"}]}`)}))
	must(ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("vigil-e2e-readers"), UserName: aws.String("vigil-e2e-reader")}))
	return e
}

// jsonScan is the part of the json format the test reads.
type jsonScan struct {
	Summary struct {
		Total, Pass, Fail, Unknown int
	} `json:"summary"`
	UnitFailures []struct {
		Unit string `json:"unit"`
	} `json:"unit_failures"`
	Results []struct {
		CheckID      string `json:"check_id"`
		NativeID     string `json:"native_id"`
		ResourceType string `json:"resource_type"`
		Region       string `json:"region"`
		Status       string `json:"status"`
		Severity     string `json:"severity"`
		Title        string `json:"title"`
		Message      string `json:"message"`
		Reason       string `json:"reason"`
	} `json:"results"`
}

// TestScanEndToEnd scans an estate built in moto_server through the standard credential
// chain and asserts the exact failures on the resources it created. It sets process
// environment variables, so it cannot run in parallel.
func TestScanEndToEnd(t *testing.T) {
	srv := awstest.NewServer(t)
	e := seedScanEstate(t, srv)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	env := map[string]string{"VIGIL_AWS_MAX_ATTEMPTS": "2", "AWS_REGION": "us-east-1"}
	dir := t.TempDir()
	types := "aws.s3.bucket,aws.ec2.volume,aws.ec2.security_group,aws.iam.user,aws.account"
	args := []string{"scan", "--endpoint-url", srv.URL, "--regions", "us-east-1", "--types", types}

	start := time.Now()
	jsonPath := filepath.Join(dir, "scan.json")
	out, err := run(t, env, append(args, "--format", "json", "--output", jsonPath)...)
	require.NoError(t, err, out)
	t.Logf("scan of the estate took %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
	var got jsonScan
	data, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &got))
	require.Empty(t, got.UnitFailures)

	mine := map[string]string{
		e.publicBucket: "public bucket", e.privateBucket: "private bucket twin", e.logBucket: "log bucket",
		e.plainVolume: "plain volume", e.encryptedVolume: "encrypted volume twin",
		e.openSG: "open sg", e.restrictedSG: "restricted sg twin",
		e.adminUser: "admin user", e.plainUser: "plain user twin",
	}
	twins := []string{e.privateBucket, e.encryptedVolume, e.restrictedSG, e.plainUser}
	// Checks left out of the assertions, with the reason.
	excluded := map[string]string{
		"aws.s3.bucket_mfa_delete_enabled": "moto does not store MFADelete (GetBucketVersioning omits it): no bucket can pass",
	}
	seen := map[string]bool{}
	var fails, twinFails, unknowns []string
	for _, r := range got.Results {
		role, ok := mine[r.NativeID]
		if !ok {
			continue
		}
		seen[r.NativeID] = true
		require.NotEmpty(t, r.Title, r.CheckID)
		require.NotEmpty(t, r.Severity, r.CheckID)
		wantRegion := "us-east-1"
		if strings.HasPrefix(r.ResourceType, "aws.iam.") {
			wantRegion = "global"
		}
		require.Equal(t, wantRegion, r.Region, "%s on %s", r.CheckID, role)
		if _, skip := excluded[r.CheckID]; skip {
			continue
		}
		switch r.Status {
		case "fail":
			require.NotEmpty(t, r.Message, r.CheckID)
			fails = append(fails, r.CheckID+" "+role)
			if slices.Contains(twins, r.NativeID) {
				twinFails = append(twinFails, role+" fails "+r.CheckID+": "+r.Message)
			}
		case "unknown":
			unknowns = append(unknowns, r.CheckID+" "+role+": "+r.Reason)
		}
	}
	require.Len(t, seen, len(mine), "every created resource was evaluated")
	require.Empty(t, twinFails, "compliant twins have no failure")
	require.Empty(t, unknowns, "every property of the estate was collected")
	sort.Strings(fails)
	require.Equal(t, []string{
		"aws.ec2.security_group_admin_ports_ipv4_restricted open sg", // 22 and 3389 from 0.0.0.0/0
		"aws.ec2.security_group_rdp_restricted open sg",
		"aws.ec2.security_group_ssh_restricted open sg",
		"aws.ec2.volume_attached plain volume", // the twin is attached to an instance
		"aws.ec2.volume_encrypted plain volume",
		"aws.iam.user_inline_policy_no_full_admin admin user",
		"aws.iam.user_no_direct_policies admin user", // the twin gets its permissions from a group
		// The log bucket only receives access logs: it has none of the twin's settings
		// but is not public (the LogDelivery group is not "everyone").
		"aws.s3.bucket_access_logging_enabled log bucket",
		"aws.s3.bucket_access_logging_enabled public bucket",
		"aws.s3.bucket_acls_disabled log bucket",
		"aws.s3.bucket_acls_disabled public bucket",
		"aws.s3.bucket_default_encryption_kms log bucket",
		"aws.s3.bucket_default_encryption_kms public bucket",
		"aws.s3.bucket_denies_insecure_transport log bucket",
		"aws.s3.bucket_denies_insecure_transport public bucket",
		"aws.s3.bucket_lifecycle_configured log bucket",
		"aws.s3.bucket_lifecycle_configured public bucket",
		"aws.s3.bucket_no_public_read public bucket", // Principal "*" s3:GetObject in the policy
		"aws.s3.bucket_public_access_blocked log bucket",
		"aws.s3.bucket_public_access_blocked public bucket",
		"aws.s3.bucket_versioning_enabled log bucket",
		"aws.s3.bucket_versioning_enabled public bucket",
	}, fails)

	t.Run("sarif of the same run, failing on high", func(t *testing.T) {
		sarifPath := filepath.Join(dir, "scan.sarif")
		out, err := run(t, env, append(args, "--format", "sarif", "--output", sarifPath, "--fail-on", "high")...)
		require.Error(t, err, out)
		require.Equal(t, exitFindings, exitCodeOf(err))
		require.Contains(t, err.Error(), "at or above high")
		data, err := os.ReadFile(sarifPath)
		require.NoError(t, err)
		var log struct {
			Version string `json:"version"`
			Runs    []struct {
				Tool struct {
					Driver struct {
						Rules []struct {
							ID string `json:"id"`
						} `json:"rules"`
					} `json:"driver"`
				} `json:"tool"`
				Results []struct {
					RuleID    string `json:"ruleId"`
					Kind      string `json:"kind"`
					Level     string `json:"level"`
					Locations []struct {
						LogicalLocations []struct {
							FullyQualifiedName string `json:"fullyQualifiedName"`
						} `json:"logicalLocations"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		require.NoError(t, json.Unmarshal(data, &log))
		require.Equal(t, "2.1.0", log.Version)
		require.Len(t, log.Runs, 1)
		require.NotEmpty(t, log.Runs[0].Tool.Driver.Rules)
		var sarifFails []string
		for _, r := range log.Runs[0].Results {
			fqn := r.Locations[0].LogicalLocations[0].FullyQualifiedName
			if role, ok := mine[fqn]; ok && r.Kind == "fail" && excluded[r.RuleID] == "" {
				sarifFails = append(sarifFails, r.RuleID+" "+role)
			}
			if r.RuleID == "aws.s3.bucket_no_public_read" && fqn == e.publicBucket {
				require.Equal(t, "error", r.Level)
			}
		}
		sort.Strings(sarifFails)
		require.Equal(t, fails, sarifFails, "SARIF reports the same failures as JSON")
	})

	t.Run("fail-on below the failures' severity passes", func(t *testing.T) {
		// Only the medium volume check: collects only volumes and the account document.
		out, err := run(t, env, "scan", "--endpoint-url", srv.URL, "--regions", "us-east-1",
			"--checks", "aws.ec2.volume_encrypted", "--fail-on", "critical", "--format", "csv")
		require.NoError(t, err, out)
		require.Contains(t, out, "aws.ec2.volume_encrypted,EBS volume is encrypted,medium,fail,aws.ec2.volume,"+e.plainVolume)
		require.Contains(t, out, "aws.ec2.volume_encrypted,EBS volume is encrypted,medium,pass,aws.ec2.volume,"+e.encryptedVolume)
		require.Contains(t, out, " resources from 2 units ", "volumes and the account only")
		out, err = run(t, env, "scan", "--endpoint-url", srv.URL, "--regions", "us-east-1",
			"--checks", "aws.ec2.volume_encrypted", "--fail-on", "medium", "--format", "table")
		require.Equal(t, exitFindings, exitCodeOf(err), out)
		// The plain volume and the instance's root volume, which moto creates unencrypted.
		require.Contains(t, out, "MEDIUM (2)")
		require.Contains(t, out, e.plainVolume)
	})

	t.Run("a failed unit is reported and exits 2", func(t *testing.T) {
		// moto does not implement Access Analyzer: its unit fails.
		out, err := run(t, env, "scan", "--endpoint-url", srv.URL, "--regions", "us-east-1",
			"--types", "aws.ec2.security_group,aws.accessanalyzer.analyzer", "--format", "json", "--output", filepath.Join(dir, "partial.json"))
		require.Equal(t, exitPartial, exitCodeOf(err), out)
		require.Contains(t, out, "unit accessanalyzer_analyzers@us-east-1 failed")
		var partial jsonScan
		data, err := os.ReadFile(filepath.Join(dir, "partial.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &partial))
		require.Len(t, partial.UnitFailures, 1)
		require.Equal(t, "accessanalyzer_analyzers@us-east-1", partial.UnitFailures[0].Unit)
		require.NotEmpty(t, partial.Results, "the security groups are still evaluated")
	})

	t.Run("inventory", func(t *testing.T) {
		jsonl := filepath.Join(dir, "inventory.jsonl")
		out, err := run(t, env, "inventory", "--endpoint-url", srv.URL, "--regions", "us-east-1",
			"--types", "aws.ec2.security_group,aws.iam.user", "--output", jsonl)
		require.NoError(t, err, out)
		data, err := os.ReadFile(jsonl)
		require.NoError(t, err)
		ids := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var r struct {
				NativeID   string         `json:"native_id"`
				Type       string         `json:"type"`
				Properties map[string]any `json:"properties"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &r), line)
			require.NotEmpty(t, r.Properties)
			ids[r.NativeID] = r.Type
		}
		for _, id := range []string{e.openSG, e.restrictedSG} {
			require.Equal(t, "aws.ec2.security_group", ids[id])
		}
		for _, id := range []string{e.adminUser, e.plainUser} {
			require.Equal(t, "aws.iam.user", ids[id])
		}

		out, err = run(t, env, "inventory", "--endpoint-url", srv.URL, "--regions", "us-east-1",
			"--types", "aws.ec2.security_group", "--format", "table")
		require.NoError(t, err, out)
		require.Regexp(t, `(?m)^aws\.ec2\.security_group\s+us-east-1\s+vigil-e2e-open\s+`+regexp.QuoteMeta(e.openSG)+`\s+0$`, out)

		out, err = run(t, env, "inventory", "--endpoint-url", srv.URL, "--regions", "us-east-1",
			"--types", "aws.accessanalyzer.analyzer", "--format", "table")
		require.Equal(t, exitPartial, exitCodeOf(err), out)
		require.ErrorContains(t, err, "1 of 1 collection units failed")
		require.Contains(t, out, "unit accessanalyzer_analyzers@us-east-1 failed")
	})
}
