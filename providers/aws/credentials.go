package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Credentials says how to authenticate to one AWS account. The zero value uses the
// SDK's default chain (environment, shared files, web identity, instance role).
type Credentials struct {
	// AccessKeyID and SecretAccessKey (and SessionToken) are static keys. Empty: the
	// default chain.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// RoleARN, when set, is assumed with the credentials above (the preferred
	// onboarding: a role in the customer's account trusting ours).
	RoleARN string
	// ExternalID is passed to sts:AssumeRole; customer roles require it to prevent the
	// confused-deputy problem.
	ExternalID string
	// SessionName names the assumed-role session in the customer's CloudTrail.
	// Default "vigil".
	SessionName string
	// Region is the region of STS and of the first calls. Default us-east-1.
	Region string
	// EndpointURL overrides every service endpoint (private endpoints, LocalStack,
	// moto_server). S3 clients then use path-style addressing.
	EndpointURL string
	// MaxAttempts bounds attempts per call, retries included. Default 8.
	MaxAttempts int
	// HTTPClient replaces the default HTTP client (tests, proxies). A plain
	// *http.Client cannot be combined with AWS_CA_BUNDLE.
	HTTPClient aws.HTTPClient
}

// LoadConfig builds the aws.Config a Provider uses: credentials from c, adaptive retry
// mode (client-side rate limiting that backs off on throttling, shared by all clients
// built from the config), bounded attempts, and the optional endpoint override.
func LoadConfig(ctx context.Context, c Credentials) (aws.Config, error) {
	maxAttempts := c.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 8
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	// One retryer for every client of the config: adaptive mode keeps a token bucket,
	// and sharing it is what makes a throttled service slow the whole scan down.
	retryer := newRetryer(maxAttempts)
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() aws.Retryer { return retryer }),
		config.WithRetryMaxAttempts(maxAttempts),
	}
	if c.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(c.HTTPClient))
	} else {
		// The buildable client honours AWS_CA_BUNDLE (a custom *http.Client cannot).
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(2*time.Minute)))
	}
	if c.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	if c.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(c.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if c.RoleARN != "" {
		name := c.SessionName
		if name == "" {
			name = "vigil"
		}
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = name
			if c.ExternalID != "" {
				o.ExternalID = aws.String(c.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, nil
}

// newRetryer is adaptive retry mode with maxAttempts attempts and a 20 s backoff cap.
func newRetryer(maxAttempts int) aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.MaxBackoff = 20 * time.Second
		})
	})
}
