package iamgraph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/iamgraph"
	"github.com/vigilsec/vigil/providers"
	vigilaws "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/providers/aws/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestAnalyzeMotoEstate creates an IAM estate on moto_server through the AWS SDK, collects
// it with the real AWS collectors, runs every analyzer and asserts the exact set of
// failing findings.
func TestAnalyzeMotoEstate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := awstest.NewServer(t)
	cfg := srv.Config(t, "us-east-1")
	ic := iam.NewFromConfig(cfg)
	must := func(_ any, err error) {
		t.Helper()
		require.NoError(t, err)
	}
	policy := func(name, doc string) *string {
		out, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		require.NoError(t, err)
		return out.Policy.Arn
	}
	admin := policy("admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	cpv := policy("policy-editor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreatePolicyVersion","iam:GetPolicy","iam:ListPolicies"],"Resource":"*"}]}`)
	s3only := policy("s3-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`)

	// An administrator.
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("root-like")}))
	must(ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("root-like"), PolicyArn: admin}))
	// A user who can rewrite the policy attached to it.
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("editor")}))
	must(ic.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("editor"), PolicyArn: cpv}))
	// The same permissions under a boundary that does not allow them. A role: moto
	// 5.2 ignores user permissions boundaries (its user model has a ToDo for them),
	// and supports role boundaries.
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bounded"), PermissionsBoundary: s3only,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
	must(ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("bounded"), PolicyArn: cpv}))
	// A role a vendor account may assume without an external id.
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("vendor"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`)}))
	// A role the same vendor may assume with an external id, reading S3.
	must(ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("vendor-safe"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"vigil-7f3a"}}}]}`)}))
	must(ic.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("vendor-safe"), PolicyArn: s3only}))
	// A safe user in a group with read access.
	must(ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}))
	must(ic.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("readers"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`)}))
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("analyst")}))
	must(ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("readers"), UserName: aws.String("analyst")}))

	p, err := vigilaws.New(ctx, vigilaws.Config{AWS: cfg, Regions: []string{"us-east-1"},
		Types: []string{vigilaws.TypeIAMUser, vigilaws.TypeIAMGroup, vigilaws.TypeIAMRole, vigilaws.TypeIAMPolicy, vigilaws.TypeAccount}})
	require.NoError(t, err)
	var docs []providers.Resource
	results, err := vigilaws.CollectAll(ctx, p, func(_ context.Context, r providers.Resource) error {
		docs = append(docs, r)
		return nil
	})
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r.Err, r.Unit.String())
	}

	g, err := iamgraph.Build(docs, iamgraph.BuildConfig{})
	require.NoError(t, err)
	require.Len(t, g.Principals, 6)
	bounded := g.Principal("arn:aws:iam::" + awstest.AccountID + ":role/bounded")
	require.NotNil(t, bounded)
	require.Equal(t, *s3only, bounded.BoundaryARN, "the collector reports the boundary")
	require.Equal(t, []string{"arn:aws:iam::" + awstest.AccountID + ":group/readers"}, g.Principal("arn:aws:iam::"+awstest.AccountID+":user/analyst").Groups)

	findings, err := iamgraph.Analyze(ctx, g, iamgraph.Config{NowFunc: time.Now})
	require.NoError(t, err)
	var failing []string
	perCheck := map[string]int{}
	for _, f := range findings {
		perCheck[f.CheckID]++
		require.NotEqual(t, iamgraph.StatusUnknown, f.Status, "%s %s: %s", f.CheckID, f.ResourceNativeID, f.Message)
		if f.Status == iamgraph.StatusFail {
			failing = append(failing, f.CheckID+" "+f.ResourceNativeID)
		}
	}
	sort.Strings(failing)
	arn := func(kind, name string) string { return "arn:aws:iam::" + awstest.AccountID + ":" + kind + "/" + name }
	require.Equal(t, []string{
		iamgraph.IDAdminEquivalent + " " + arn("user", "root-like"),
		iamgraph.IDPrivilegeEscalation + " " + arn("user", "editor"),
		iamgraph.IDTrustExternalNoExtID + " " + arn("role", "vendor"),
	}, failing)
	// Every principal has a finding of every analyzer that covers it.
	require.Equal(t, map[string]int{
		iamgraph.IDAdminEquivalent: 6, iamgraph.IDPrivilegeEscalation: 6, iamgraph.IDEscalationChain: 6,
		iamgraph.IDTrustAnyPrincipal: 3, iamgraph.IDTrustExternalNoExtID: 3, iamgraph.IDTrustOIDCUnrestrict: 3,
		iamgraph.IDUserUnused: 3, iamgraph.IDAccessKeyUnused: 3, iamgraph.IDRoleUnused: 3,
	}, perCheck)
	for _, f := range findings {
		if f.CheckID == iamgraph.IDPrivilegeEscalation && f.Status == iamgraph.StatusFail {
			methods := f.Evidence["methods"].([]any)
			require.Len(t, methods, 1)
			m := methods[0].(map[string]any)
			require.Equal(t, "iam-create-policy-version", m["method"])
			require.Equal(t, []any{*cpv}, m["targets"])
		}
	}

	// Who can read the reports bucket? The administrator and the analyst (through
	// its group), and the vendor role (s3:Get* on everything); the bounded role's
	// boundary allows s3:Get* but its policies do not.
	var who []string
	for _, a := range iamgraph.WhoCan(g, []string{"s3:GetObject"}, "arn:aws:s3:::reports/q3.pdf", nil) {
		who = append(who, a.Principal)
	}
	require.Equal(t, []string{arn("role", "vendor-safe"), arn("user", "analyst"), arn("user", "root-like")}, who)
}

// TestServiceLastAccessedThroughSDK serves the IAM wire response of
// GetServiceLastAccessedDetails (query protocol XML, testdata/service-last-accessed.xml,
// written from the IAM API reference: moto_server does not implement the call) to the
// real SDK client, marshals the SDK output struct to JSON as a collector would, and
// checks that ParseServiceLastAccessed reads the same data as the AWS CLI JSON form
// (testdata/service-last-accessed.json).
func TestServiceLastAccessedThroughSDK(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/service-last-accessed.xml")
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "GetServiceLastAccessedDetails" || r.Form.Get("JobId") != "job-1" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	client := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	out, err := client.GetServiceLastAccessedDetails(context.Background(), &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("job-1")})
	require.NoError(t, err)
	asJSON, err := json.Marshal(out)
	require.NoError(t, err)
	fromSDK, err := iamgraph.ParseServiceLastAccessed(asJSON)
	require.NoError(t, err)

	cli, err := os.ReadFile("testdata/service-last-accessed.json")
	require.NoError(t, err)
	fromCLI, err := iamgraph.ParseServiceLastAccessed(cli)
	require.NoError(t, err)
	require.Equal(t, "COMPLETED", fromSDK.JobStatus)
	require.Len(t, fromSDK.ServicesLastAccessed, 5)
	for i, s := range fromSDK.ServicesLastAccessed {
		c := fromCLI.ServicesLastAccessed[i]
		require.Equal(t, c.ServiceNamespace, s.ServiceNamespace)
		require.Equal(t, c.LastAuthenticated == nil, s.LastAuthenticated == nil, s.ServiceNamespace)
		if c.LastAuthenticated != nil {
			require.True(t, c.LastAuthenticated.Equal(*s.LastAuthenticated), s.ServiceNamespace)
		}
	}
	cutoff := time.Date(2026, 8, 24, 0, 0, 0, 0, time.UTC) // 90 days before 2026-11-22
	used, unused := fromSDK.UsedServices(cutoff)
	require.Equal(t, []string{"kms", "s3"}, used)
	require.Equal(t, []string{"dynamodb", "ec2", "sqs"}, unused)
}
