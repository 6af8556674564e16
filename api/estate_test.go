package api_test

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// estate is a small scanned estate of one tenant, written with the store functions the
// pipeline uses (so the rows are what a real scan leaves): two S3 buckets and a
// security group observed on day 1; on day 2 one bucket changed and the security group
// was deleted. Findings, their events and posture snapshots follow both evaluations.
type estate struct {
	Day1, Day2    time.Time
	Resources     map[string]uuid.UUID // by name
	Findings      map[string]uuid.UUID // by "check_id resource name"
	CustomCheckID uuid.UUID
	CustomCheck   string // its check id
}

// customCheckYAML is a valid tenant check; slug makes its id and title unique.
func customCheckYAML(slug string) string {
	return fmt.Sprintf(`id: custom.aws.s3.%s_owner_tag
title: S3 bucket names its owner (%s)
severity: medium
resource: aws.s3.bucket
description: Every bucket carries an owner tag.
risk: Nobody answers for an unowned bucket.
remediation:
  text: Tag the bucket with its owner.
  cli: aws s3api put-bucket-tagging --bucket {{.Name}} --tagging 'TagSet=[{Key=owner,Value=me}]'
assert: "'owner' in resource.tags"
message: "'bucket ' + resource.name + ' has no owner tag'"
`, slug, slug)
}

