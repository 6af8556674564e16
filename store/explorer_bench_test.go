package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

// BenchmarkFindingList seeds an estate in a dedicated database and measures the
// findings explorer's queries through the application role (row-level security on),
// each call against a random tenant. Size it with the environment:
//
//	VIGIL_BENCH_FINDINGS  total findings (default 50,000; the figures in docs/api.md use 5,000,000)
//	VIGIL_BENCH_TENANTS   tenants sharing them (default 100)
//	VIGIL_BENCH_EXPLAIN=1 log EXPLAIN (ANALYZE, BUFFERS) of each query once
//	VIGIL_BENCH_INTERLEAVE=1 spread each tenant's rows over the whole table (worst case;
//	                      by default an account's rows are written together, as a scan does)
//	VIGIL_BENCH_DB=name   seed (once) into a database of that name and keep it, so later
//	                      runs and EXPLAINs reuse it; drop it yourself afterwards
//
// It reports p50 and p95 latency per query shape (ms). Seeding uses COPY with rows
// generated on the fly: 5 million findings take a few minutes on two cores.
//
//	VIGIL_BENCH_FINDINGS=5000000 go test ./store/ -run '^$' -bench FindingList -benchtime 200x -timeout 60m
func BenchmarkFindingList(b *testing.B) {
	total := envInt(b, "VIGIL_BENCH_FINDINGS", 50_000)
	tenants := envInt(b, "VIGIL_BENCH_TENANTS", 100)
	ctx := context.Background()
	db, seeded := benchDatabase(b)
	var ids []uuid.UUID
	if seeded {
		rows, err := db.Owner.Query(ctx, "SELECT id FROM tenants ORDER BY id")
		require.NoError(b, err)
		ids, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		require.NoError(b, err)
		b.Logf("reusing database %s (%d tenants)", db.Name, len(ids))
	} else {
		start := time.Now()
		ids = seedFindings(b, db, tenants, total)
		b.Logf("seeded %d findings over %d tenants in %s into %s", total, tenants, time.Since(start).Round(time.Second), db.Name)
	}

	critHigh := store.FindingFilter{States: []string{"open"}, Severities: []string{"critical", "high"}}
	typeRegion := store.FindingFilter{States: []string{"open"}, ResourceType: "aws.ec2.instance", Region: "eu-west-1"}
	text := store.FindingFilter{States: []string{"open"}, Q: "web-1", QCheckIDs: []string{"aws.kms.check_7", "aws.ec2.check_12"}}
	allStates := store.FindingFilter{}
	shapes := []struct {
		name string
		f    store.FindingFilter
		sort store.FindingSort
	}{
		{"default", store.FindingFilter{States: []string{"open"}}, store.FindingSort{Field: "severity", Desc: true}},
		{"critical_high_by_last_seen", critHigh, store.FindingSort{Field: "last_seen", Desc: true}},
		{"type_region", typeRegion, store.FindingSort{Field: "severity", Desc: true}},
		{"free_text", text, store.FindingSort{Field: "severity", Desc: true}},
		{"all_states_by_check", allStates, store.FindingSort{Field: "check_id"}},
		{"all_states_by_severity", allStates, store.FindingSort{Field: "severity", Desc: true}},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			if os.Getenv("VIGIL_BENCH_EXPLAIN") == "1" {
				explainFindingList(b, db, ids[0], sh.f, sh.sort)
			}
			var durations []time.Duration
			for b.Loop() {
				tenant := ids[rand.IntN(len(ids))]
				t0 := time.Now()
				err := db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
					page, err := store.FindingList(ctx, tx, sh.f, sh.sort, nil, 50)
					if err != nil {
						return err
					}
					if page.NextCursor == "" {
						return nil
					}
					// And the second page, through the cursor.
					cur, err := store.DecodeCursor(page.NextCursor, sh.sort.String())
					if err != nil {
						return err
					}
					_, err = store.FindingList(ctx, tx, sh.f, sh.sort, cur, 50)
					return err
				})
				durations = append(durations, time.Since(t0))
				require.NoError(b, err)
			}
			slices.Sort(durations)
			pct := func(p float64) float64 {
				return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
	// The dashboard's aggregates: each reads every finding of the tenant once.
	aggregates := []struct {
		name string
		fn   func(pgx.Tx) error
	}{
		{"facets", func(tx pgx.Tx) error {
			_, err := store.FindingFacets(ctx, tx, store.FindingFilter{States: []string{"open"}})
			return err
		}},
		{"summary_counts", func(tx pgx.Tx) error { _, err := store.FindingCountRows(ctx, tx); return err }},
		{"compliance_posture", func(tx pgx.Tx) error { _, err := store.CheckPostureRows(ctx, tx); return err }},
		{"top_failing_checks", func(tx pgx.Tx) error { _, err := store.TopFailingChecks(ctx, tx, 10); return err }},
	}
	for _, ag := range aggregates {
		b.Run(ag.name, func(b *testing.B) {
			var durations []time.Duration
			for b.Loop() {
				tenant := ids[rand.IntN(len(ids))]
				t0 := time.Now()
				require.NoError(b, db.App.TenantTx(ctx, tenant, ag.fn))
				durations = append(durations, time.Since(t0))
			}
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(durations[int(0.95*float64(len(durations)-1))].Microseconds())/1000, "p95-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchDatabase is a fresh test database, or the kept one named by VIGIL_BENCH_DB
// (created and migrated when missing; seeded reports it already holds findings).
func benchDatabase(b *testing.B) (*storetest.DB, bool) {
	name := os.Getenv("VIGIL_BENCH_DB")
	if name == "" {
		return storetest.New(b), false
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, storetest.AdminURL())
	require.NoError(b, err)
	defer admin.Close(ctx)
	var exists bool
	require.NoError(b, admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	url := storetest.WithDatabase(b, storetest.AdminURL(), name)
	if !exists {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
		require.NoError(b, err)
		m, err := store.NewMigrator(ctx, url, slog.New(slog.DiscardHandler))
		require.NoError(b, err)
		_, err = m.Up(ctx)
		m.Close()
		require.NoError(b, err)
	}
	owner, err := pgxpool.New(ctx, url)
	require.NoError(b, err)
	app, err := store.Open(ctx, url, store.PoolConfig{MaxConns: 8})
	require.NoError(b, err)
	b.Cleanup(func() { app.Close(); owner.Close() })
	var seeded bool
	require.NoError(b, owner.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM findings)").Scan(&seeded))
	return &storetest.DB{App: app, Owner: owner, URL: url, Name: name}, seeded
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(b, err, name)
	return n
}

func explainFindingList(b *testing.B, db *storetest.DB, tenant uuid.UUID, f store.FindingFilter, sort store.FindingSort) {
	ctx := context.Background()
	q, args, err := store.FindingQueryForTest(f, sort, 51)
	require.NoError(b, err)
	require.NoError(b, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, args...)
		if err != nil {
			return err
		}
		plan := ""
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan += line + "\n"
		}
		b.Logf("plan:\n%s", plan)
		return rows.Err()
	}))
}

var (
	benchSeverities = []string{"critical", "high", "high", "high", "medium", "medium", "medium", "medium", "low", "low", "low", "info"}
	benchTypes      = []string{"aws.s3.bucket", "aws.ec2.instance", "aws.ec2.security_group", "aws.iam.role", "aws.iam.user",
		"aws.rds.db_instance", "aws.lambda.function", "aws.kms.key", "aws.ec2.volume", "aws.sns.topic"}
	benchRegions = []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "global"}
)

