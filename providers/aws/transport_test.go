package aws_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// opHeader carries "<ServiceID>:<Operation>" from the SDK to the test transport, so
// that it can answer one operation without parsing every protocol's request format.
const opHeader = "X-Vigil-Test-Op"

// tagOperations is an SDK API option that sets opHeader on every request.
func tagOperations(stack *middleware.Stack) error {
	return stack.Build.Add(middleware.BuildMiddlewareFunc("VigilTestOpHeader",
		func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set(opHeader, awsmiddleware.GetServiceID(ctx)+":"+awsmiddleware.GetOperationName(ctx))
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
}

// rule answers an operation instead of moto: an AWS error in the service's wire
// format, or a handwritten success body for operations moto does not implement.
type rule struct {
	status int
	code   string // AWS error code; empty for a success body
	body   string // success body (wire format of the service)
	// times is how many calls the rule answers; 0 means every call.
	times int
}

// transport is an http.RoundTripper in front of moto that records operations and
// answers some of them ("EC2:DescribeSecurityGroups"): injected faults first, then the
// motoGaps fixtures, else moto.
type transport struct {
	base http.RoundTripper

	mu    sync.Mutex
	rules map[string]*rule
	calls []string
}

func newTransport() *transport {
	return &transport{base: http.DefaultTransport, rules: map[string]*rule{}}
}

// set installs r for op, replacing any rule.
func (t *transport) set(op string, r rule) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rules[op] = &r
}

// clear removes the rule of op.
func (t *transport) clear(op string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rules, op)
}

// takeCalls returns the operations seen since the last call, attempts included.
func (t *transport) takeCalls() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.calls
	t.calls = nil
	return c
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Header.Get(opHeader)
	t.mu.Lock()
	t.calls = append(t.calls, op)
	r := t.rules[op]
	var answer *rule
	if fixture, ok := motoGaps[op]; ok && r == nil {
		answer = &fixture
	}
	if r != nil {
		cp := *r
		answer = &cp
		if r.times > 0 {
			r.times--
			if r.times == 0 {
				delete(t.rules, op)
			}
		}
	}
	t.mu.Unlock()
	if answer == nil {
		return t.base.RoundTrip(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	service := op[:strings.Index(op, ":")]
	if answer.code == "" {
		body := strings.ReplaceAll(answer.body, "{region}", requestRegion(req))
		return response(req, answer.status, contentType(service), body, nil), nil
	}
	body, header := errorBody(service, answer.code, "injected by test")
	return response(req, answer.status, contentType(service), body, header), nil
}

// queryServices answer errors in the AWS query XML format; restXMLServices in S3's.
var (
	queryServices   = []string{"IAM", "STS", "SNS", "RDS", "CloudWatch", "ElastiCache", "Redshift", "Elastic Load Balancing", "Elastic Load Balancing v2", "CloudFront"}
	restXMLServices = []string{"S3", "S3 Control"}
)

func contentType(service string) string {
	switch {
	case service == "EC2" || slices.Contains(queryServices, service) || slices.Contains(restXMLServices, service):
		// CloudFront is REST-XML with the query protocol's wrapped error shape.
		return "text/xml"
	default:
		return "application/x-amz-json-1.1"
	}
}

// errorBody is an AWS error in the service's wire format.
func errorBody(service, code, msg string) (string, http.Header) {
	switch {
	case service == "EC2":
		return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>test</RequestID></Response>`, code, msg), nil
	case slices.Contains(queryServices, service):
		return fmt.Sprintf(`<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>test</RequestId></ErrorResponse>`, code, msg), nil
	case slices.Contains(restXMLServices, service):
		return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>test</RequestId></Error>`, code, msg), nil
	default: // awsJson1.0/1.1 and restJson1 both read the error type header
		return fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg), http.Header{"X-Amzn-Errortype": {code}}
	}
}

func response(req *http.Request, status int, ctype, body string, header http.Header) *http.Response {
	h := http.Header{"Content-Type": {ctype}, "X-Amzn-Requestid": {"test"}}
	for k, v := range header {
		h[k] = v
	}
	return &http.Response{
		StatusCode:    status,
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewBufferString(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// motoGaps are handwritten wire-format answers for operations moto_server does not
// implement (it answers 500 or 404), so that the collectors reading them are tested
// on the real SDK deserialisers rather than skipped.
var motoGaps = map[string]rule{
	"EC2:GetEbsDefaultKmsKeyId": {status: 200, body: `<?xml version="1.0" encoding="UTF-8"?>
<GetEbsDefaultKmsKeyIdResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>test</requestId><kmsKeyId>alias/aws/ebs</kmsKeyId></GetEbsDefaultKmsKeyIdResponse>`},
	// moto has no IAM Access Analyzer at all; "{region}" is the request's region.
	"AccessAnalyzer:ListAnalyzers":      {status: 200, body: `{"analyzers":[{"arn":"arn:aws:access-analyzer:{region}:123456789012:analyzer/account","name":"account","type":"ACCOUNT","status":"ACTIVE","createdAt":"2026-01-01T00:00:00Z","tags":{"team":"sec"}}]}`},
	"Backup:GetBackupVaultAccessPolicy": {status: 200, body: `{"BackupVaultArn":"arn:aws:backup:{region}:123456789012:backup-vault:main","BackupVaultName":"main","Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"backup:DeleteRecoveryPoint\",\"Resource\":\"*\"}]}"}`},
	"SecurityHub:GetEnabledStandards":   {status: 200, body: `{"StandardsSubscriptions":[{"StandardsArn":"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0","StandardsInput":{},"StandardsStatus":"READY","StandardsSubscriptionArn":"arn:aws:securityhub:{region}:123456789012:subscription/aws-foundational-security-best-practices/v/1.0.0"}]}`},
	"Lambda:ListFunctionUrlConfigs":     {status: 200, body: `{"FunctionUrlConfigs":[{"AuthType":"NONE","CreationTime":"2026-01-01T00:00:00.000+0000","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:resize","FunctionUrl":"https://abc.lambda-url.us-east-1.on.aws/","LastModifiedTime":"2026-01-01T00:00:00.000+0000","InvokeMode":"BUFFERED"}]}`},
}

// requestRegion is the region in the request's SigV4 credential scope.
func requestRegion(req *http.Request) string {
	// Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/service/aws4_request, ...
	auth := req.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	parts := strings.Split(strings.SplitN(auth[i+len("Credential="):], ",", 2)[0], "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}
