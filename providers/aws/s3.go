package aws

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilsec/vigil/providers"
)

// TypeS3Bucket is an S3 general purpose bucket.
const TypeS3Bucket = "aws.s3.bucket"

// s3BucketCollector lists buckets once per account (the list is global) and reads
// each bucket's settings in the bucket's own region.
func s3BucketCollector() collector {
	return collector{name: "s3_buckets", service: "s3", types: []string{TypeS3Bucket}, global: true, collect: collectS3Buckets}
}

func collectS3Buckets(ctx context.Context, s *scope) error {
	clients := map[string]*s3.Client{}
	var mu sync.Mutex
	client := func(region string) *s3.Client {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clients[region]; ok {
			return c
		}
		c := s3.NewFromConfig(s.cfg, s.p.s3Options, func(o *s3.Options) { o.Region = region })
		clients[region] = c
		return c
	}
	home := client(s.cfg.Region)
	// No MaxBuckets: without it AWS returns every bucket, and some emulators truncate
	// without a continuation token when it is set.
	in := &s3.ListBucketsInput{}
	w := s.workers(ctx)
	defer func() { _ = w.Wait() }() // no goroutine outlives the unit
	for {
		out, err := home.ListBuckets(ctx, in)
		if err != nil {
			_ = w.Wait()
			return s.fail(err, "s3:ListBuckets")
		}
		for _, b := range out.Buckets {
			w.Go(func(ctx context.Context) error {
				r, err := s3Bucket(ctx, s, home, client, b)
				if err != nil {
					return err
				}
				return s.emit(ctx, r)
			})
		}
		if aws.ToString(out.ContinuationToken) == "" {
			return w.Wait()
		}
		in.ContinuationToken = out.ContinuationToken
	}
}

func s3Bucket(ctx context.Context, s *scope, home *s3.Client, client func(string) *s3.Client, b s3types.Bucket) (*providers.Resource, error) {
	name := aws.ToString(b.Name)
	region := aws.ToString(b.BucketRegion)
	var locErr error
	if region == "" {
		// Older APIs and emulators omit BucketRegion: ask for the location constraint,
		// where "" means us-east-1 and "EU" the historical eu-west-1.
		out, err := home.GetBucketLocation(context.WithValue(ctx, enrichKey{}, true), &s3.GetBucketLocationInput{Bucket: b.Name})
		switch {
		case err != nil:
			locErr = err
			region = s.cfg.Region
		case out.LocationConstraint == "":
			region = "us-east-1"
		case out.LocationConstraint == s3types.BucketLocationConstraintEu:
			region = "eu-west-1"
		default:
			region = string(out.LocationConstraint)
		}
	}
	r, err := s.newResource(TypeS3Bucket, "arn:"+s.p.partition+":s3:::"+name, name, region, b)
	if err != nil {
		return nil, err
	}
	r.Properties["BucketRegion"] = region
	if locErr != nil {
		s.gap(r, "BucketRegion", "s3:GetBucketLocation", locErr)
	}
	c := client(region)
	bucket := b.Name

	s.enrich(ctx, r, "ServerSideEncryptionConfiguration", "s3:GetBucketEncryption", []string{"ServerSideEncryptionConfigurationNotFoundError"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		if out.ServerSideEncryptionConfiguration != nil {
			for _, rule := range out.ServerSideEncryptionConfiguration.Rules {
				if d := rule.ApplyServerSideEncryptionByDefault; d != nil {
					relate(r, "kms_key", s.kmsKeyARN(region, aws.ToString(d.KMSMasterKeyID)), TypeKMSKey)
				}
			}
		}
		return out.ServerSideEncryptionConfiguration, nil
	})
	s.enrich(ctx, r, "PublicAccessBlockConfiguration", "s3:GetPublicAccessBlock", []string{"NoSuchPublicAccessBlockConfiguration"}, func(ctx context.Context) (any, error) {
		out, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return out.PublicAccessBlockConfiguration, nil
	})
	s.enrich(ctx, r, "Policy", "s3:GetBucketPolicy", []string{"NoSuchBucketPolicy"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return parsePolicyPtr(out.Policy), nil
	})
	s.enrich(ctx, r, "PolicyStatus", "s3:GetBucketPolicyStatus", []string{"NoSuchBucketPolicy"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return out.PolicyStatus, nil
	})
	s.enrich(ctx, r, "Versioning", "s3:GetBucketVersioning", nil, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return map[string]any{"Status": string(out.Status), "MFADelete": string(out.MFADelete)}, nil
	})
	s.enrich(ctx, r, "LoggingEnabled", "s3:GetBucketLogging", nil, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		if out.LoggingEnabled != nil {
			relate(r, "logging_target", "arn:"+s.p.partition+":s3:::"+aws.ToString(out.LoggingEnabled.TargetBucket), TypeS3Bucket)
		}
		return out.LoggingEnabled, nil
	})
	s.enrich(ctx, r, "Acl", "s3:GetBucketAcl", nil, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return map[string]any{"Owner": out.Owner, "Grants": nonNil(out.Grants)}, nil
	})
	s.enrich(ctx, r, "OwnershipControls", "s3:GetBucketOwnershipControls", []string{"OwnershipControlsNotFoundError"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return out.OwnershipControls, nil
	})
	s.enrich(ctx, r, "ObjectLockConfiguration", "s3:GetObjectLockConfiguration", []string{"ObjectLockConfigurationNotFoundError"}, func(ctx context.Context) (any, error) {
		out, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return out.ObjectLockConfiguration, nil
	})
	s.enrich(ctx, r, "LifecycleRules", "s3:GetBucketLifecycleConfiguration", []string{"NoSuchLifecycleConfiguration"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return nonNil(out.Rules), nil
	})
	s.enrich(ctx, r, "ReplicationConfiguration", "s3:GetBucketReplication", []string{"ReplicationConfigurationNotFoundError"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		return out.ReplicationConfiguration, nil
	})
	s.enrich(ctx, r, "TagSet", "s3:GetBucketTagging", []string{"NoSuchTagSet", "NoSuchTagSetError"}, func(ctx context.Context) (any, error) {
		out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
		if err != nil {
			return nil, err
		}
		r.Tags = tagMap(out.TagSet, func(t s3types.Tag) (*string, *string) { return t.Key, t.Value })
		return nonNil(out.TagSet), nil
	})
	return r, nil
}

// s3Options makes S3 clients address buckets by path when the endpoint is overridden:
// "bucket.host" does not resolve for private endpoints and emulators.
func (p *Provider) s3Options(o *s3.Options) {
	if p.cfg.BaseEndpoint != nil {
		o.UsePathStyle = true
	}
}

// kmsKeyARN turns a KMS key reference (key id, alias name, key or alias ARN) into an
// ARN in region, or "" when ref is empty.
func (s *scope) kmsKeyARN(region, ref string) string {
	switch {
	case ref == "":
		return ""
	case strings.HasPrefix(ref, "arn:"):
		return ref
	case strings.HasPrefix(ref, "alias/"):
		return s.arn("kms", region, ref)
	default:
		return s.arn("kms", region, "key/"+ref)
	}
}