// seedFindings writes tenants, two accounts each, resources (one per 20 findings) and
// findings, with COPY as the owner (row-level security does not bind superusers).
// States: 60% resolved passes, 28% open failures, 5% muted, 7% open unknowns.
func seedFindings(b *testing.B, db *storetest.DB, tenants, total int) []uuid.UUID {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]uuid.UUID, tenants)
	now := time.Now().UTC()
	for i := range ids {
		ids[i] = uuid.New()
		_, err := db.Owner.Exec(ctx, "INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3)", ids[i], fmt.Sprintf("Bench %d", i), fmt.Sprintf("bench-%d", i))
		require.NoError(b, err)
	}
	type account struct{ tenant, id uuid.UUID }
	var accounts []account
	for _, t := range ids {
		for j := 0; j < 2; j++ {
			a := account{t, uuid.New()}
			accounts = append(accounts, a)
			_, err := db.Owner.Exec(ctx, `INSERT INTO cloud_accounts (tenant_id, id, provider, native_id, name, credential_kind)
				VALUES ($1, $2, 'aws', $3, $4, 'default_chain')`, t, a.id, fmt.Sprintf("%012d", rng.IntN(1e12)), "bench")
			require.NoError(b, err)
		}
	}
	interleave := os.Getenv("VIGIL_BENCH_INTERLEAVE") == "1"
	perResource := 20
	nResources := max(1, total/perResource)
	type resource struct {
		tenant, account, id uuid.UUID
		typ, region, native string
	}
	resources := make([]resource, nResources)
	i := 0
	_, err := db.Owner.CopyFrom(ctx, pgx.Identifier{"resources"},
		[]string{"tenant_id", "id", "account_id", "native_id", "type", "region", "name", "tags", "properties", "content_hash", "first_seen", "last_seen"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == nResources {
				return nil, nil
			}
			// One scan writes one account's rows together: a tenant's rows are clustered
			// in the heap. VIGIL_BENCH_INTERLEAVE=1 spreads them row by row (worst case).
			a := accounts[i*len(accounts)/nResources]
			if interleave {
				a = accounts[i%len(accounts)]
			}
			r := resource{tenant: a.tenant, account: a.id, id: uuid.New(), typ: benchTypes[rng.IntN(len(benchTypes))],
				region: benchRegions[rng.IntN(len(benchRegions))]}
			r.native = fmt.Sprintf("arn:aws:%s:%s:resource/r-%d", r.typ, r.region, i)
			resources[i] = r
			i++
			seen := now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
			return []any{r.tenant, r.id, r.account, r.native, r.typ, r.region, fmt.Sprintf("web-%d", i%5000),
				map[string]string{"env": "prod"}, map[string]any{}, []byte{1}, seen, now}, nil
		}))
	require.NoError(b, err)

	n := 0
	_, err = db.Owner.CopyFrom(ctx, pgx.Identifier{"findings"},
		[]string{"tenant_id", "id", "account_id", "resource_id", "check_id", "provider", "resource_type", "region", "status", "state",
			"severity", "message", "first_seen", "last_seen", "resolved_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if n == total {
				return nil, nil
			}
			r := resources[n/perResource]
			k := n % perResource
			check := fmt.Sprintf("aws.%s.check_%d", strings.Split(benchTypes[k%len(benchTypes)], ".")[1], k)
			n++
			status, state := "pass", "resolved"
			var resolved *time.Time
			switch x := rng.IntN(100); {
			case x < 28:
				status, state = "fail", "open"
			case x < 33:
				status, state = "fail", "muted"
			case x < 40:
				status, state = "unknown", "open"
			default:
				t := now.Add(-time.Duration(rng.IntN(30*24)) * time.Hour)
				resolved = &t
			}
			first := now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
			return []any{r.tenant, uuid.New(), r.account, r.id, check, "aws", r.typ, r.region, status, state,
				benchSeverities[rng.IntN(len(benchSeverities))], "resource " + r.native + " fails " + check, first, now, resolved}, nil
		}))
	require.NoError(b, err)
	_, err = db.Owner.Exec(ctx, "ANALYZE")
	require.NoError(b, err)
	return ids
}
