package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sampleRun is a run with every status, several severities, a check missing from the
// rules, a failed unit and values that need escaping in each format.
func sampleRun() *Run {
	bucketCheck := &checks.Check{
		ID: "aws.s3.bucket_no_public_read", Title: "S3 bucket does not allow public read access", Severity: checks.SeverityCritical,
		Resource: "aws.s3.bucket", Description: "Checks the bucket policy and ACL.\n", Risk: "Anyone can read the data.",
		Remediation: checks.Remediation{Text: "Remove the public grant.", CLI: "aws s3api delete-bucket-policy --bucket {{.Name}}"},
		References:  []string{"https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"},
		Compliance:  map[string][]string{"cis-aws-5.0": {"2.1.4"}, "aws-fsbp": {"S3.2", "S3.8"}},
	}
	sgCheck := &checks.Check{
		ID: "aws.ec2.security_group_ssh_restricted", Title: "Security group does not expose SSH to the internet", Severity: checks.SeverityHigh,
		Resource: "aws.ec2.security_group", Description: "Checks inbound rules for port 22.", Risk: "Brute force.",
		Remediation: checks.Remediation{Text: "Remove the rule."},
		Compliance:  map[string][]string{"aws-fsbp": {"EC2.13"}},
	}
	volCheck := &checks.Check{
		ID: "aws.ec2.volume_encrypted", Title: "EBS volume is encrypted", Severity: checks.SeverityMedium,
		Resource: "aws.ec2.volume", Description: "Checks Encrypted.", Risk: "Snapshots leak.",
		Remediation: checks.Remediation{Text: "Copy into an encrypted volume."},
	}
	res := func(typ, id, name, region string) Finding {
		return Finding{Provider: "aws", AccountID: "123456789012", ResourceType: typ, NativeID: id, ResourceName: name, Region: region}
	}
	with := func(f Finding, c *checks.Check, st checks.Status, msg, reason string) Finding {
		f.CheckID, f.Title, f.Severity, f.Status, f.Message, f.Reason = c.ID, c.Title, c.Severity, st, msg, reason
		return f
	}
	pub := res("aws.s3.bucket", "arn:aws:s3:::public-data", "public-data", "us-east-1")
	priv := res("aws.s3.bucket", "arn:aws:s3:::=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")", "us-east-1")
	sg := res("aws.ec2.security_group", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0a1", "ssh open", "us-east-1")
	vol := res("aws.ec2.volume", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1", "vol-1", "us-east-1")
	pubFail := with(pub, bucketCheck, checks.StatusFail, `bucket public-data grants s3:GetObject to "*" & <anyone>`, "")
	pubFail.Evidence = map[string]any{"resource.properties.Policy": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Principal": "*"}}}}
	return &Run{
		Tool:   Tool{Name: "Vigil", Version: "1.2.3", InformationURI: "https://github.com/vigilsec/vigil"},
		Time:   time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC),
		Checks: []*checks.Check{bucketCheck, sgCheck, volCheck},
		Findings: []Finding{
			with(priv, bucketCheck, checks.StatusPass, "", ""),
			with(vol, volCheck, checks.StatusUnknown, "", "depends on properties that were not collected: resource.properties.Encrypted (ec2:DescribeVolumes: access_denied: denied)"),
			with(sg, sgCheck, checks.StatusFail, "security group ssh open allows SSH (port 22)\nfrom the internet", ""),
			pubFail,
			// A result of a check that is not among the run's checks (e.g. an analyzer).
			{CheckID: "aws.iam.user_privilege_escalation", Title: "User cannot escalate privileges", Severity: checks.SeverityLow,
				Status: checks.StatusFail, Message: "user bob can escalate", Provider: "aws", AccountID: "123456789012",
				NativeID: "arn:aws:iam::123456789012:user/bob", ResourceType: "aws.iam.user", ResourceName: "bob", Region: "global"},
		},
		Failed: []UnitFailure{{Unit: "ec2_volumes@eu-west-1", Region: "eu-west-1", Types: []string{"aws.ec2.volume"},
			Kind: "access_denied", Error: "collect ec2_volumes@eu-west-1: ec2:DescribeVolumes: AccessDenied"}},
		Skipped: 2,
	}
}

func TestWriteGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		format Format
		run    func() *Run
	}{
		{"table", FormatTable, sampleRun},
		{"json", FormatJSON, sampleRun},
		{"csv", FormatCSV, sampleRun},
		{"sarif", FormatSARIF, sampleRun},
		{"ocsf", FormatOCSF, sampleRun},
		{"table_clean", FormatTable, func() *Run {
			r := sampleRun()
			r.Findings, r.Failed, r.Skipped = r.Findings[:1], nil, 0
			return r
		}},
		{"json_empty", FormatJSON, func() *Run { return &Run{Tool: Tool{Name: "Vigil", Version: "dev"}, Time: time.Unix(0, 0)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, tc.format, tc.run()))
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./report -update to create the golden files")
			require.Equal(t, string(want), buf.String())
		})
	}
}

