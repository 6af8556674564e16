package aws

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/vigilsec/vigil/providers"
)

// TypeAccount is the one account-wide document per AWS account.
const TypeAccount = "aws.account"

// accountCollector emits aws.account: account-wide settings read from IAM, Account,
// S3 Control, EC2 (per region) and Organizations.
func accountCollector() collector {
	return collector{name: "account", service: "account", types: []string{TypeAccount}, global: true, collect: collectAccount}
}

func collectAccount(ctx context.Context, s *scope) error {
	iamc := iam.NewFromConfig(s.cfg)
	// The aliases are the one list call: if even that is denied, the unit fails.
	aliases, err := iamc.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil {
		return s.fail(err, "iam:ListAccountAliases")
	}
	acct := s.p.account
	name := acct
	if len(aliases.AccountAliases) > 0 {
		name = aliases.AccountAliases[0]
	}
	r, err := s.newResource(TypeAccount, fmt.Sprintf("arn:%s:iam::%s:root", s.p.partition, acct), name, providers.RegionGlobal,
		map[string]any{"AccountId": acct, "Partition": s.p.partition, "AccountAliases": aliases.AccountAliases})
	if err != nil {
		return err
	}

	s.enrich(ctx, r, "PasswordPolicy", "iam:GetAccountPasswordPolicy", []string{"NoSuchEntity"}, func(ctx context.Context) (any, error) {
		out, err := iamc.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		if err != nil {
			return nil, err
		}
		return out.PasswordPolicy, nil
	})
	s.enrich(ctx, r, "AccountSummary", "iam:GetAccountSummary", nil, func(ctx context.Context) (any, error) {
		out, err := iamc.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			return nil, err
		}
		return out.SummaryMap, nil
	})
	s.enrich(ctx, r, "ManagedPolicyEntities", "iam:ListEntitiesForPolicy", nil, func(ctx context.Context) (any, error) {
		return managedPolicyEntities(ctx, iamc, s.p.partition)
	})
	s.enrich(ctx, r, "CredentialReport", "iam:GetCredentialReport", nil, func(ctx context.Context) (any, error) {
		return credentialReport(ctx, iamc)
	})
	acc := account.NewFromConfig(s.cfg)
	s.enrich(ctx, r, "AlternateContacts", "account:GetAlternateContact", nil, func(ctx context.Context) (any, error) {
		contacts := map[string]any{}
		for _, t := range []accounttypes.AlternateContactType{accounttypes.AlternateContactTypeSecurity, accounttypes.AlternateContactTypeBilling, accounttypes.AlternateContactTypeOperations} {
			out, err := acc.GetAlternateContact(ctx, &account.GetAlternateContactInput{AlternateContactType: t})
			if isCode(err, "ResourceNotFoundException") {
				contacts[string(t)] = nil
				continue
			}
			if err != nil {
				return nil, err
			}
			v, err := jsonValue(out.AlternateContact)
			if err != nil {
				return nil, err
			}
			contacts[string(t)] = v
		}
		return contacts, nil
	})
	s3c := s3control.NewFromConfig(s.cfg, s.p.s3ControlOptions)
	s.enrich(ctx, r, "S3PublicAccessBlock", "s3control:GetPublicAccessBlock", []string{"NoSuchPublicAccessBlockConfiguration"}, func(ctx context.Context) (any, error) {
		out, err := s3c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(acct)})
		if err != nil {
			return nil, err
		}
		return out.PublicAccessBlockConfiguration, nil
	})
	s.enrich(ctx, r, "EbsDefaultEncryption", "ec2:GetEbsEncryptionByDefault", nil, func(ctx context.Context) (any, error) {
		byRegion := map[string]any{}
		for _, region := range s.p.regions {
			c := ec2.NewFromConfig(s.p.regionConfig(region))
			enc, err := c.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", region, err)
			}
			key, err := c.GetEbsDefaultKmsKeyId(ctx, &ec2.GetEbsDefaultKmsKeyIdInput{})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", region, err)
			}
			byRegion[region] = map[string]any{
				"EbsEncryptionByDefault": aws.ToBool(enc.EbsEncryptionByDefault),
				"KmsKeyId":               aws.ToString(key.KmsKeyId),
			}
		}
		return byRegion, nil
	})
	accountRegionalServices(ctx, s, r)
	org := organizations.NewFromConfig(s.cfg)
	s.enrich(ctx, r, "Organization", "organizations:DescribeOrganization", []string{"AWSOrganizationsNotInUseException"}, func(ctx context.Context) (any, error) {
		out, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			return nil, err
		}
		return out.Organization, nil
	})
	return s.emit(ctx, r)
}

