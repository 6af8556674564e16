package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/store"
)

// AWS credential kinds of a cloud account.
const (
	CredAssumeRole   = "assume_role"   // Vigil's identity assumes a role in the customer's account
	CredStatic       = "static"        // access keys (testing, LocalStack, moto)
	CredDefaultChain = "default_chain" // the process's own AWS identity (self-hosted)
)

// StaticSecret is the sealed secret of a static-key account.
type StaticSecret struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token,omitempty"`
}

// AccountConfig is the non-secret part of an account's settings (cloud_accounts.config).
type AccountConfig struct {
	RoleARN     string `json:"role_arn,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	EndpointURL string `json:"endpoint_url,omitempty"`
	// Types limits collection to these resource types; empty collects everything.
	Types []string `json:"types,omitempty"`
}

// ParseAccountConfig reads an account's config map.
func ParseAccountConfig(m map[string]any) (AccountConfig, error) {
	var c AccountConfig
	b, err := json.Marshal(m)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("account config: %w", err)
	}
	return c, nil
}

// CloudProviders returns the ProviderFunc of the clouds Vigil supports. For AWS: the
// account's credentials (assumed role with external id, static keys, or the default
// chain), its regions and optional endpoint override.
func CloudProviders(logger *slog.Logger) ProviderFunc {
	return func(ctx context.Context, acct store.Account, secret []byte) (providers.Provider, error) {
		switch acct.Provider {
		case providers.AWS:
			creds, cfg, err := AWSCredentials(acct, secret)
			if err != nil {
				return nil, err
			}
			awsCfg, err := awsprov.LoadConfig(ctx, creds)
			if err != nil {
				return nil, err
			}
			return awsprov.New(ctx, awsprov.Config{AccountID: acct.NativeID, Regions: acct.Regions, Types: cfg.Types,
				EndpointURL: cfg.EndpointURL, AWS: awsCfg, Logger: logger.With("account_id", acct.ID)})
		default:
			return nil, fmt.Errorf("provider %q is not supported yet", acct.Provider)
		}
	}
}

// AWSCredentials turns an account's settings and opened secret into SDK credentials.
func AWSCredentials(acct store.Account, secret []byte) (awsprov.Credentials, AccountConfig, error) {
	cfg, err := ParseAccountConfig(acct.Config)
	if err != nil {
		return awsprov.Credentials{}, cfg, err
	}
	c := awsprov.Credentials{EndpointURL: cfg.EndpointURL, SessionName: "vigil-" + acct.ID.String()[:8]}
	switch acct.CredentialKind {
	case CredAssumeRole:
		c.RoleARN, c.ExternalID = cfg.RoleARN, cfg.ExternalID
		if len(secret) > 0 { // keys of Vigil's own principal, when it is not the default chain
			var s StaticSecret
			if err := json.Unmarshal(secret, &s); err != nil {
				return c, cfg, fmt.Errorf("account secret: %w", err)
			}
			c.AccessKeyID, c.SecretAccessKey, c.SessionToken = s.AccessKeyID, s.SecretAccessKey, s.SessionToken
		}
	case CredStatic:
		var s StaticSecret
		if err := json.Unmarshal(secret, &s); err != nil {
			return c, cfg, fmt.Errorf("account secret: %w", err)
		}
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = s.AccessKeyID, s.SecretAccessKey, s.SessionToken
	case CredDefaultChain:
	default:
		return c, cfg, fmt.Errorf("credential kind %q is not supported for aws", acct.CredentialKind)
	}
	return c, cfg, nil
}
