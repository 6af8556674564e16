package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// RDS resource types.
const (
	TypeRDSInstance = "aws.rds.db_instance"
	TypeRDSCluster  = "aws.rds.db_cluster"
	TypeRDSSnapshot = "aws.rds.db_snapshot"
)

func rdsTags(tags []rdstypes.Tag) map[string]string {
	return tagMap(tags, func(t rdstypes.Tag) (*string, *string) { return t.Key, t.Value })
}

// rdsInstanceCollector emits DB instances as DescribeDBInstances returns them
// (encryption, public accessibility, backups, tags are all in the listing).
func rdsInstanceCollector() collector {
	return collector{
		name: "rds_db_instances", service: "rds", types: []string{TypeRDSInstance},
		collect: func(ctx context.Context, s *scope) error {
			p := rds.NewDescribeDBInstancesPaginator(rds.NewFromConfig(s.cfg), &rds.DescribeDBInstancesInput{MaxRecords: aws.Int32(100)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "rds:DescribeDBInstances")
				}
				for _, db := range out.DBInstances {
					r, err := s.newResource(TypeRDSInstance, aws.ToString(db.DBInstanceArn), aws.ToString(db.DBInstanceIdentifier), s.region, db)
					if err != nil {
						return err
					}
					r.Tags = rdsTags(db.TagList)
					relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(db.KmsKeyId)), TypeKMSKey)
					for _, g := range db.VpcSecurityGroups {
						relate(r, "security_group", s.ec2ARN("security-group", aws.ToString(g.VpcSecurityGroupId)), TypeEC2SecurityGroup)
					}
					if db.DBClusterIdentifier != nil {
						relate(r, "db_cluster", s.arn("rds", s.region, "cluster:"+aws.ToString(db.DBClusterIdentifier)), TypeRDSCluster)
					}
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// rdsClusterCollector emits Aurora and Multi-AZ DB clusters.
func rdsClusterCollector() collector {
	return collector{
		name: "rds_db_clusters", service: "rds", types: []string{TypeRDSCluster},
		collect: func(ctx context.Context, s *scope) error {
			p := rds.NewDescribeDBClustersPaginator(rds.NewFromConfig(s.cfg), &rds.DescribeDBClustersInput{MaxRecords: aws.Int32(100)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "rds:DescribeDBClusters")
				}
				for _, cl := range out.DBClusters {
					r, err := s.newResource(TypeRDSCluster, aws.ToString(cl.DBClusterArn), aws.ToString(cl.DBClusterIdentifier), s.region, cl)
					if err != nil {
						return err
					}
					r.Tags = rdsTags(cl.TagList)
					relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(cl.KmsKeyId)), TypeKMSKey)
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// rdsSnapshotCollector emits the account's DB snapshots. Manual snapshots carry
// "SnapshotAttributes" (restore: ["all"] means public); automated snapshots cannot
// be shared and carry null.
func rdsSnapshotCollector() collector {
	return collector{
		name: "rds_db_snapshots", service: "rds", types: []string{TypeRDSSnapshot},
		collect: func(ctx context.Context, s *scope) error {
			c := rds.NewFromConfig(s.cfg)
			p := rds.NewDescribeDBSnapshotsPaginator(c, &rds.DescribeDBSnapshotsInput{MaxRecords: aws.Int32(100)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return s.fail(err, "rds:DescribeDBSnapshots")
				}
				for _, snap := range out.DBSnapshots {
					r, err := s.newResource(TypeRDSSnapshot, aws.ToString(snap.DBSnapshotArn), aws.ToString(snap.DBSnapshotIdentifier), s.region, snap)
					if err != nil {
						return err
					}
					r.Tags = rdsTags(snap.TagList)
					relate(r, "kms_key", s.kmsKeyARN(s.region, aws.ToString(snap.KmsKeyId)), TypeKMSKey)
					r.Properties["SnapshotAttributes"] = nil
					if aws.ToString(snap.SnapshotType) == "manual" {
						s.enrich(ctx, r, "SnapshotAttributes", "rds:DescribeDBSnapshotAttributes", nil, func(ctx context.Context) (any, error) {
							out, err := c.DescribeDBSnapshotAttributes(ctx, &rds.DescribeDBSnapshotAttributesInput{DBSnapshotIdentifier: snap.DBSnapshotIdentifier})
							if err != nil {
								return nil, err
							}
							if out.DBSnapshotAttributesResult == nil {
								return []any{}, nil
							}
							return nonNil(out.DBSnapshotAttributesResult.DBSnapshotAttributes), nil
						})
					}
					if err := s.emit(ctx, r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}
