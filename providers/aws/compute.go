package aws

import (
	"context"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Resource types of DynamoDB, Lambda, EKS and ECR.
const (
	TypeDynamoDBTable  = "aws.dynamodb.table"
	TypeLambdaFunction = "aws.lambda.function"
	TypeEKSCluster     = "aws.eks.cluster"
	TypeECRRepository  = "aws.ecr.repository"
)

// dynamodbTableCollector emits tables: "Table" is DescribeTable's TableDescription
// (SSEDescription holds encryption), "ContinuousBackupsDescription" holds PITR.
func dynamodbTableCollector() collector {
	return collector{
		name: "dynamodb_tables", service: "dynamodb", types: []string{TypeDynamoDBTable},
		collect: func(ctx context.Context, s *scope) error {
			c := dynamodb.NewFromConfig(s.cfg)
			p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{})
			w := s.workers(ctx)
			defer func() { _ = w.Wait() }() // no goroutine outlives the unit
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					_ = w.Wait()
					return s.fail(err, "dynamodb:ListTables")
				}
				for _, name := range out.TableNames {
					w.Go(func(ctx context.Context) error {
						r, err := s.newResource(TypeDynamoDBTable, s.arn("dynamodb", s.region, "table/"+name), name, s.region, map[string]any{"TableName": name})
						if err != nil {
							return err
						}
						s.enrich(ctx, r, "Table", "dynamodb:DescribeTable", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
							if err != nil {
								return nil, err
							}
							if out.Table != nil && out.Table.SSEDescription != nil {
								relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(out.Table.SSEDescription.KMSMasterKeyArn)), TypeKMSKey)
							}
							return out.Table, nil
						})
						s.enrich(ctx, r, "ContinuousBackupsDescription", "dynamodb:DescribeContinuousBackups", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
							if err != nil {
								return nil, err
							}
							return out.ContinuousBackupsDescription, nil
						})
						return s.emit(ctx, r)
					})
				}
			}
			return w.Wait()
		},
	}
}

// lambdaFunctionCollector emits functions (runtime, role, VPC config from the listing)
// with their resource policy and function URL configurations.
func lambdaFunctionCollector() collector {
	return collector{
		name: "lambda_functions", service: "lambda", types: []string{TypeLambdaFunction},
		collect: func(ctx context.Context, s *scope) error {
			c := lambda.NewFromConfig(s.cfg)
			p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{})
			w := s.workers(ctx)
			defer func() { _ = w.Wait() }() // no goroutine outlives the unit
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					_ = w.Wait()
					return s.fail(err, "lambda:ListFunctions")
				}
				for _, f := range out.Functions {
					w.Go(func(ctx context.Context) error {
						if f.Environment != nil {
							for k, v := range f.Environment.Variables {
								f.Environment.Variables[k] = redactEnvValue(v)
							}
						}
						r, err := s.newResource(TypeLambdaFunction, aws.ToString(f.FunctionArn), aws.ToString(f.FunctionName), s.region, f)
						if err != nil {
							return err
						}
						relate(r, "role", aws.ToString(f.Role), TypeIAMRole)
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(f.KMSKeyArn)), TypeKMSKey)
						if f.VpcConfig != nil {
							for _, g := range f.VpcConfig.SecurityGroupIds {
								relate(r, "security_group", s.ec2ARN("security-group", g), TypeEC2SecurityGroup)
							}
						}
						name := f.FunctionName
						s.enrich(ctx, r, "Policy", "lambda:GetPolicy", []string{"ResourceNotFoundException"}, func(ctx context.Context) (any, error) {
							out, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: name})
							if err != nil {
								return nil, err
							}
							return parsePolicyPtr(out.Policy), nil
						})
						s.enrich(ctx, r, "FunctionUrlConfigs", "lambda:ListFunctionUrlConfigs", nil, func(ctx context.Context) (any, error) {
							var all []any
							p := lambda.NewListFunctionUrlConfigsPaginator(c, &lambda.ListFunctionUrlConfigsInput{FunctionName: name})
							for p.HasMorePages() {
								out, err := p.NextPage(ctx)
								if err != nil {
									return nil, err
								}
								for _, u := range out.FunctionUrlConfigs {
									v, err := jsonValue(u)
									if err != nil {
										return nil, err
									}
									all = append(all, v)
								}
							}
							return nonNil(all), nil
						})
						return s.emit(ctx, r)
					})
				}
			}
			return w.Wait()
		},
	}
}

// eksClusterCollector emits EKS clusters; "Cluster" is DescribeCluster's output
// (endpoint access, logging, encryption config, version).
func eksClusterCollector() collector {
	return collector{
		name: "eks_clusters", service: "eks", types: []string{TypeEKSCluster},
		collect: func(ctx context.Context, s *scope) error {
			c := eks.NewFromConfig(s.cfg)
			p := eks.NewListClustersPaginator(c, &eks.ListClustersInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "eks:ListClusters")
				}
				for _, name := range out.Clusters {
					r, err := s.newResource(TypeEKSCluster, s.arn("eks", s.region, "cluster/"+name), name, s.region, map[string]any{"Name": name})
					if err != nil {
						return err
					}
					s.enrich(ctx, r, "Cluster", "eks:DescribeCluster", nil, func(ctx context.Context) (any, error) {
						out, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
						if err != nil {
							return nil, err
						}
						if out.Cluster != nil {
							r.Tags = out.Cluster.Tags
							relate(r, "role", aws.ToString(out.Cluster.RoleArn), TypeIAMRole)
						}
						return out.Cluster, nil
					})
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// ecrRepositoryCollector emits repositories (scan on push, tag mutability, encryption
// from the listing) with their repository policy.
func ecrRepositoryCollector() collector {
	return collector{
		name: "ecr_repositories", service: "ecr", types: []string{TypeECRRepository},
		collect: func(ctx context.Context, s *scope) error {
			c := ecr.NewFromConfig(s.cfg)
			p := ecr.NewDescribeRepositoriesPaginator(c, &ecr.DescribeRepositoriesInput{})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "ecr:DescribeRepositories")
				}
				for _, repo := range out.Repositories {
					r, err := s.newResource(TypeECRRepository, aws.ToString(repo.RepositoryArn), aws.ToString(repo.RepositoryName), s.region, repo)
					if err != nil {
						return err
					}
					if repo.EncryptionConfiguration != nil {
						relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(repo.EncryptionConfiguration.KmsKey)), TypeKMSKey)
					}
					s.enrich(ctx, r, "Policy", "ecr:GetRepositoryPolicy", []string{"RepositoryPolicyNotFoundException"}, func(ctx context.Context) (any, error) {
						out, err := c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: repo.RepositoryName, RegistryId: repo.RegistryId})
						if err != nil {
							return nil, err
						}
						return parsePolicyPtr(out.PolicyText), nil
					})
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// envRedacted replaces the literal value of an environment variable in documents.
const envRedacted = "<redacted>"

// envReferenceRe matches values that point at a secret store instead of holding the
// secret: Secrets Manager or SSM parameter ARNs and CloudFormation dynamic references.
var envReferenceRe = regexp.MustCompile(`^(arn:aws[a-z-]*:(secretsmanager|ssm):|\{\{resolve:)`)

// redactEnvValue keeps what a check needs of an environment variable without the
// secret it may hold: "" stays "" (unset), a reference to a secret store is kept as it
// is (it is not secret and shows the good practice), any other value becomes
// "<redacted>". Values are never stored, so their changes never appear in drift.
func redactEnvValue(v string) string {
	switch {
	case v == "", envReferenceRe.MatchString(v):
		return v
	default:
		return envRedacted
	}
}
