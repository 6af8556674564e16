package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/vigilsec/vigil/providers"
)

// TypeKMSKey is a KMS key (customer or AWS managed).
const TypeKMSKey = "aws.kms.key"

// kmsKeyCollector emits KMS keys: DescribeKey metadata, aliases (one ListAliases
// listing per region), rotation status, key policy and tags.
func kmsKeyCollector() collector {
	return collector{name: "kms_keys", service: "kms", types: []string{TypeKMSKey}, collect: collectKMSKeys}
}

func collectKMSKeys(ctx context.Context, s *scope) error {
	c := kms.NewFromConfig(s.cfg)
	aliases := map[string][]string{}
	ap := kms.NewListAliasesPaginator(c, &kms.ListAliasesInput{})
	for ap.HasMorePages() {
		out, err := ap.NextPage(ctx)
		if err != nil {
			return s.fail(err, "kms:ListAliases")
		}
		for _, a := range out.Aliases {
			if a.TargetKeyId != nil {
				aliases[*a.TargetKeyId] = append(aliases[*a.TargetKeyId], aws.ToString(a.AliasName))
			}
		}
	}
	p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{})
	w := s.workers(ctx)
	defer func() { _ = w.Wait() }() // no goroutine outlives the unit
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			_ = w.Wait()
			return s.fail(err, "kms:ListKeys")
		}
		for _, k := range out.Keys {
			w.Go(func(ctx context.Context) error {
				r, err := kmsKey(ctx, s, c, k, aliases[aws.ToString(k.KeyId)])
				if err != nil {
					return err
				}
				return s.emit(ctx, r)
			})
		}
	}
	return w.Wait()
}

func kmsKey(ctx context.Context, s *scope, c *kms.Client, k kmstypes.KeyListEntry, aliases []string) (*providers.Resource, error) {
	r, err := s.newResource(TypeKMSKey, aws.ToString(k.KeyArn), aws.ToString(k.KeyId), s.region, k)
	if err != nil {
		return nil, err
	}
	r.Properties["Aliases"] = nonNil(aliases)
	if len(aliases) > 0 {
		r.Name = aliases[0]
	}
	s.enrich(ctx, r, "KeyMetadata", "kms:DescribeKey", nil, func(ctx context.Context) (any, error) {
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil {
			return nil, err
		}
		return out.KeyMetadata, nil
	})
	// Rotation is only defined for symmetric customer keys; AWS answers
	// UnsupportedOperationException for the others, which is data, not a gap.
	s.enrich(ctx, r, "KeyRotationEnabled", "kms:GetKeyRotationStatus", []string{"UnsupportedOperationException"}, func(ctx context.Context) (any, error) {
		out, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyId})
		if err != nil {
			return nil, err
		}
		return out.KeyRotationEnabled, nil
	})
	s.enrich(ctx, r, "Policy", "kms:GetKeyPolicy", nil, func(ctx context.Context) (any, error) {
		out, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId, PolicyName: aws.String("default")})
		if err != nil {
			return nil, err
		}
		return parsePolicyPtr(out.Policy), nil
	})
	s.enrich(ctx, r, "Tags", "kms:ListResourceTags", nil, func(ctx context.Context) (any, error) {
		var tags []kmstypes.Tag
		p := kms.NewListResourceTagsPaginator(c, &kms.ListResourceTagsInput{KeyId: k.KeyId})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			tags = append(tags, out.Tags...)
		}
		r.Tags = tagMap(tags, func(t kmstypes.Tag) (*string, *string) { return t.TagKey, t.TagValue })
		return nonNil(tags), nil
	})
	return r, nil
}
