// Package aws collects the inventory of one AWS account: it plans collection units
// (collector x region), calls AWS through aws-sdk-go-v2 and emits providers.Resource
// documents whose properties are the SDK output structs, enriched by sub-calls under
// the keys documented in docs/aws-resources.md.
//
// The package imports no database, queue or HTTP-server package. Cloud errors are
// classified here (errors.go): a list call that fails fails its unit with a
// *providers.CloudError; a failed enrichment becomes a providers.Gap on the resource,
// and an optional setting that is not configured is recorded as JSON null.
package aws

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/vigilsec/vigil/providers"
)

// Config configures a Provider. The zero value of every field but AWS is a default.
type Config struct {
	// AccountID is the account being collected. Empty: discovered with
	// sts:GetCallerIdentity.
	AccountID string
	// Regions to collect. Empty: the regions enabled for the account
	// (ec2:DescribeRegions).
	Regions []string
	// Types limits collection to these resource types ("aws.s3.bucket"). Empty: all.
	Types []string
	// EndpointURL overrides every service endpoint (moto_server, LocalStack, private
	// endpoints). It takes precedence over AWS.BaseEndpoint.
	EndpointURL string
	// AWS is the SDK configuration: credentials, HTTP client, retryer (see LoadConfig).
	// Its Region is the home region for global services and discovery; default
	// us-east-1.
	AWS aws.Config
	// Logger receives debug logs (unit outcomes, enrichment gaps). Nil discards them.
	Logger *slog.Logger
	// Concurrency bounds the units CollectAll runs at once. Default 8.
	Concurrency int
	// ResourceConcurrency bounds the resources one unit enriches at once. Default 4.
	ResourceConcurrency int
	// UnitTimeout bounds one unit. Default 15 minutes.
	UnitTimeout time.Duration
}

// Provider collects one AWS account. It implements providers.Provider and is safe for
// concurrent use.
type Provider struct {
	cfg        aws.Config
	account    string
	partition  string
	home       string
	regions    []string
	types      []string
	log        *slog.Logger
	conc       int
	resConc    int
	timeout    int64 // nanoseconds
	collectors []collector
	stats      callStats
}

var _ providers.Provider = (*Provider)(nil)

// New validates c, discovers the account id and regions when not given, and returns
// a Provider.
func New(ctx context.Context, c Config) (*Provider, error) {
	cfg := c.AWS.Copy()
	cfg.Region = cmp.Or(cfg.Region, "us-east-1")
	if c.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(c.EndpointURL)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("aws provider: no credentials in Config.AWS (use LoadConfig)")
	}
	p := &Provider{
		home:       cfg.Region,
		log:        c.Logger,
		conc:       cmp.Or(c.Concurrency, 8),
		resConc:    cmp.Or(c.ResourceConcurrency, 4),
		timeout:    int64(cmp.Or(c.UnitTimeout, 15*time.Minute)),
		collectors: allCollectors(),
		partition:  "aws",
		account:    c.AccountID,
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	for _, t := range c.Types {
		if !slices.ContainsFunc(p.collectors, func(col collector) bool { return slices.Contains(col.types, t) }) {
			return nil, fmt.Errorf("aws provider: unknown resource type %q", t)
		}
	}
	p.types = slices.Clone(c.Types)
	// The counting middleware goes first so that it sees every operation once (retries
	// happen after the Initialize step).
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), p.stats.middleware)
	p.cfg = cfg

	p.partition = partitionOf(cfg.Region)
	if p.account == "" {
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("discover aws account: %w", classify(err, "sts:GetCallerIdentity", p.home))
		}
		p.account = aws.ToString(out.Account)
		if parts := strings.SplitN(aws.ToString(out.Arn), ":", 3); len(parts) == 3 {
			p.partition = parts[1]
		}
	}
	p.regions = slices.Clone(c.Regions)
	if len(p.regions) == 0 {
		out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
		if err != nil {
			return nil, fmt.Errorf("discover aws regions: %w", classify(err, "ec2:DescribeRegions", p.home))
		}
		for _, r := range out.Regions {
			p.regions = append(p.regions, aws.ToString(r.RegionName))
		}
		slices.Sort(p.regions)
	}
	return p, nil
}

