package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/elasticache"
	"github.com/aws/aws-sdk-go-v2/service/opensearch"
	"github.com/aws/aws-sdk-go-v2/service/redshift"
	redshifttypes "github.com/aws/aws-sdk-go-v2/service/redshift/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/vigilsec/vigil/providers"
)

// Types of storage, data and container services.
const (
	TypeSecretsManagerSecret        = "aws.secretsmanager.secret"
	TypeACMCertificate              = "aws.acm.certificate"
	TypeEFSFileSystem               = "aws.efs.file_system"
	TypeECSTaskDefinition           = "aws.ecs.task_definition"
	TypeElastiCacheReplicationGroup = "aws.elasticache.replication_group"
	TypeElastiCacheCluster          = "aws.elasticache.cache_cluster"
	TypeRedshiftCluster             = "aws.redshift.cluster"
	TypeOpenSearchDomain            = "aws.opensearch.domain"
	TypeBackupVault                 = "aws.backup.vault"
	TypeBackupPlan                  = "aws.backup.plan"
)

// secretsManagerCollector emits secrets (rotation, KMS key, last rotation from the
// listing; never the secret value) with their resource policy.
func secretsManagerCollector() collector {
	return collector{
		name: "secretsmanager_secrets", service: "secretsmanager", types: []string{TypeSecretsManagerSecret},
		collect: func(ctx context.Context, s *scope) error {
			c := secretsmanager.NewFromConfig(s.cfg)
			p := secretsmanager.NewListSecretsPaginator(c, &secretsmanager.ListSecretsInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "secretsmanager:ListSecrets")
				}
				for _, sec := range out.SecretList {
					err := s.emitDoc(ctx, TypeSecretsManagerSecret, aws.ToString(sec.ARN), aws.ToString(sec.Name), sec, func(r *providers.Resource) {
						r.Tags = tagMap(sec.Tags, func(t smtypes.Tag) (*string, *string) { return t.Key, t.Value })
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(sec.KmsKeyId)), TypeKMSKey)
						s.enrich(ctx, r, "ResourcePolicy", "secretsmanager:GetResourcePolicy", nil, func(ctx context.Context) (any, error) {
							out, err := c.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: sec.ARN})
							if err != nil {
								return nil, err
							}
							return parsePolicyPtr(out.ResourcePolicy), nil
						})
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// acmCollector emits ACM certificates from the listing alone: the summary carries
// status, expiry (NotAfter), key algorithm, type, renewal eligibility and use.
func acmCollector() collector {
	return collector{
		name: "acm_certificates", service: "acm", types: []string{TypeACMCertificate},
		collect: func(ctx context.Context, s *scope) error {
			p := acm.NewListCertificatesPaginator(acm.NewFromConfig(s.cfg), &acm.ListCertificatesInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "acm:ListCertificates")
				}
				for _, cert := range out.CertificateSummaryList {
					if err := s.emitDoc(ctx, TypeACMCertificate, aws.ToString(cert.CertificateArn), aws.ToString(cert.DomainName), cert, nil); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// efsCollector emits EFS file systems (Encrypted, KmsKeyId) with their file system
// policy ("FileSystemPolicy", null when none) and automatic backup policy
// ("BackupPolicy": {Status}, null when never set).
func efsCollector() collector {
	return collector{
		name: "efs_file_systems", service: "elasticfilesystem", types: []string{TypeEFSFileSystem},
		collect: func(ctx context.Context, s *scope) error {
			c := efs.NewFromConfig(s.cfg)
			p := efs.NewDescribeFileSystemsPaginator(c, &efs.DescribeFileSystemsInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "elasticfilesystem:DescribeFileSystems")
				}
				for _, fs := range out.FileSystems {
					name := aws.ToString(fs.Name)
					if name == "" {
						name = aws.ToString(fs.FileSystemId)
					}
					arn := aws.ToString(fs.FileSystemArn)
					if arn == "" {
						arn = s.arn("elasticfilesystem", s.region, "file-system/"+aws.ToString(fs.FileSystemId))
					}
					err := s.emitDoc(ctx, TypeEFSFileSystem, arn, name, fs, func(r *providers.Resource) {
						for _, t := range fs.Tags {
							r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
						}
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(fs.KmsKeyId)), TypeKMSKey)
						s.enrich(ctx, r, "FileSystemPolicy", "elasticfilesystem:DescribeFileSystemPolicy", []string{"PolicyNotFound"}, func(ctx context.Context) (any, error) {
							out, err := c.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: fs.FileSystemId})
							if err != nil {
								return nil, err
							}
							return parsePolicyPtr(out.Policy), nil
						})
						// PolicyNotFound: AWS Backup has never been set for the file system.
						s.enrich(ctx, r, "BackupPolicy", "elasticfilesystem:DescribeBackupPolicy", []string{"PolicyNotFound"}, func(ctx context.Context) (any, error) {
							out, err := c.DescribeBackupPolicy(ctx, &efs.DescribeBackupPolicyInput{FileSystemId: fs.FileSystemId})
							if err != nil {
								return nil, err
							}
							return out.BackupPolicy, nil
						})
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// ecsTaskDefinitionCollector emits the active revisions of ECS task definitions.
// "TaskDefinition" is DescribeTaskDefinition's output; container environment values
// are blanked (names kept) because they often hold secrets.
func ecsTaskDefinitionCollector() collector {
	return collector{
		name: "ecs_task_definitions", service: "ecs", types: []string{TypeECSTaskDefinition},
		collect: func(ctx context.Context, s *scope) error {
			c := ecs.NewFromConfig(s.cfg)
			p := ecs.NewListTaskDefinitionsPaginator(c, &ecs.ListTaskDefinitionsInput{Status: "ACTIVE"})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "ecs:ListTaskDefinitions")
				}
				for _, arn := range out.TaskDefinitionArns {
					name := arn[strings.LastIndex(arn, "/")+1:]
					err := s.emitDoc(ctx, TypeECSTaskDefinition, arn, name, map[string]any{"TaskDefinitionArn": arn}, func(r *providers.Resource) {
						s.enrich(ctx, r, "TaskDefinition", "ecs:DescribeTaskDefinition", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
							if err != nil {
								return nil, err
							}
							td := out.TaskDefinition
							if td == nil {
								return nil, nil
							}
							for i := range td.ContainerDefinitions {
								for j := range td.ContainerDefinitions[i].Environment {
									td.ContainerDefinitions[i].Environment[j].Value = aws.String("")
								}
							}
							relate(r, "role", aws.ToString(td.TaskRoleArn), TypeIAMRole)
							relate(r, "execution_role", aws.ToString(td.ExecutionRoleArn), TypeIAMRole)
							return td, nil
						})
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// elastiCacheCollector emits replication groups (encryption at rest and in transit,
// AUTH, failover) and cache clusters.
func elastiCacheCollector() collector {
	return collector{
		name: "elasticache", service: "elasticache", types: []string{TypeElastiCacheReplicationGroup, TypeElastiCacheCluster},
		collect: func(ctx context.Context, s *scope) error {
			c := elasticache.NewFromConfig(s.cfg)
			rp := elasticache.NewDescribeReplicationGroupsPaginator(c, &elasticache.DescribeReplicationGroupsInput{})
			for rp.HasMorePages() {
				out, err := rp.NextPage(ctx)
				if err != nil {
					return s.fail(err, "elasticache:DescribeReplicationGroups")
				}
				for _, g := range out.ReplicationGroups {
					arn := aws.ToString(g.ARN)
					if arn == "" {
						arn = s.arn("elasticache", s.region, "replicationgroup:"+aws.ToString(g.ReplicationGroupId))
					}
					err := s.emitDoc(ctx, TypeElastiCacheReplicationGroup, arn, aws.ToString(g.ReplicationGroupId), g, func(r *providers.Resource) {
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(g.KmsKeyId)), TypeKMSKey)
					})
					if err != nil {
						return err
					}
				}
			}
			cp := elasticache.NewDescribeCacheClustersPaginator(c, &elasticache.DescribeCacheClustersInput{})
			for cp.HasMorePages() {
				out, err := cp.NextPage(ctx)
				if err != nil {
					return s.fail(err, "elasticache:DescribeCacheClusters")
				}
				for _, cl := range out.CacheClusters {
					arn := aws.ToString(cl.ARN)
					if arn == "" {
						arn = s.arn("elasticache", s.region, "cluster:"+aws.ToString(cl.CacheClusterId))
					}
					if err := s.emitDoc(ctx, TypeElastiCacheCluster, arn, aws.ToString(cl.CacheClusterId), cl, nil); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// redshiftCollector emits Redshift clusters (Encrypted, PubliclyAccessible, parameter
// groups) with their audit logging status ("LoggingStatus").
// Native id: arn:aws:redshift:<region>:<account>:cluster:<id>.
func redshiftCollector() collector {
	return collector{
		name: "redshift_clusters", service: "redshift", types: []string{TypeRedshiftCluster},
		collect: func(ctx context.Context, s *scope) error {
			c := redshift.NewFromConfig(s.cfg)
			p := redshift.NewDescribeClustersPaginator(c, &redshift.DescribeClustersInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "redshift:DescribeClusters")
				}
				for _, cl := range out.Clusters {
					id := cl.ClusterIdentifier
					err := s.emitDoc(ctx, TypeRedshiftCluster, s.arn("redshift", s.region, "cluster:"+aws.ToString(id)), aws.ToString(id), cl, func(r *providers.Resource) {
						r.Tags = tagMap(cl.Tags, func(t redshifttypes.Tag) (*string, *string) { return t.Key, t.Value })
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(cl.KmsKeyId)), TypeKMSKey)
						s.enrich(ctx, r, "LoggingStatus", "redshift:DescribeLoggingStatus", nil, func(ctx context.Context) (any, error) {
							return c.DescribeLoggingStatus(ctx, &redshift.DescribeLoggingStatusInput{ClusterIdentifier: id})
						})
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// openSearchCollector emits OpenSearch domains: ListDomainNames, then DescribeDomains
// five domains per call (both are list calls: their failure fails the unit).
func openSearchCollector() collector {
	return collector{
		name: "opensearch_domains", service: "es", types: []string{TypeOpenSearchDomain},
		collect: func(ctx context.Context, s *scope) error {
			c := opensearch.NewFromConfig(s.cfg)
			names, err := c.ListDomainNames(ctx, &opensearch.ListDomainNamesInput{})
			if err != nil {
				return s.fail(err, "es:ListDomainNames")
			}
			for i := 0; i < len(names.DomainNames); i += 5 {
				var batch []string
				for _, d := range names.DomainNames[i:min(i+5, len(names.DomainNames))] {
					batch = append(batch, aws.ToString(d.DomainName))
				}
				out, err := c.DescribeDomains(ctx, &opensearch.DescribeDomainsInput{DomainNames: batch})
				if err != nil {
					return s.fail(err, "es:DescribeDomains")
				}
				for _, d := range out.DomainStatusList {
					err := s.emitDoc(ctx, TypeOpenSearchDomain, aws.ToString(d.ARN), aws.ToString(d.DomainName), d, func(r *providers.Resource) {
						r.Properties["AccessPolicies"] = parsePolicyPtr(d.AccessPolicies)
						if d.EncryptionAtRestOptions != nil {
							relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(d.EncryptionAtRestOptions.KmsKeyId)), TypeKMSKey)
						}
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// backupCollector emits Backup vaults (encryption key, vault lock) with their access
// policy, and backup plans with their rules ("BackupPlan": GetBackupPlan's plan).
func backupCollector() collector {
	return collector{
		name: "backup", service: "backup", types: []string{TypeBackupVault, TypeBackupPlan},
		collect: func(ctx context.Context, s *scope) error {
			c := backup.NewFromConfig(s.cfg)
			vp := backup.NewListBackupVaultsPaginator(c, &backup.ListBackupVaultsInput{})
			for vp.HasMorePages() {
				out, err := vp.NextPage(ctx)
				if err != nil {
					return s.fail(err, "backup:ListBackupVaults")
				}
				for _, v := range out.BackupVaultList {
					name := v.BackupVaultName
					err := s.emitDoc(ctx, TypeBackupVault, aws.ToString(v.BackupVaultArn), aws.ToString(name), v, func(r *providers.Resource) {
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(v.EncryptionKeyArn)), TypeKMSKey)
						s.enrich(ctx, r, "AccessPolicy", "backup:GetBackupVaultAccessPolicy", []string{"ResourceNotFoundException"}, func(ctx context.Context) (any, error) {
							out, err := c.GetBackupVaultAccessPolicy(ctx, &backup.GetBackupVaultAccessPolicyInput{BackupVaultName: name})
							if err != nil {
								return nil, err
							}
							return parsePolicyPtr(out.Policy), nil
						})
					})
					if err != nil {
						return err
					}
				}
			}
			pp := backup.NewListBackupPlansPaginator(c, &backup.ListBackupPlansInput{})
			for pp.HasMorePages() {
				out, err := pp.NextPage(ctx)
				if err != nil {
					return s.fail(err, "backup:ListBackupPlans")
				}
				for _, plan := range out.BackupPlansList {
					id := plan.BackupPlanId
					err := s.emitDoc(ctx, TypeBackupPlan, aws.ToString(plan.BackupPlanArn), aws.ToString(plan.BackupPlanName), plan, func(r *providers.Resource) {
						s.enrich(ctx, r, "BackupPlan", "backup:GetBackupPlan", nil, func(ctx context.Context) (any, error) {
							out, err := c.GetBackupPlan(ctx, &backup.GetBackupPlanInput{BackupPlanId: id})
							if err != nil {
								return nil, err
							}
							return out.BackupPlan, nil
						})
					})
					if err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}
