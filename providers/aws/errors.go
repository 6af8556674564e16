package aws

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/vigilsec/vigil/providers"
)

// Error codes AWS services use for each kind of failure. Codes differ per service
// and protocol (EC2 says UnauthorizedOperation, SNS AuthorizationError), so the lists
// are explicit; the HTTP status is the fallback.
var (
	accessDeniedCodes = []string{
		"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
		"AuthorizationError", "UnauthorizedAccess", "UnauthorizedException",
		"Forbidden", "ForbiddenException", "AuthorizationErrorException",
		"AccessDeniedForDependencyException", "AllAccessDisabled",
	}
	throttledCodes = []string{
		"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
		"RequestThrottledException", "RequestLimitExceeded", "TooManyRequestsException",
		"SlowDown", "ProvisionedThroughputExceededException", "RequestLimitExceededException",
		"BandwidthLimitExceeded", "PriorRequestNotComplete", "EC2ThrottledException",
	}
	// optInCodes answer calls in regions or services the account has not opted into.
	// InvalidClientTokenId and UnrecognizedClientException come back from opt-in regions
	// that are not enabled: the credentials are unknown there.
	optInCodes = []string{
		"OptInRequired", "InvalidClientTokenId", "UnrecognizedClientException",
		"AuthFailure",
	}
	// serviceDisabledCodes answer calls to services not enabled or not subscribed.
	serviceDisabledCodes = []string{
		"SubscriptionRequiredException", "NotSignedUp", "InvalidAccessException",
		"AWSOrganizationsNotInUseException", "ServiceNotEnabled", "ServiceDisabled",
		"NoSuchAccount",
	}
)

// classify wraps err, the failure of operation op ("s3:ListBuckets") in region, into a
// *providers.CloudError with its kind. An error that is already classified is returned
// as is.
func classify(err error, op, region string) *providers.CloudError {
	var ce *providers.CloudError
	if errors.As(err, &ce) {
		return ce
	}
	return &providers.CloudError{Kind: errorKind(err), Operation: op, Region: region, Err: err}
}

// errorKind finds the kind of an SDK error from its API error code, then its HTTP status.
func errorKind(err error) providers.ErrorKind {
	code := errorCode(err)
	switch {
	case slices.Contains(accessDeniedCodes, code):
		return providers.KindAccessDenied
	case slices.Contains(throttledCodes, code):
		return providers.KindThrottled
	case slices.Contains(optInCodes, code):
		return providers.KindOptInRequired
	case slices.Contains(serviceDisabledCodes, code):
		return providers.KindServiceDisabled
	case code != "" && (strings.HasPrefix(code, "NoSuch") || strings.Contains(code, "NotFound")):
		return providers.KindNotFound
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusForbidden:
			return providers.KindAccessDenied
		case http.StatusTooManyRequests:
			return providers.KindThrottled
		case http.StatusNotFound:
			return providers.KindNotFound
		}
	}
	return providers.KindOther
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// errorMessage is the AWS error message of err (without request ids), or err's text.
func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if msg := ae.ErrorMessage(); msg != "" {
			return ae.ErrorCode() + ": " + msg
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

// isCode reports whether err carries one of the AWS error codes.
func isCode(err error, codes ...string) bool {
	code := errorCode(err)
	return code != "" && slices.Contains(codes, code)
}
