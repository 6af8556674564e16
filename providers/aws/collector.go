package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/vigilsec/vigil/providers"
)

// collector lists one or more resource types of one service. A global collector runs
// once per account (region "global"); the others once per region.
type collector struct {
	name    string
	service string
	types   []string
	global  bool
	collect func(ctx context.Context, s *scope) error
}

// allCollectors is the explicit list of collectors, in planning order.
func allCollectors() []collector {
	return []collector{
		accountCollector(),
		iamAuthorizationCollector(),
		iamInstanceProfileCollector(),
		iamProviderCollector(),
		iamServerCertificateCollector(),
		iamVirtualMFACollector(),
		s3BucketCollector(),
		ec2InstanceCollector(),
		ec2SecurityGroupCollector(),
		ec2NetworkACLCollector(),
		ec2VPCCollector(),
		ec2SubnetCollector(),
		ec2RouteTableCollector(),
		ec2InternetGatewayCollector(),
		ec2NATGatewayCollector(),
		ec2VPCEndpointCollector(),
		ec2VPCPeeringCollector(),
		ec2VolumeCollector(),
		ec2SnapshotCollector(),
		ec2ImageCollector(),
		ec2AddressCollector(),
		ec2LaunchTemplateCollector(),
		ec2KeyPairCollector(),
		kmsKeyCollector(),
		cloudtrailTrailCollector(),
		logsLogGroupCollector(),
		logsMetricFilterCollector(),
		cloudwatchAlarmCollector(),
		snsTopicCollector(),
		sqsQueueCollector(),
		rdsInstanceCollector(),
		rdsClusterCollector(),
		rdsSnapshotCollector(),
		dynamodbTableCollector(),
		lambdaFunctionCollector(),
		eksClusterCollector(),
		ecrRepositoryCollector(),
		elbv2Collector(),
		elbClassicCollector(),
		configCollector(),
		guardDutyCollector(),
		securityHubCollector(),
		accessAnalyzerCollector(),
		secretsManagerCollector(),
		acmCollector(),
		efsCollector(),
		ecsTaskDefinitionCollector(),
		elastiCacheCollector(),
		redshiftCollector(),
		openSearchCollector(),
		backupCollector(),
		cloudFrontCollector(),
		apiGatewayCollector(),
		wafv2Collector(),
	}
}

// scope is what one running unit needs: the provider, the region's SDK config, a
// logger and the emit function filtered to the unit's types.
type scope struct {
	p      *Provider
	region string
	cfg    aws.Config
	log    *slog.Logger
	types  []string
	emitFn providers.EmitFunc
	// emitMu serialises emitFn: documents of one unit are built concurrently (see
	// workers) but EmitFunc implementations need not be safe for concurrent use.
	emitMu sync.Mutex
}

// workers runs the per-resource work of a unit (enrichment calls, then emit) on at
// most Config.ResourceConcurrency goroutines: enrichment is one to a dozen sequential
// calls per resource, and doing resources one by one makes a large unit as slow as
// the sum of their latencies.
type workers struct {
	g   *errgroup.Group
	ctx context.Context
}

func (s *scope) workers(ctx context.Context) *workers {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.p.resConc)
	return &workers{g: g, ctx: gctx}
}

// Go runs fn with the group's context; the first error cancels the others.
func (w *workers) Go(fn func(ctx context.Context) error) {
	w.g.Go(func() error { return fn(w.ctx) })
}

// Wait waits for every fn and returns the first error.
func (w *workers) Wait() error { return w.g.Wait() }

// fail classifies the failure of a list call, which fails the unit.
func (s *scope) fail(err error, op string) error {
	return classify(err, op, s.region)
}

// arn builds an ARN in the account's partition: arn(service, region, resource).
func (s *scope) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.p.partition, service, region, s.p.account, resource)
}

// newResource starts a document of type typ. props is the SDK output struct.
func (s *scope) newResource(typ, nativeID, name, region string, props any) (*providers.Resource, error) {
	m, err := providers.ToProperties(props)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", typ, nativeID, err)
	}
	return &providers.Resource{
		Provider:   providers.AWS,
		AccountID:  s.p.account,
		NativeID:   nativeID,
		Type:       typ,
		Region:     region,
		Name:       name,
		Tags:       map[string]string{},
		Properties: m,
	}, nil
}