func TestSARIF(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, FormatSARIF, sampleRun()))

	t.Run("valid against the SARIF 2.1.0 subset schema", func(t *testing.T) {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		schema, err := c.Compile(filepath.Join("testdata", "sarif-2.1.0-subset.schema.json"))
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err)
		require.NoError(t, schema.Validate(inst))

		// The schema is not a rubber stamp: a misspelt property and a bad level fail.
		for _, bad := range []string{
			strings.Replace(buf.String(), `"informationUri"`, `"informationURI"`, 1),
			strings.Replace(buf.String(), `"level": "error"`, `"level": "critical"`, 1),
			strings.Replace(buf.String(), `"version": "2.1.0"`, `"version": "2.0.0"`, 1),
		} {
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
			require.NoError(t, err)
			require.Error(t, schema.Validate(inst))
		}
	})

	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct{ Text string }
						FullDescription  struct{ Text string }
						Help             struct{ Text string }
						Properties       map[string]any
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct{ Message struct{ Text string } }
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Kind      string `json:"kind"`
				Message   struct{ Text string }
				Locations []struct {
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
						Kind               string `json:"kind"`
					} `json:"logicalLocations"`
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &log))
	require.Equal(t, "2.1.0", log.Version)
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	require.Equal(t, "Vigil", run.Tool.Driver.Name)

	rules := run.Tool.Driver.Rules
	require.Len(t, rules, 4, "three checks of the run plus the analyzer finding's check")
	sev := map[string]string{}
	for _, r := range rules {
		sev[r.ID] = r.Properties["security-severity"].(string)
	}
	require.Equal(t, map[string]string{
		"aws.s3.bucket_no_public_read": "9.5", "aws.ec2.security_group_ssh_restricted": "8.0",
		"aws.ec2.volume_encrypted": "5.5", "aws.iam.user_privilege_escalation": "3.0",
	}, sev)
	require.Equal(t, "S3 bucket does not allow public read access", rules[0].ShortDescription.Text)
	require.Equal(t, "Checks the bucket policy and ACL.", rules[0].FullDescription.Text)
	require.Contains(t, rules[0].Help.Text, "Remove the public grant.")

	type got struct{ rule, level, kind, fqn string }
	var results []got
	for _, r := range run.Results {
		require.Equal(t, r.RuleID, rules[r.RuleIndex].ID, "ruleIndex points at the rule")
		require.Len(t, r.Locations, 1)
		require.Len(t, r.Locations[0].LogicalLocations, 1)
		ll := r.Locations[0].LogicalLocations[0]
		require.Equal(t, "resource", ll.Kind)
		require.NotEmpty(t, r.Locations[0].PhysicalLocation.ArtifactLocation.URI, "GitHub code scanning needs a physical location")
		results = append(results, got{r.RuleID, r.Level, r.Kind, ll.FullyQualifiedName})
	}
	require.Equal(t, []got{
		{"aws.s3.bucket_no_public_read", "error", "fail", "arn:aws:s3:::public-data"},
		{"aws.ec2.security_group_ssh_restricted", "error", "fail", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0a1"},
		{"aws.iam.user_privilege_escalation", "note", "fail", "arn:aws:iam::123456789012:user/bob"},
		{"aws.ec2.volume_encrypted", "note", "review", "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"},
	}, results, "failures by severity, then unknowns; no passes")
	require.Len(t, run.Invocations, 1)
	require.False(t, run.Invocations[0].ExecutionSuccessful, "a unit failed")
	require.Len(t, run.Invocations[0].ToolExecutionNotifications, 1)
	require.Contains(t, run.Invocations[0].ToolExecutionNotifications[0].Message.Text, "ec2_volumes@eu-west-1")
}

func TestSARIFLevels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sev   checks.Severity
		level string
		score float64
	}{
		{checks.SeverityCritical, "error", 9.5},
		{checks.SeverityHigh, "error", 8},
		{checks.SeverityMedium, "warning", 5.5},
		{checks.SeverityLow, "note", 3},
		{checks.SeverityInfo, "note", 0},
	} {
		require.Equal(t, tc.level, SARIFLevel(tc.sev), tc.sev)
		require.InDelta(t, tc.score, SecuritySeverity(tc.sev), 0, tc.sev)
	}
}