// partitionOf is the ARN partition of region, used when the account id is configured
// and the caller identity (which carries the partition) is not asked for.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// AccountID is the account the provider collects.
func (p *Provider) AccountID() string { return p.account }

// Regions are the regions the provider collects.
func (p *Provider) Regions() []string { return slices.Clone(p.regions) }

// Stats returns the number of AWS operations called so far (not counting retries),
// split between list calls and per-resource enrichment calls.
func (p *Provider) Stats() CallStats {
	return CallStats{List: p.stats.list.Load(), Enrich: p.stats.enrich.Load()}
}

// Plan lists the units of a collection: each regional collector once per region, each
// global collector once with region "global". Units are sorted by collector then region.
func (p *Provider) Plan(context.Context) ([]providers.Unit, error) {
	var units []providers.Unit
	for _, c := range p.collectors {
		types := p.wanted(c.types)
		if len(types) == 0 {
			continue
		}
		if c.global {
			units = append(units, providers.Unit{Collector: c.name, Service: c.service, Region: providers.RegionGlobal, Types: types})
			continue
		}
		for _, r := range p.regions {
			units = append(units, providers.Unit{Collector: c.name, Service: c.service, Region: r, Types: types})
		}
	}
	return units, nil
}

// wanted is the subset of types the configuration asks for.
func (p *Provider) wanted(types []string) []string {
	if len(p.types) == 0 {
		return slices.Clone(types)
	}
	var out []string
	for _, t := range types {
		if slices.Contains(p.types, t) {
			out = append(out, t)
		}
	}
	return out
}

// Collect runs one unit and streams its documents to emit. A failed list call returns
// a *providers.CloudError; emit's error is returned as is.
func (p *Provider) Collect(ctx context.Context, unit providers.Unit, emit providers.EmitFunc) error {
	i := slices.IndexFunc(p.collectors, func(c collector) bool { return c.name == unit.Collector })
	if i < 0 {
		return fmt.Errorf("aws provider: unknown collector %q", unit.Collector)
	}
	c := p.collectors[i]
	region := unit.Region
	if c.global != (region == providers.RegionGlobal) {
		return fmt.Errorf("aws provider: collector %s cannot run in region %q", c.name, region)
	}
	types := unit.Types
	if len(types) == 0 {
		types = p.wanted(c.types)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.timeout))
	defer cancel()
	s := &scope{
		p:      p,
		region: region,
		cfg:    p.regionConfig(region),
		log:    p.log.With("collector", c.name, "region", region, "account_id", p.account),
		types:  types,
		emitFn: emit,
	}
	if err := c.collect(ctx, s); err != nil {
		return fmt.Errorf("collect %s: %w", unit, err)
	}
	return nil
}

// regionConfig is the SDK config for calls in region (the home region for global).
func (p *Provider) regionConfig(region string) aws.Config {
	cfg := p.cfg.Copy()
	if region != providers.RegionGlobal {
		cfg.Region = region
	}
	return cfg
}

// CallStats counts AWS operations.
type CallStats struct {
	// List counts list/describe calls that enumerate resources.
	List int64
	// Enrich counts per-resource enrichment calls.
	Enrich int64
}

// Total is List + Enrich.
func (c CallStats) Total() int64 { return c.List + c.Enrich }

type callStats struct{ list, enrich atomic.Int64 }

type enrichKey struct{}

// middleware counts each operation once, as list or enrichment per the context.
func (c *callStats) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("VigilCallStats",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if ctx.Value(enrichKey{}) != nil {
				c.enrich.Add(1)
			} else {
				c.list.Add(1)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}
