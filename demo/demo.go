// Package demo gives `make demo` a realistic AWS estate without cloud credentials: the
// HTTP traffic of the real collectors against a sample estate, recorded on two days
// (cassettes/day1.yaml, day2.yaml, made by demo/record), is replayed through the same
// collectors, so the demo tenant gets real documents, drift between the days, and the
// findings they cause.
package demo

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/vigilsec/vigil/providers"
	awsprov "github.com/vigilsec/vigil/providers/aws"
	"github.com/vigilsec/vigil/store"
)

// CredentialKind marks the demo account: its collector replays the recordings.
const CredentialKind = "demo"

// Endpoint is the AWS endpoint of replays; nothing listens there, the recorder answers.
const Endpoint = "http://aws.demo.invalid"

// AccountID is the AWS account of the recorded estate (moto's).
const AccountID = "123456789012"

// Regions of the recorded estate.
var Regions = []string{"us-east-1", "eu-west-1"}

// Types are the resource types the demo collects: those the recorded emulator serves.
var Types = []string{
	"aws.account", "aws.iam.user", "aws.iam.group", "aws.iam.role", "aws.iam.policy", "aws.iam.instance_profile",
	"aws.s3.bucket", "aws.ec2.instance", "aws.ec2.security_group", "aws.ec2.vpc", "aws.ec2.subnet", "aws.ec2.volume",
	"aws.ec2.snapshot", "aws.ec2.network_acl", "aws.ec2.route_table", "aws.ec2.internet_gateway", "aws.kms.key",
	"aws.cloudtrail.trail", "aws.logs.log_group", "aws.sns.topic", "aws.sqs.queue", "aws.dynamodb.table",
	"aws.rds.db_instance", "aws.lambda.function",
}

//go:embed cassettes
var cassettes embed.FS

// Snapshots are the recorded days, oldest first.
var Snapshots = []string{"day1", "day2"}

// embedFS serves cassettes read-only to the recorder.
type embedFS struct{ fsys fs.FS }

func (e embedFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(e.fsys, name) }
func (e embedFS) WriteFile(string, []byte) error       { return errors.New("demo cassettes are read-only") }
func (e embedFS) IsFileExists(name string) bool {
	_, err := fs.Stat(e.fsys, name)
	return err == nil
}

// Match pairs a request with a recorded one by method, path, query and body: the host
// differs between recording and replay, and signatures and dates always differ.
func Match(r *http.Request, i cassette.Request) bool {
	if r.Method != i.Method {
		return false
	}
	if r.URL.RequestURI() != requestURI(i.URL) {
		return false
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		body = b
	}
	return string(body) == i.Body
}

func requestURI(raw string) string {
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		return raw
	}
	return req.URL.RequestURI()
}

// NewProvider returns the AWS provider of the demo account, replaying the snapshot
// named in the account's config ("demo_snapshot"; default the latest).
func NewProvider(ctx context.Context, acct store.Account) (providers.Provider, error) {
	snap, _ := acct.Config["demo_snapshot"].(string)
	if snap == "" {
		snap = Snapshots[len(Snapshots)-1]
	}
	sub, err := fs.Sub(cassettes, "cassettes")
	if err != nil {
		return nil, err
	}
	open := func(replayable bool) (*recorder.Recorder, error) {
		return recorder.New(snap, recorder.WithMode(recorder.ModeReplayOnly), recorder.WithFS(embedFS{sub}),
			recorder.WithMatcher(Match), recorder.WithReplayableInteractions(replayable), recorder.WithSkipRequestLatency(true))
	}
	// Identical requests get the recorded answers in order (a credential report polled
	// until ready); once those are used up, the last answers repeat.
	inOrder, err := open(false)
	if err != nil {
		return nil, fmt.Errorf("demo recording %s: %w", snap, err)
	}
	repeat, err := open(true)
	if err != nil {
		return nil, fmt.Errorf("demo recording %s: %w", snap, err)
	}
	rec := replay{inOrder: inOrder, repeat: repeat}
	return ProviderOver(ctx, rec, Endpoint)
}

// ProviderOver builds the real AWS provider of the demo estate over an HTTP transport
// (the recorder, replaying or recording).
func ProviderOver(ctx context.Context, rt http.RoundTripper, endpoint string) (providers.Provider, error) {
	cfg, err := awsprov.LoadConfig(ctx, awsprov.Credentials{AccessKeyID: "demo", SecretAccessKey: "demo",
		EndpointURL: endpoint, MaxAttempts: 1})
	if err != nil {
		return nil, err
	}
	// Swapped in after loading: the SDK applies a custom CA bundle (AWS_CA_BUNDLE) only
	// to its own client type at load time, and the recorder needs none.
	cfg.HTTPClient = &http.Client{Transport: rt}
	return awsprov.New(ctx, awsprov.Config{AccountID: AccountID, Regions: Regions, Types: Types, EndpointURL: endpoint, AWS: cfg, Concurrency: 4})
}

// replay answers from the recording in order, then from any matching interaction.
type replay struct{ inOrder, repeat http.RoundTripper }

func (r replay) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := r.inOrder.RoundTrip(req)
	if err == nil || !errors.Is(err, cassette.ErrInteractionNotFound) {
		return resp, err
	}
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return r.repeat.RoundTrip(req)
}