// watchedManagedPolicies are the AWS managed policies whose attachments account-wide
// checks ask about: CIS wants a support role (AWSSupportAccess) and no CloudShell full
// access (AWSCloudShellFullAccess: file upload/download is an exfiltration path).
var watchedManagedPolicies = []string{"AWSSupportAccess", "AWSCloudShellFullAccess"}

// managedPolicyEntities returns, per watched AWS managed policy name, the groups, users
// and roles it is attached to: {PolicyGroups, PolicyUsers, PolicyRoles}, or nil when
// the policy does not exist in the partition.
func managedPolicyEntities(ctx context.Context, c *iam.Client, partition string) (map[string]any, error) {
	out := map[string]any{}
	for _, name := range watchedManagedPolicies {
		arn := fmt.Sprintf("arn:%s:iam::aws:policy/%s", partition, name)
		groups, users, roles := []iamtypes.PolicyGroup{}, []iamtypes.PolicyUser{}, []iamtypes.PolicyRole{}
		p := iam.NewListEntitiesForPolicyPaginator(c, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
		found := true
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if isCode(err, "NoSuchEntity") {
				found = false
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			groups = append(groups, page.PolicyGroups...)
			users = append(users, page.PolicyUsers...)
			roles = append(roles, page.PolicyRoles...)
		}
		if !found {
			out[name] = nil
			continue
		}
		v, err := jsonValue(map[string]any{"PolicyGroups": groups, "PolicyUsers": users, "PolicyRoles": roles})
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}

// credentialReport generates the IAM credential report if needed and returns its rows
// as maps keyed by the CSV header ("user", "mfa_active", "access_key_1_last_used_date"
// ...), values as AWS writes them ("true", "N/A", RFC 3339 times).
func credentialReport(ctx context.Context, c *iam.Client) ([]any, error) {
	// Generation is asynchronous: poll with a short backoff until AWS says COMPLETE.
	delay := 200 * time.Millisecond
	for {
		out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, fmt.Errorf("generate credential report: %w", err)
		}
		if out.State == iamtypes.ReportStateTypeComplete {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
	out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		return nil, err
	}
	return parseCredentialReport(out.Content)
}

// parseCredentialReport parses the CSV of an IAM credential report.
func parseCredentialReport(content []byte) ([]any, error) {
	r := csv.NewReader(bytes.NewReader(content))
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return []any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("parse credential report: %w", err)
	}
	rows := []any{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse credential report: %w", err)
		}
		row := make(map[string]any, len(header))
		for i, h := range header {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		rows = append(rows, row)
	}
}

// s3ControlOptions points S3 Control at the configured endpoint as is. With an
// endpoint override the SDK would prefix the host with the account id
// ("123456789012.127.0.0.1"), which private endpoints and emulators do not serve.
func (p *Provider) s3ControlOptions(o *s3control.Options) {
	if p.cfg.BaseEndpoint == nil {
		return
	}
	o.EndpointResolverV2 = fixedS3ControlEndpoint{raw: *p.cfg.BaseEndpoint}
}

type fixedS3ControlEndpoint struct{ raw string }

func (f fixedS3ControlEndpoint) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(f.raw)
	if err != nil {
		return smithyendpoints.Endpoint{}, fmt.Errorf("parse s3control endpoint %q: %w", f.raw, err)
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}

// accountRegionalServices adds the per-region enablement of the account-wide
// detective services, so that one check on the account document can ask "is GuardDuty
// on in every region" (a check sees one document at a time). Each key maps region ->
// value; a failure in any region is one gap on the key.
func accountRegionalServices(ctx context.Context, s *scope, r *providers.Resource) {
	perRegion := func(key, op string, call func(ctx context.Context, cfg aws.Config) (any, error)) {
		s.enrich(ctx, r, key, op, nil, func(ctx context.Context) (any, error) {
			byRegion := map[string]any{}
			for _, region := range s.p.regions {
				v, err := call(ctx, s.p.regionConfig(region))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", region, err)
				}
				jv, err := jsonValue(v)
				if err != nil {
					return nil, err
				}
				byRegion[region] = jv
			}
			return byRegion, nil
		})
	}
	perRegion("GuardDutyDetectors", "guardduty:ListDetectors", func(ctx context.Context, cfg aws.Config) (any, error) {
		// The status is what matters: a suspended detector still lists.
		c := guardduty.NewFromConfig(cfg)
		detectors := []any{}
		p := guardduty.NewListDetectorsPaginator(c, &guardduty.ListDetectorsInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, id := range out.DetectorIds {
				d, err := c.GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(id)})
				if err != nil {
					return nil, fmt.Errorf("get detector %s: %w", id, err)
				}
				v, err := jsonValue(d)
				if err != nil {
					return nil, err
				}
				m := v.(map[string]any)
				m["DetectorId"] = id
				detectors = append(detectors, m)
			}
		}
		return detectors, nil
	})
	perRegion("SecurityHubArn", "securityhub:DescribeHub", func(ctx context.Context, cfg aws.Config) (any, error) {
		out, err := securityhub.NewFromConfig(cfg).DescribeHub(ctx, &securityhub.DescribeHubInput{})
		if isCode(err, "InvalidAccessException", "ResourceNotFoundException") {
			return nil, nil // not enabled in this region
		}
		if err != nil {
			return nil, err
		}
		return out.HubArn, nil
	})
	perRegion("ConfigurationRecorders", "config:DescribeConfigurationRecorders", func(ctx context.Context, cfg aws.Config) (any, error) {
		// What a recorder records (RecordingGroup) and whether it runs (Status) are two
		// calls; they are joined by recorder name as on aws.config.configuration_recorder.
		c := configservice.NewFromConfig(cfg)
		recs, err := c.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
		if err != nil {
			return nil, err
		}
		st, err := c.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
		if err != nil {
			return nil, fmt.Errorf("configuration recorder status: %w", err)
		}
		out := []any{}
		for _, rec := range recs.ConfigurationRecorders {
			v, err := jsonValue(rec)
			if err != nil {
				return nil, err
			}
			m := v.(map[string]any)
			m["Status"] = nil
			for _, status := range st.ConfigurationRecordersStatus {
				if aws.ToString(status.Name) == aws.ToString(rec.Name) {
					if m["Status"], err = jsonValue(status); err != nil {
						return nil, err
					}
				}
			}
			out = append(out, m)
		}
		return out, nil
	})
	perRegion("AccessAnalyzers", "access-analyzer:ListAnalyzers", func(ctx context.Context, cfg aws.Config) (any, error) {
		var all []aatypes.AnalyzerSummary
		p := accessanalyzer.NewListAnalyzersPaginator(accessanalyzer.NewFromConfig(cfg), &accessanalyzer.ListAnalyzersInput{})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			all = append(all, out.Analyzers...)
		}
		return nonNil(all), nil
	})
	// Multi-region trails are visible from the home region: DescribeTrails with shadow
	// trails lists them all, whatever region they live in.
	var trails []any
	var trailsErr error
	s.enrich(ctx, r, "MultiRegionTrails", "cloudtrail:DescribeTrails", nil, func(ctx context.Context) (any, error) {
		trails, trailsErr = multiRegionTrails(ctx, s)
		return trails, trailsErr
	})
	accountMonitoring(ctx, s, r, trails, trailsErr)
}

