package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

// syntheticDocs returns n realistic security-group-like documents; variant changes the
// properties of every 10th document.
func syntheticDocs(n, variant int) []providers.Resource {
	docs := make([]providers.Resource, n)
	for i := range docs {
		port := 443.0
		if variant > 0 && i%10 == 0 {
			port = float64(8000 + variant)
		}
		docs[i] = providers.Resource{
			Provider: "aws", AccountID: "123456789012", Type: "aws.ec2.security_group", Region: "us-east-1",
			NativeID: fmt.Sprintf("arn:aws:ec2:us-east-1:123456789012:security-group/sg-%08d", i),
			Name:     fmt.Sprintf("sg-%d", i), Tags: map[string]string{"team": "core", "env": "prod"},
			Properties: map[string]any{
				"GroupId": fmt.Sprintf("sg-%08d", i), "GroupName": fmt.Sprintf("web-%d", i), "VpcId": "vpc-1234",
				"Description": "web tier security group",
				"IpPermissions": []any{map[string]any{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
					"IpRanges": []any{map[string]any{"CidrIp": "10.0.0.0/8", "Description": "internal"}}}},
				"IpPermissionsEgress": []any{map[string]any{"IpProtocol": "-1", "IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}}},
			},
			Relations: []providers.Relation{{Kind: "vpc", TargetID: "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1234"}},
		}
	}
	return docs
}

func newBenchAccount(b *testing.B, db *storetest.DB) (uuid.UUID, uuid.UUID) {
	b.Helper()
	tenant := db.NewTenant(b, "bench")
	return tenant, createAccount(b, db, tenant)
}

func apply(b *testing.B, db *storetest.DB, tenant, account uuid.UUID, docs []providers.Resource) store.ChangeCounts {
	b.Helper()
	var counts store.ChangeCounts
	unit := providers.Unit{Collector: "ec2_security_groups", Service: "ec2", Region: "us-east-1", Types: []string{"aws.ec2.security_group"}}
	require.NoError(b, db.App.TenantTx(context.Background(), tenant, func(tx pgx.Tx) error {
		var err error
		counts, err = store.ResourceApplyUnit(context.Background(), tx, store.ApplyUnitParams{AccountID: account, ScanID: uuid.New(),
			ObservedAt: time.Now(), Unit: unit, Docs: docs, Complete: true})
		return err
	}))
	return counts
}

// BenchmarkResourceApplyUnit measures persisting and diffing 100,000 resources in one
// unit: the first scan (all created), a re-scan with no change, and a re-scan with 10%
// changed. Size with -benchsize (default 100000).
func BenchmarkResourceApplyUnit(b *testing.B) {
	n := *benchSizeFlag
	db := storetest.New(b)
	for _, tc := range []struct {
		name    string
		variant func(i int) int
		check   func(b *testing.B, c store.ChangeCounts)
	}{
		{"first_scan", nil, func(b *testing.B, c store.ChangeCounts) { require.Equal(b, n, c.Created) }},
		{"no_change", func(int) int { return 0 }, func(b *testing.B, c store.ChangeCounts) { require.Equal(b, n, c.Unchanged) }},
		{"ten_percent_changed", func(i int) int { return i + 1 }, func(b *testing.B, c store.ChangeCounts) { require.Equal(b, n/10, c.Modified) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tenant, account := newBenchAccount(b, db)
				if tc.variant != nil {
					apply(b, db, tenant, account, syntheticDocs(n, 0))
				}
				v := 0
				if tc.variant != nil {
					v = tc.variant(i)
				}
				docs := syntheticDocs(n, v)
				b.StartTimer()
				c := apply(b, db, tenant, account, docs)
				b.StopTimer()
				tc.check(b, c)
			}
			b.ReportMetric(float64(n), "resources/op")
		})
	}
}
