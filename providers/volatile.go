package providers

import "strings"

// Volatile fields change without anyone changing configuration (last-use times,
// delivery timestamps, counters). They are kept in the stored document but excluded
// from its content hash, so drift history shows real changes only.
//
// A path is dot-separated keys under properties; "*" matches every element of a list
// or every key of a map.
var volatile = map[string][]string{
	"aws.account": {"CredentialReport.*.password_last_used", "CredentialReport.*.access_key_1_last_used_date",
		"CredentialReport.*.access_key_2_last_used_date", "CredentialReport.*.access_key_1_last_used_region",
		"CredentialReport.*.access_key_2_last_used_region", "CredentialReport.*.access_key_1_last_used_service",
		"CredentialReport.*.access_key_2_last_used_service", "CredentialReport.*.cert_1_last_rotated",
		"CredentialReportGeneratedTime", "AccountSummary"},
	"aws.iam.user":              {"PasswordLastUsed", "AccessKeys.*.LastUsed", "AccessKeys.*.LastUsedDate"},
	"aws.iam.role":              {"RoleLastUsed"},
	"aws.iam.policy":            {"UpdateDate", "AttachmentCount"},
	"aws.cloudtrail.trail":      {"Status.LatestDeliveryTime", "Status.LatestDigestDeliveryTime", "Status.LatestDeliveryAttemptTime", "Status.LatestDeliveryAttemptSucceeded", "Status.LatestNotificationAttemptTime", "Status.LatestNotificationAttemptSucceeded", "Status.TimeLoggingStarted", "Status.TimeLoggingStopped", "Status.LatestCloudWatchLogsDeliveryTime", "Status.LatestDigestDeliveryError", "Status.LatestDeliveryError"},
	"aws.logs.log_group":        {"StoredBytes"},
	"aws.config.recorder":       {"Status.LastStatusChangeTime", "Status.LastStartTime", "Status.LastStopTime"},
	"aws.sqs.queue":             {"Attributes.ApproximateNumberOfMessages", "Attributes.ApproximateNumberOfMessagesNotVisible", "Attributes.ApproximateNumberOfMessagesDelayed"},
	"aws.sns.topic":             {"Attributes.SubscriptionsConfirmed", "Attributes.SubscriptionsPending", "Attributes.SubscriptionsDeleted"},
	"aws.dynamodb.table":        {"ItemCount", "TableSizeBytes"},
	"aws.ec2.volume":            {"State"},
	"aws.secretsmanager.secret": {"LastAccessedDate"},
	"aws.cloudwatch.alarm":      {"StateValue", "StateReason", "StateReasonData", "StateUpdatedTimestamp", "StateTransitionedTimestamp"},
}

// HasVolatile reports whether documents of resourceType have volatile fields, that is
// whether StableProperties can differ from the properties themselves.
func HasVolatile(resourceType string) bool { return len(volatile[resourceType]) > 0 }

// StableProperties returns a copy of props without the volatile fields of resourceType.
// props itself is not modified.
func StableProperties(resourceType string, props map[string]any) map[string]any {
	paths := volatile[resourceType]
	if len(paths) == 0 {
		return props
	}
	out := deepCopy(props).(map[string]any)
	for _, p := range paths {
		remove(out, strings.Split(p, "."))
	}
	return out
}

func remove(v any, path []string) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			if path[0] == "*" {
				clear(x)
			} else {
				delete(x, path[0])
			}
			return
		}
		if path[0] == "*" {
			for _, c := range x {
				remove(c, path[1:])
			}
		} else if c, ok := x[path[0]]; ok {
			remove(c, path[1:])
		}
	case []any:
		if path[0] == "*" {
			for _, c := range x {
				if len(path) > 1 {
					remove(c, path[1:])
				}
			}
		}
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, c := range x {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, c := range x {
			s[i] = deepCopy(c)
		}
		return s
	}
	return v
}
