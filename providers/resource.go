// Package providers owns the cloud-neutral contract between collectors and the rest of
// Vigil: the Resource document, collection units, and the classification of cloud
// errors. Concrete collectors live in providers/aws, providers/azure and providers/gcp.
//
// This package and its children import no database, queue or HTTP-server package: they
// only call cloud APIs and emit documents to a consumer.
package providers

import (
	"context"
	"encoding/json"
	"fmt"
)

// Cloud provider names as they appear in documents, the database and the API.
const (
	AWS   = "aws"
	Azure = "azure"
	GCP   = "gcp"
)

// RegionGlobal is the region of resources that have none (IAM users, S3 account
// settings, Azure subscriptions, GCP organisations).
const RegionGlobal = "global"

// Resource is one cloud resource as observed by a collector. Properties keep the cloud
// API's own field names, as the SDK returns them, with enrichment sub-calls under their
// own keys (for an S3 bucket: "Encryption", "Policy", "PublicAccessBlock", ...). The
// document is JSON-shaped: Properties holds only map[string]any, []any, string,
// float64, bool and nil, so hashing, diffing and CEL see the same values.
type Resource struct {
	// Provider is AWS, Azure or GCP.
	Provider string `json:"provider"`
	// AccountID is the cloud-native id of the account the resource belongs to: the AWS
	// account id, the Azure subscription id, the GCP project id.
	AccountID string `json:"account_id"`
	// NativeID is the stable identity of the resource in its cloud: an ARN, an Azure
	// resource id, a GCP full resource name.
	NativeID string `json:"native_id"`
	// Type is "<provider>.<service>.<kind>", e.g. "aws.s3.bucket".
	Type string `json:"type"`
	// Region is the cloud region, or RegionGlobal.
	Region string `json:"region"`
	// Name is the human name (bucket name, instance Name tag or id).
	Name string `json:"name"`
	// Tags are the resource's tags / labels.
	Tags map[string]string `json:"tags"`
	// Properties is the configuration as the cloud API reports it.
	Properties map[string]any `json:"properties"`
	// Gaps lists enrichments that could not be read. A check that needs one of them
	// evaluates to "unknown", never to pass or fail.
	Gaps []Gap `json:"gaps,omitempty"`
	// Relations are edges to other resources by native id.
	Relations []Relation `json:"relations,omitempty"`
}

// Gap records that one property of a resource could not be collected.
type Gap struct {
	// Property is the top-level key under Properties that is missing, e.g. "Policy".
	Property string `json:"property"`
	// Operation is the cloud call that failed, e.g. "s3:GetBucketPolicy".
	Operation string `json:"operation"`
	// Kind classifies the failure.
	Kind ErrorKind `json:"kind"`
	// Message is the cloud's error message, without credentials.
	Message string `json:"message"`
}

// Relation is a directed edge from a resource to another, by native id.
type Relation struct {
	// Kind names the edge in snake_case, e.g. "security_group", "attached_policy",
	// "instance_profile", "member_of", "kms_key".
	Kind string `json:"kind"`
	// TargetID is the native id of the other resource.
	TargetID string `json:"target_id"`
	// TargetType is the other resource's Type when known.
	TargetType string `json:"target_type,omitempty"`
}

// Unit is one independently retryable piece of a scan: one collector in one region.
// A unit is authoritative for Types in Region: when it completes, every resource of
// those types in that region was seen; when it fails, nothing about them may be
// concluded (no deletion, no resolved finding).
type Unit struct {
	// Collector is the collector's stable name, e.g. "s3_buckets".
	Collector string `json:"collector"`
	// Service is the cloud service, e.g. "s3", used to group units in the UI.
	Service string `json:"service"`
	// Region is the region, or RegionGlobal.
	Region string `json:"region"`
	// Types are the resource types this unit emits and is authoritative for.
	Types []string `json:"types"`
}

// String names the unit for logs and errors.
func (u Unit) String() string { return u.Collector + "@" + u.Region }

// EmitFunc receives each document a unit produces. Documents stream: a collector never
// holds a whole unit's output in memory. Returning an error stops the unit.
type EmitFunc func(ctx context.Context, r Resource) error

// Provider collects one cloud account. Plan lists the units of a scan; Collect runs one
// of them. Implementations are safe for concurrent use by several units.
type Provider interface {
	Plan(ctx context.Context) ([]Unit, error)
	Collect(ctx context.Context, unit Unit, emit EmitFunc) error
}

// ToProperties turns an SDK value (struct, pointer, map) into the JSON-shaped map that
// Resource.Properties holds, keeping the SDK's field names.
func ToProperties(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal properties: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("unmarshal properties: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
