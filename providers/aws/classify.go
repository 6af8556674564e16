package aws

import "github.com/vigilsec/vigil/providers"

// Classify turns an SDK error of operation op in region into a classified
// *providers.CloudError (AccessDenied, Throttled, ServiceDisabled, OptInRequired,
// NotFound or other), for callers outside the collectors (connection tests).
func Classify(err error, op, region string) *providers.CloudError { return classify(err, op, region) }