func TestOCSF(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := sampleRun()
	require.NoError(t, Write(&buf, FormatOCSF, r))
	var findings []map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &findings))
	require.Len(t, findings, len(r.Findings), "one finding per result, passes included")

	type got struct {
		check, status   string
		compliance      float64
		severity        float64
		resourceUID     string
		standards       []any
		hasRemediation  bool
		hasFindingDescr bool
	}
	var list []got
	for _, f := range findings {
		require.EqualValues(t, 2003, f["class_uid"])
		require.EqualValues(t, 2, f["category_uid"])
		require.EqualValues(t, 1, f["activity_id"])
		require.EqualValues(t, 200301, f["type_uid"])
		require.EqualValues(t, 1, f["status_id"])
		require.Equal(t, "New", f["status"])
		require.EqualValues(t, r.Time.UnixMilli(), f["time"])
		md := f["metadata"].(map[string]any)
		require.Equal(t, "1.1.0", md["version"])
		require.Equal(t, map[string]any{"name": "Vigil", "vendor_name": "Vigil", "version": "1.2.3"}, md["product"])
		cloud := f["cloud"].(map[string]any)
		require.Equal(t, "AWS", cloud["provider"])
		require.Equal(t, map[string]any{"uid": "123456789012"}, cloud["account"])
		comp := f["compliance"].(map[string]any)
		info := f["finding_info"].(map[string]any)
		res := f["resources"].([]any)
		require.Len(t, res, 1)
		rm := res[0].(map[string]any)
		require.NotEmpty(t, rm["type"])
		require.Len(t, info["uid"], 32)
		require.NotEmpty(t, info["title"])
		_, hasRem := f["remediation"]
		_, hasDesc := info["desc"]
		list = append(list, got{comp["control"].(string), comp["status"].(string), comp["status_id"].(float64),
			f["severity_id"].(float64), rm["uid"].(string), comp["standards"].([]any), hasRem, hasDesc})
	}
	require.Equal(t, []got{
		{"aws.s3.bucket_no_public_read", "Fail", 3, 5, "arn:aws:s3:::public-data", []any{"aws-fsbp", "cis-aws-5.0"}, true, true},
		{"aws.ec2.security_group_ssh_restricted", "Fail", 3, 4, "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0a1", []any{"aws-fsbp"}, true, true},
		{"aws.iam.user_privilege_escalation", "Fail", 3, 2, "arn:aws:iam::123456789012:user/bob", []any{}, false, false},
		{"aws.ec2.volume_encrypted", "Unknown", 0, 3, "arn:aws:ec2:us-east-1:123456789012:volume/vol-1", []any{}, true, true},
		{"aws.s3.bucket_no_public_read", "Pass", 1, 5, "arn:aws:s3:::=HYPERLINK(\"x\")", []any{"aws-fsbp", "cis-aws-5.0"}, true, true},
	}, list)
	require.Equal(t, []any{"aws-fsbp:S3.2", "aws-fsbp:S3.8", "cis-aws-5.0:2.1.4"}, findings[0]["compliance"].(map[string]any)["requirements"])
	require.Equal(t, FindingUID("aws.s3.bucket_no_public_read", "arn:aws:s3:::public-data"), findings[0]["finding_info"].(map[string]any)["uid"])
}

func TestCSV(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := sampleRun()
	require.NoError(t, Write(&buf, FormatCSV, r))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(r.Findings)+1)
	require.Equal(t, csvHeader, rows[0])
	last := rows[len(rows)-1]
	require.Equal(t, "pass", last[3])
	require.Equal(t, `'=HYPERLINK("x")`, last[6], "formula-looking cells are defused")
	require.Equal(t, "security group ssh open allows SSH (port 22)\nfrom the internet", rows[2][9], "newlines survive quoting")
}

func TestSummaryAndFailOn(t *testing.T) {
	t.Parallel()
	r := sampleRun()
	s := r.Summary()
	require.Equal(t, 5, s.Total)
	require.Equal(t, 3, s.Fail)
	require.Equal(t, 1, s.Unknown)
	require.Equal(t, 1, s.Pass)
	require.Equal(t, "5 results: 3 fail (1 critical, 1 high, 1 low), 1 unknown, 1 pass; 1 unit failed, 2 resources not evaluated", SummaryLine(s))
	for _, tc := range []struct {
		min  checks.Severity
		want int
	}{
		{checks.SeverityCritical, 1}, {checks.SeverityHigh, 2}, {checks.SeverityMedium, 2}, {checks.SeverityLow, 3}, {checks.SeverityInfo, 3},
	} {
		require.Equal(t, tc.want, r.FailsAtOrAbove(tc.min), tc.min)
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		got, err := ParseFormat(strings.ToUpper(string(f)))
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
	_, err := ParseFormat("xml")
	require.ErrorContains(t, err, `unknown format "xml"`)
	require.Error(t, Write(&bytes.Buffer{}, Format("xml"), sampleRun()))
}
