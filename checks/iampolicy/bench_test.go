package iampolicy

import (
	"fmt"
	"testing"
)

// sensitiveActions is a fixed set of 50 actions an effective-permissions scan checks
// for every principal.
var sensitiveActions = []string{
	"iam:PassRole", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachUserPolicy",
	"iam:AttachRolePolicy", "iam:AttachGroupPolicy", "iam:PutUserPolicy", "iam:PutRolePolicy",
	"iam:PutGroupPolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile",
	"iam:UpdateAssumeRolePolicy", "iam:AddUserToGroup", "iam:CreateUser", "iam:DeleteUser",
	"iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary", "sts:AssumeRole",
	"ec2:RunInstances", "ec2:ModifySnapshotAttribute", "ec2:ModifyImageAttribute", "ec2:AuthorizeSecurityGroupIngress",
	"ec2:DeleteFlowLogs", "lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:AddPermission",
	"lambda:InvokeFunction", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy",
	"s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock", "s3:DeleteBucket", "kms:Decrypt", "kms:CreateGrant",
	"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "secretsmanager:GetSecretValue", "ssm:GetParameter",
	"cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "guardduty:DeleteDetector", "config:StopConfigurationRecorder",
	"logs:DeleteLogGroup", "rds:ModifyDBInstance", "dynamodb:Scan", "organizations:LeaveOrganization", "sns:Publish",
}

// principalPolicies builds 20 identity policies of mixed shapes for principal i.
func principalPolicies(i int) []NamedPolicy {
	out := make([]NamedPolicy, 0, 20)
	for j := 0; j < 20; j++ {
		var doc string
		switch j % 5 {
		case 0:
			doc = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::bucket-%d","arn:aws:s3:::bucket-%d/*"]}]}`, i, i)
		case 1:
			doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","ec2:RunInstances","ec2:TerminateInstances"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}`
		case 2:
			doc = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-%d-*"},{"Effect":"Allow","Action":["lambda:*"],"Resource":"arn:aws:lambda:*:111122223333:function:app-%d-*"}]}`, i, i)
		case 3:
			doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:Stop*","cloudtrail:Delete*","guardduty:Delete*"],"Resource":"*"},{"Effect":"Allow","Action":["logs:*","cloudwatch:*"],"Resource":"*"}]}`
		default:
			doc = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt","secretsmanager:GetSecretValue"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}]}`, i%7)
		}
		out = append(out, NamedPolicy{Name: fmt.Sprintf("p%d-%d", i, j), Policy: MustParse(doc)})
	}
	return out
}

// BenchmarkEffectivePermissions evaluates 50 sensitive actions for 5,000 principals
// with 20 policies each (one iteration = the whole estate: 250,000 decisions).
func BenchmarkEffectivePermissions(b *testing.B) {
	const principals = 5000
	sets := make([]PolicySet, principals)
	reqs := make([]RequestPrincipal, principals)
	for i := range sets {
		sets[i] = PolicySet{IdentityPolicies: principalPolicies(i)}
		reqs[i] = RequestPrincipal{ARN: fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", i), Type: PrincipalUser,
			Tags: map[string]string{"team": fmt.Sprintf("t%d", i%7)}}
	}
	ctxv := map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}
	b.ReportAllocs()
	b.ResetTimer()
	allowed := 0
	for n := 0; n < b.N; n++ {
		for i := range sets {
			for _, a := range sensitiveActions {
				d := Evaluate(Request{Principal: reqs[i], Action: a, Resource: "*", Context: ctxv}, sets[i])
				if d.Allowed {
					allowed++
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*principals*len(sensitiveActions)), "ns/decision")
	if allowed == 0 {
		b.Fatal("no action allowed: the benchmark measures nothing")
	}
}

// BenchmarkParse measures parsing a mid-sized policy.
func BenchmarkParse(b *testing.B) {
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}},{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}]}`
	b.ReportAllocs()
	for n := 0; n < b.N; n++ {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}
