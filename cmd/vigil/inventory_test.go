package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
)

// openSG is a security group document open to the world on SSH.
func openSG(id, region string) providers.Resource {
	return providers.Resource{Provider: "aws", AccountID: "123456789012", Type: "aws.ec2.security_group", Region: region,
		NativeID: "arn:aws:ec2:" + region + ":123456789012:security-group/" + id, Name: id, Tags: map[string]string{},
		Properties: map[string]any{"GroupId": id, "GroupName": id, "IpPermissions": []any{map[string]any{
			"IpProtocol": "tcp", "FromPort": 22.0, "ToPort": 22.0, "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}}}}}
}

func TestEvaluateScanCollectionGaps(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	bucket := providers.Resource{Provider: "aws", AccountID: "123456789012", Type: "aws.s3.bucket", Region: "us-east-1",
		NativeID: "arn:aws:s3:::b1", Name: "b1", Properties: map[string]any{"Name": "b1"}}
	docs := []providers.Resource{openSG("sg-use1", "us-east-1"), openSG("sg-euw1", "eu-west-1"), bucket}
	unit := func(collector, region string, types []string, err error) awsprov.UnitResult {
		return awsprov.UnitResult{Unit: providers.Unit{Collector: collector, Region: region, Types: types}, Err: err}
	}
	denied := &providers.CloudError{Kind: providers.KindAccessDenied, Operation: "ec2:DescribeSecurityGroups", Err: errors.New("AccessDenied")}
	units := []awsprov.UnitResult{
		unit("ec2_security_groups", "us-east-1", []string{"aws.ec2.security_group"}, nil),
		// Failed after emitting a document: its resources must not be evaluated.
		unit("ec2_security_groups", "eu-west-1", []string{"aws.ec2.security_group"}, denied),
		// A global unit's failure covers its types in every region.
		unit("s3_buckets", "global", []string{"aws.s3.bucket"}, errors.New("throttled")),
	}
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

	run, err := evaluateScan(context.Background(), reg, nil, docs, units, now)
	require.NoError(t, err)
	require.Equal(t, 2, run.Skipped)
	require.Len(t, run.Failed, 2)
	require.Equal(t, "ec2_security_groups@eu-west-1", run.Failed[0].Unit)
	require.Equal(t, string(providers.KindAccessDenied), run.Failed[0].Kind)
	require.Equal(t, "s3_buckets@global", run.Failed[1].Unit)
	require.Equal(t, now, run.Time)
	ssh := 0
	for _, f := range run.Findings {
		require.Equal(t, docs[0].NativeID, f.NativeID, "only the resource of the completed unit is evaluated (%s)", f.CheckID)
		require.NotEmpty(t, f.Title)
		if f.CheckID == "aws.ec2.security_group_ssh_restricted" {
			ssh++
			require.Equal(t, checks.StatusFail, f.Status)
			require.Equal(t, checks.SeverityHigh, f.Severity)
		}
	}
	require.Equal(t, 1, ssh)
	for _, c := range run.Checks {
		require.Contains(t, []string{"aws.ec2.security_group", "aws.s3.bucket"}, c.Resource, "checks of the planned types only")
	}

	// A selection keeps only its checks' results.
	sel, err := selectChecks(reg, []string{"aws.ec2.security_group_rdp_restricted"}, "")
	require.NoError(t, err)
	run, err = evaluateScan(context.Background(), reg, sel, docs, units[:1], now)
	require.NoError(t, err)
	require.Len(t, run.Findings, 2, "both groups: no unit failed this time")
	for _, f := range run.Findings {
		require.Equal(t, "aws.ec2.security_group_rdp_restricted", f.CheckID)
		require.Equal(t, checks.StatusPass, f.Status)
	}
	require.Len(t, run.Checks, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = evaluateScan(ctx, reg, nil, docs, units, now)
	require.ErrorIs(t, err, context.Canceled)
}

func TestSelectChecks(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	all, err := selectChecks(reg, nil, "")
	require.NoError(t, err)
	require.Nil(t, all, "no selection: every check")
	fw, err := selectChecks(reg, nil, "cis-aws-5.0")
	require.NoError(t, err)
	require.NotEmpty(t, fw)
	_, err = selectChecks(reg, []string{"aws.s3.bucket_no_public_read", "aws.nope.x"}, "")
	require.ErrorContains(t, err, "unknown check ids aws.nope.x")
	_, err = selectChecks(reg, nil, "pci")
	require.ErrorContains(t, err, `--framework "pci": unknown`)
	_, err = selectChecks(reg, []string{"a"}, "cis-aws-5.0")
	require.ErrorContains(t, err, "not both")
}

func TestScanAndInventoryFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"scan", "--format", "xml"}, nil, `unknown format "xml"`},
		{[]string{"scan", "--fail-on", "urgent"}, nil, `--fail-on "urgent"`},
		{[]string{"scan", "--checks", "aws.nope.x"}, nil, "unknown check ids aws.nope.x"},
		{[]string{"scan", "--checks", "a", "--framework", "b"}, nil, "none of the others can be"},
		{[]string{"scan", "--provider", "gcp"}, nil, `only "aws" is supported`},
		{[]string{"inventory", "--format", "csv"}, nil, `--format "csv": want jsonl or table`},
		{[]string{"inventory", "--provider", "azure"}, nil, `only "aws" is supported`},
		{[]string{"inventory"}, map[string]string{"VIGIL_AWS_MAX_ATTEMPTS": "zero"}, "VIGIL_AWS_MAX_ATTEMPTS"},
	} {
		_, err := run(t, tc.env, tc.args...)
		require.ErrorContains(t, err, tc.want, tc.args)
		require.Equal(t, 1, exitCodeOf(err))
	}
}