// seedEstate writes the estate in the tenant transaction tx. It runs before the
// tenant's mute rules exist, so its failures are open.
func seedEstate(ctx context.Context, tx pgx.Tx, account uuid.UUID, slug string) (estate, error) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	es := estate{Day1: today.AddDate(0, 0, -2).Add(10 * time.Hour), Day2: today.AddDate(0, 0, -1).Add(10 * time.Hour),
		Resources: map[string]uuid.UUID{}, Findings: map[string]uuid.UUID{}}
	co, err := checks.NewCompiler(checks.CompilerConfig{})
	if err != nil {
		return es, err
	}
	ch, ps := store.CustomCheckParse(ctx, co, []byte(customCheckYAML(slug)))
	if len(ps) > 0 {
		return es, fmt.Errorf("custom check: %v", ps)
	}
	cc, err := store.CustomCheckCreate(ctx, tx, store.CustomCheck{CheckID: store.CustomCheckPrefix + ch.ID, Title: ch.Title,
		Severity: string(ch.Severity), ResourceType: ch.Resource, YAML: customCheckYAML(slug), CreatedBy: "test"})
	if err != nil {
		return es, err
	}
	es.CustomCheckID, es.CustomCheck = cc.ID, cc.CheckID

	public, logs, sg := slug+"-public", slug+"-logs", slug+"-web-sg"
	bucket := func(name string, tags map[string]string, props map[string]any, rels ...providers.Relation) providers.Resource {
		return providers.Resource{Provider: "aws", AccountID: "123456789012", NativeID: "arn:aws:s3:::" + name, Type: "aws.s3.bucket",
			Region: "eu-west-1", Name: name, Tags: tags, Properties: props, Relations: rels}
	}
	s3unit := providers.Unit{Collector: "s3", Service: "s3", Region: "global", Types: []string{"aws.s3.bucket"}}
	ec2unit := providers.Unit{Collector: "ec2", Service: "ec2", Region: "us-east-1", Types: []string{"aws.ec2.security_group"}}
	logsTo := providers.Relation{Kind: "logs_to", TargetID: "arn:aws:s3:::" + logs, TargetType: "aws.s3.bucket"}
	apply := func(at time.Time, unit providers.Unit, docs ...providers.Resource) error {
		_, err := store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: account, ObservedAt: at, Unit: unit, Docs: docs, Complete: true})
		return err
	}
	// Day 1.
	if err := apply(es.Day1, s3unit,
		bucket(public, map[string]string{"env": "prod"}, map[string]any{"PublicAccessBlock": map[string]any{"BlockPublicAcls": false}, "Versioning": map[string]any{"Status": "Suspended"}}, logsTo),
		bucket(logs, map[string]string{"env": "dev", "owner": "sec"}, map[string]any{"PublicAccessBlock": map[string]any{"BlockPublicAcls": true}})); err != nil {
		return es, err
	}
	if err := apply(es.Day1, ec2unit, providers.Resource{Provider: "aws", AccountID: "123456789012", NativeID: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0" + slug,
		Type: "aws.ec2.security_group", Region: "us-east-1", Name: sg, Tags: map[string]string{}, Properties: map[string]any{"IpPermissions": []any{}}}); err != nil {
		return es, err
	}
	rows, err := tx.Query(ctx, "SELECT name, id FROM resources WHERE tenant_id = vigil_current_tenant()")
	if err != nil {
		return es, err
	}
	for rows.Next() {
		var n string
		var id uuid.UUID
		if err := rows.Scan(&n, &id); err != nil {
			return es, err
		}
		es.Resources[n] = id
	}
	if err := rows.Err(); err != nil {
		return es, err
	}
	result := func(name, typ, region, checkID, status, severity, msg string) store.CheckResult {
		native := "arn:aws:s3:::" + name
		if typ == "aws.ec2.security_group" {
			native = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0" + slug
		}
		r := store.CheckResult{ResourceID: es.Resources[name], NativeID: native, ResourceType: typ, Region: region, Provider: "aws",
			CheckID: checkID, Status: status, Severity: severity, Message: msg, Evidence: map[string]any{}}
		if status == store.StatusUnknown {
			r.Reason = "Logging was not collected (AccessDenied)"
		}
		return r
	}
	s3 := "aws.s3.bucket"
	day1 := []store.CheckResult{
		result(public, s3, "eu-west-1", "aws.s3.bucket_no_public_read", "fail", "critical", "bucket "+public+" allows public read"),
		result(public, s3, "eu-west-1", "aws.s3.bucket_public_access_blocked", "fail", "high", "bucket "+public+" does not block public access"),
		result(public, s3, "eu-west-1", "aws.s3.bucket_mfa_delete_enabled", "fail", "low", "bucket "+public+" has no MFA delete"),
		result(public, s3, "eu-west-1", es.CustomCheck, "fail", "medium", "bucket "+public+" has no owner tag"),
		result(logs, s3, "eu-west-1", "aws.s3.bucket_no_public_read", "pass", "critical", ""),
		result(logs, s3, "eu-west-1", "aws.s3.bucket_public_access_blocked", "pass", "high", ""),
		result(logs, s3, "eu-west-1", "aws.s3.bucket_access_logging_enabled", "unknown", "low", ""),
		result(sg, "aws.ec2.security_group", "us-east-1", "aws.ec2.security_group_all_ports_restricted", "fail", "high", "security group "+sg+" allows all traffic from 0.0.0.0/0"),
	}
	if _, err := store.FindingsApply(ctx, tx, store.ApplyFindingsParams{AccountID: account, ScanID: uuid.New(), At: es.Day1, Results: day1}); err != nil {
		return es, err
	}
	if _, err := store.PostureSnapshot(ctx, tx, account, uuid.New(), es.Day1); err != nil {
		return es, err
	}
	// Day 2: the public bucket now blocks public access; the security group is gone.
	if err := apply(es.Day2, s3unit,
		bucket(public, map[string]string{"env": "prod"}, map[string]any{"PublicAccessBlock": map[string]any{"BlockPublicAcls": true}, "Versioning": map[string]any{"Status": "Suspended"}}, logsTo),
		bucket(logs, map[string]string{"env": "dev", "owner": "sec"}, map[string]any{"PublicAccessBlock": map[string]any{"BlockPublicAcls": true}})); err != nil {
		return es, err
	}
	if err := apply(es.Day2, ec2unit); err != nil {
		return es, err
	}
	day2 := append([]store.CheckResult{}, day1[:7]...)
	day2[1] = result(public, s3, "eu-west-1", "aws.s3.bucket_public_access_blocked", "pass", "high", "")
	if _, err := store.FindingsApply(ctx, tx, store.ApplyFindingsParams{AccountID: account, ScanID: uuid.New(), At: es.Day2, Results: day2}); err != nil {
		return es, err
	}
	if _, err := store.PostureSnapshot(ctx, tx, account, uuid.New(), es.Day2); err != nil {
		return es, err
	}
	rows, err = tx.Query(ctx, `SELECT f.check_id || ' ' || r.name, f.id FROM findings f JOIN resources r ON r.tenant_id = f.tenant_id AND r.id = f.resource_id
		WHERE f.tenant_id = vigil_current_tenant()`)
	if err != nil {
		return es, err
	}
	for rows.Next() {
		var k string
		var id uuid.UUID
		if err := rows.Scan(&k, &id); err != nil {
			return es, err
		}
		es.Findings[k] = id
	}
	return es, rows.Err()
}
