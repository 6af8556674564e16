package providers

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a failed cloud call so that callers can decide between a gap,
// a retry and a permanent failure without knowing the SDK.
type ErrorKind string

// The kinds of cloud failures. NotFound of an optional setting ("no bucket policy") is
// not an error at all: collectors record it as data.
const (
	KindAccessDenied    ErrorKind = "access_denied"
	KindThrottled       ErrorKind = "throttled"
	KindServiceDisabled ErrorKind = "service_disabled"
	KindOptInRequired   ErrorKind = "opt_in_required"
	KindNotFound        ErrorKind = "not_found"
	KindOther           ErrorKind = "error"
)

// CloudError is a classified failure of one cloud operation.
type CloudError struct {
	Kind      ErrorKind
	Operation string // "s3:ListBuckets"
	Region    string
	Err       error
}

func (e *CloudError) Error() string {
	return fmt.Sprintf("%s in %s (%s): %v", e.Operation, e.Region, e.Kind, e.Err)
}

func (e *CloudError) Unwrap() error { return e.Err }

// KindOf returns the kind of a classified error anywhere in err's chain, or KindOther.
func KindOf(err error) ErrorKind {
	var ce *CloudError
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return KindOther
}
