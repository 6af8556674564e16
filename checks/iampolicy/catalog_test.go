package iampolicy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCatalog(t *testing.T) {
	t.Parallel()
	c := DefaultCatalog()
	services := c.Services()
	require.GreaterOrEqual(t, len(services), 30)
	for _, s := range []string{"iam", "s3", "ec2", "kms", "sts", "lambda", "cloudwatch", "logs", "es", "access-analyzer"} {
		require.Contains(t, services, s)
	}
	for _, s := range []string{"sso", "signin", "sso-oauth", "monitoring"} {
		require.NotContains(t, services, s)
	}

	levels := map[string]AccessLevel{
		"iam:PassRole":                   LevelPermissions,
		"iam:AttachUserPolicy":           LevelPermissions,
		"iam:CreatePolicyVersion":        LevelPermissions,
		"iam:ListUsers":                  LevelList,
		"iam:GetUser":                    LevelRead,
		"iam:TagRole":                    LevelTagging,
		"iam:CreateAccessKey":            LevelWrite,
		"s3:GetObject":                   LevelRead,
		"s3:ListBucket":                  LevelList,
		"s3:PutBucketPolicy":             LevelPermissions,
		"s3:PutBucketAcl":                LevelPermissions,
		"s3:GetBucketPolicy":             LevelRead,
		"s3:PutObject":                   LevelWrite,
		"s3:PutObjectTagging":            LevelTagging,
		"s3:GetObjectVersion":            LevelRead,
		"ec2:RunInstances":               LevelWrite,
		"ec2:DescribeInstances":          LevelList,
		"ec2:CreateTags":                 LevelTagging,
		"ec2:CreateNetworkAcl":           LevelWrite,
		"ec2:ModifySnapshotAttribute":    LevelPermissions,
		"kms:CreateGrant":                LevelPermissions,
		"kms:Decrypt":                    LevelWrite,
		"sts:AssumeRole":                 LevelWrite,
		"sts:GetCallerIdentity":          LevelRead,
		"lambda:InvokeFunction":          LevelWrite,
		"lambda:AddPermission":           LevelPermissions,
		"apigateway:GET":                 LevelRead,
		"s3:PutAccountPublicAccessBlock": LevelPermissions,
	}
	for action, want := range levels {
		a, ok := c.Lookup(action)
		require.True(t, ok, "catalog lacks %s", action)
		require.Equal(t, want, a.Level, action)
	}
	// Operation names that are not IAM actions were renamed away.
	for _, absent := range []string{"s3:ListObjectsV2", "s3:HeadObject", "lambda:Invoke", "s3:CreateSession", "apigateway:GetRestApis"} {
		_, ok := c.Lookup(absent)
		require.False(t, ok, absent)
	}
	a, ok := c.Lookup("S3:GETOBJECT")
	require.True(t, ok)
	require.Equal(t, "s3:GetObject", a.String())
}

func TestExpandActions(t *testing.T) {
	t.Parallel()
	got := ExpandActions("s3:GetObject*")
	require.Contains(t, got, "s3:GetObject")
	require.Contains(t, got, "s3:GetObjectAcl")
	require.Contains(t, got, "s3:GetObjectVersion")
	require.NotContains(t, got, "s3:PutObject")
	for _, a := range got {
		require.True(t, glob("s3:getobject*", strings.ToLower(a)), a)
	}
	require.Equal(t, []string{"sts:AssumeRole"}, ExpandActions("STS:assumerole"))
	require.Empty(t, ExpandActions("nosuchservice:*"))
	require.Empty(t, ExpandActions("not-an-action"))
	all := ExpandActions("*")
	require.Len(t, all, len(ExpandActions("*:*")))
	require.Greater(t, len(all), 3000)
	iamList := ExpandActions("iam:List*")
	require.Greater(t, len(iamList), 30)
	describe := ExpandActions("*:Describe*")
	require.Contains(t, describe, "ec2:DescribeInstances")
	require.Contains(t, describe, "rds:DescribeDBInstances")
}

func TestLevels(t *testing.T) {
	t.Parallel()
	c := DefaultCatalog()
	require.Equal(t, []AccessLevel{LevelRead}, c.Levels("s3:GetObject"))
	require.Equal(t, AllAccessLevels(), c.Levels("*"))
	require.Equal(t, []AccessLevel{LevelList, LevelRead}, c.Levels("s3:List*", "s3:GetObject"))
	require.Empty(t, c.Levels("unknown:*"))
}

func TestAllowedActions(t *testing.T) {
	t.Parallel()
	p := MustParse(`{"Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"},{"Effect":"Deny","Action":"sts:Get*","Resource":"*"}]}`)
	got := p.AllowedActions(DefaultCatalog(), "*")
	require.Contains(t, got, "sts:AssumeRole")
	require.Contains(t, got, "sts:TagSession")
	require.NotContains(t, got, "sts:GetCallerIdentity")
	for _, a := range got {
		require.True(t, len(a) > 4 && a[:4] == "sts:", a)
	}
}

func TestLoadCatalogRejectsUnknownLevel(t *testing.T) {
	t.Parallel()
	_, err := LoadCatalog([]byte(`{"services":{"s3":{"GetObject":"Sometimes"}}}`))
	require.ErrorContains(t, err, `unknown access level "Sometimes"`)
	_, err = LoadCatalog([]byte(`{`))
	require.Error(t, err)
}