// emit sends r unless its type is outside the unit's types.
func (s *scope) emit(ctx context.Context, r *providers.Resource) error {
	if !slices.Contains(s.types, r.Type) {
		return nil
	}
	if r.Tags == nil {
		r.Tags = map[string]string{}
	}
	// Collectors add enrichments as Go values ([]string, map[string]string, SDK
	// structs); documents hold plain JSON values only, so those are converted here,
	// once, for every collector.
	for k, v := range r.Properties {
		if !isPlainJSON(v) {
			jv, err := jsonValue(v)
			if err != nil {
				return fmt.Errorf("%s property %s: %w", r.NativeID, k, err)
			}
			r.Properties[k] = jv
		}
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	return s.emitFn(ctx, *r)
}

// isPlainJSON reports whether v holds only values encoding/json decodes to
// (map[string]any, []any, string, float64, bool, nil).
func isPlainJSON(v any) bool {
	switch x := v.(type) {
	case nil, string, float64, bool:
		return true
	case map[string]any:
		for _, c := range x {
			if !isPlainJSON(c) {
				return false
			}
		}
		return true
	case []any:
		for _, c := range x {
			if !isPlainJSON(c) {
				return false
			}
		}
		return true
	}
	return false
}

// enrich runs one enrichment call and stores its result under key: the value when
// the call succeeds, JSON null when it fails with one of the notConfigured codes (the
// setting does not exist), and otherwise a Gap with the key absent.
func (s *scope) enrich(ctx context.Context, r *providers.Resource, key, op string, notConfigured []string, call func(ctx context.Context) (any, error)) {
	v, err := call(context.WithValue(ctx, enrichKey{}, true))
	if err != nil {
		if len(notConfigured) > 0 && isCode(err, notConfigured...) {
			r.Properties[key] = nil
			return
		}
		s.gap(r, key, op, err)
		return
	}
	jv, err := jsonValue(v)
	if err != nil {
		s.gap(r, key, op, err)
		return
	}
	r.Properties[key] = jv
}

// gap records that key of r could not be read because op failed with err.
func (s *scope) gap(r *providers.Resource, key, op string, err error) {
	delete(r.Properties, key)
	ce := classify(err, op, s.region)
	s.log.Debug("enrichment gap", "native_id", r.NativeID, "property", key, "operation", op, "kind", ce.Kind)
	r.Gaps = append(r.Gaps, providers.Gap{Property: key, Operation: op, Kind: ce.Kind, Message: errorMessage(err)})
}

// relate adds an edge from r when target is not empty.
func relate(r *providers.Resource, kind, target, targetType string) {
	if target == "" {
		return
	}
	rel := providers.Relation{Kind: kind, TargetID: target, TargetType: targetType}
	if slices.Contains(r.Relations, rel) {
		return
	}
	r.Relations = append(r.Relations, rel)
}

// jsonValue turns an SDK value into the JSON-shaped value documents hold.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string, float64, bool:
		return v, nil
	}
	// Maps and slices go through JSON too: an enrichment may build a map holding SDK
	// structs (the S3 ACL's grants), and documents must be plain JSON values.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("unmarshal: %w", err)
	}
	// Whole SDK outputs carry the middleware metadata, which is not cloud data.
	if m, ok := out.(map[string]any); ok {
		delete(m, "ResultMetadata")
	}
	return out, nil
}

// parsePolicy parses a policy document. IAM returns documents URL-encoded: text that
// starts with '%' is decoded first. Text that is not JSON is returned as it is, an
// empty text as nil.
func parsePolicy(doc string) any {
	doc = strings.TrimSpace(doc)
	if doc == "" {
		return nil
	}
	if strings.HasPrefix(doc, "%") {
		if dec, err := url.QueryUnescape(doc); err == nil {
			doc = dec
		}
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return doc
	}
	return v
}

// parsePolicyPtr is parsePolicy of an optional string.
func parsePolicyPtr(doc *string) any {
	if doc == nil {
		return nil
	}
	return parsePolicy(*doc)
}

// tagMap turns an SDK tag list into a map.
func tagMap[T any](tags []T, kv func(T) (*string, *string)) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := kv(t)
		if k != nil {
			m[*k] = aws.ToString(v)
		}
	}
	return m
}

// emitDoc builds a document of type typ in the unit's region from v, lets finish add
// relations and enrichment, and emits it.
func (s *scope) emitDoc(ctx context.Context, typ, nativeID, name string, v any, finish func(r *providers.Resource)) error {
	r, err := s.newResource(typ, nativeID, name, s.region, v)
	if err != nil {
		return err
	}
	if finish != nil {
		finish(r)
	}
	return s.emit(ctx, r)
}
