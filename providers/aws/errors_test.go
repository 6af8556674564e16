package aws

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
)

func apiErr(code string, status int) error {
	return &smithy.OperationError{ServiceID: "X", OperationName: "Op", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: &smithy.GenericAPIError{Code: code, Message: "m"}},
	}}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want providers.ErrorKind
	}{
		{"s3 access denied", apiErr("AccessDenied", 403), providers.KindAccessDenied},
		{"json access denied", apiErr("AccessDeniedException", 400), providers.KindAccessDenied},
		{"ec2 unauthorized", apiErr("UnauthorizedOperation", 403), providers.KindAccessDenied},
		{"sns authorization", apiErr("AuthorizationError", 403), providers.KindAccessDenied},
		{"unknown code with 403", apiErr("SomethingNew", 403), providers.KindAccessDenied},
		{"throttling", apiErr("ThrottlingException", 400), providers.KindThrottled},
		{"ec2 request limit", apiErr("RequestLimitExceeded", 503), providers.KindThrottled},
		{"429", apiErr("", 429), providers.KindThrottled},
		{"opt-in region", apiErr("OptInRequired", 403), providers.KindOptInRequired},
		{"unknown token in disabled region", apiErr("InvalidClientTokenId", 403), providers.KindOptInRequired},
		{"not subscribed", apiErr("SubscriptionRequiredException", 400), providers.KindServiceDisabled},
		{"security hub not enabled", apiErr("InvalidAccessException", 400), providers.KindServiceDisabled},
		{"no such entity", apiErr("NoSuchEntity", 404), providers.KindNotFound},
		{"resource not found", apiErr("ResourceNotFoundException", 400), providers.KindNotFound},
		{"server error", apiErr("InternalFailure", 500), providers.KindOther},
		{"not an api error", errors.New("dial tcp: refused"), providers.KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ce := classify(fmt.Errorf("wrapped: %w", tt.err), "svc:Op", "eu-west-1")
			require.Equal(t, tt.want, ce.Kind)
			require.Equal(t, "svc:Op", ce.Operation)
			require.Equal(t, tt.want, providers.KindOf(fmt.Errorf("unit: %w", ce)))
			require.ErrorIs(t, ce, tt.err)
			require.Same(t, ce, classify(ce, "other:Op", "us-east-1"), "classified errors are kept")
		})
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"json", `{"Version":"2012-10-17"}`, map[string]any{"Version": "2012-10-17"}},
		{"url encoded", `%7B%22Version%22%3A%222012-10-17%22%7D`, map[string]any{"Version": "2012-10-17"}},
		{"empty", "  ", nil},
		{"not json kept as text", "not a policy", "not a policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, parsePolicy(tt.in))
		})
	}
}

func TestParseCredentialReport(t *testing.T) {
	rows, err := parseCredentialReport([]byte("user,arn,mfa_active\n<root_account>,arn:aws:iam::1:root,true\nalice,arn:aws:iam::1:user/alice,false\n"))
	require.NoError(t, err)
	require.Equal(t, []any{
		map[string]any{"user": "<root_account>", "arn": "arn:aws:iam::1:root", "mfa_active": "true"},
		map[string]any{"user": "alice", "arn": "arn:aws:iam::1:user/alice", "mfa_active": "false"},
	}, rows)
	rows, err = parseCredentialReport(nil)
	require.NoError(t, err)
	require.Empty(t, rows)
}