// multiRegionTrails lists the account's multi-region trails, each with IsLogging
// (GetTrailStatus) and EventSelectors (GetEventSelectors) from its home region.
func multiRegionTrails(ctx context.Context, s *scope) ([]any, error) {
	ct := cloudtrail.NewFromConfig(s.cfg)
	out, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	trails := []any{}
	for _, t := range out.TrailList {
		if !aws.ToBool(t.IsMultiRegionTrail) {
			continue
		}
		home := cloudtrail.NewFromConfig(s.p.regionConfig(cmp.Or(aws.ToString(t.HomeRegion), s.cfg.Region)))
		st, err := home.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: t.TrailARN})
		if err != nil {
			return nil, err
		}
		sel, err := home.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: t.TrailARN})
		if err != nil {
			return nil, err
		}
		v, err := jsonValue(t)
		if err != nil {
			return nil, err
		}
		m := v.(map[string]any)
		m["IsLogging"] = aws.ToBool(st.IsLogging)
		evs, err := jsonValue(map[string]any{"EventSelectors": nonNil(sel.EventSelectors), "AdvancedEventSelectors": nonNil(sel.AdvancedEventSelectors)})
		if err != nil {
			return nil, err
		}
		m["EventSelectors"] = evs
		trails = append(trails, m)
	}
	return trails, nil
}
