package jobs_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/checks/builtin"
	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

var scanSize = flag.Int("scansize", 100_000, "resources in the account of BenchmarkScanPipeline")

// replicated is a provider whose estate is the recorded demo estate (real collector
// output) copied until it holds about `size` resources: every copy of a document gets
// its own native id, name and relation targets (IAM documents at most maxIAMCopies
// times). Documents are generated per unit as
// the unit is collected, never held for the whole estate. When `changed` is set, one
// document in ten gets a new tag value (drift).
type replicated struct {
	units   []providers.Unit
	byUnit  map[string][]providers.Resource
	copies  int
	changed atomic.Int64 // 0: no drift; n: the tag value of the changed tenth
}

func newReplicated(b *testing.B, size int) *replicated {
	b.Helper()
	ctx := context.Background()
	p, err := demo.NewProvider(ctx, store.Account{Config: map[string]any{"demo_snapshot": "day1"}})
	require.NoError(b, err)
	units, err := p.Plan(ctx)
	require.NoError(b, err)
	r := &replicated{units: units, byUnit: map[string][]providers.Resource{}}
	iam, other := 0, 0
	for _, u := range units {
		require.NoError(b, p.Collect(ctx, u, func(_ context.Context, d providers.Resource) error {
			r.byUnit[u.String()] = append(r.byUnit[u.String()], d)
			switch {
			case strings.HasPrefix(d.Type, "aws.iam."):
				iam++
			case d.Type != "aws.account":
				other++
			}
			return nil
		}))
	}
	r.copies = max(1, (size-iam*maxIAMCopies)/other)
	return r
}

func (r *replicated) Plan(context.Context) ([]providers.Unit, error) { return r.units, nil }

func (r *replicated) Collect(ctx context.Context, u providers.Unit, emit providers.EmitFunc) error {
	change := r.changed.Load()
	n := 0
	for _, d := range r.byUnit[u.String()] {
		copies := r.copies
		switch {
		case d.Type == "aws.account":
			copies = 1 // one account document per account
		case strings.HasPrefix(d.Type, "aws.iam."):
			// A few hundred principals and policies: the whole-account IAM analyses grow
			// with principals squared and are measured on their own (checks/iamgraph
			// benchmarks); this benchmark is about the pipeline at 100k resources.
			copies = min(copies, maxIAMCopies)
		}
		for c := range copies {
			doc := d
			if c > 0 {
				suffix := "-" + strconv.Itoa(c)
				doc.NativeID += suffix
				doc.Name += suffix
				doc.Relations = make([]providers.Relation, len(d.Relations))
				for i, rel := range d.Relations {
					rel.TargetID += suffix
					doc.Relations[i] = rel
				}
			}
			doc.Tags = make(map[string]string, len(d.Tags)+1)
			for k, v := range d.Tags {
				doc.Tags[k] = v
			}
			if change > 0 && n%10 == 0 {
				doc.Tags["bench-drift"] = strconv.FormatInt(change, 10)
			}
			n++
			if err := emit(ctx, doc); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxIAMCopies bounds how many times the IAM documents are copied.
const maxIAMCopies = 10

// peakRSS resets (clear_refs 5) or reads the process's peak resident set (VmHWM).
func resetPeakRSS(b *testing.B) {
	b.Helper()
	require.NoError(b, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
}

func peakRSSMiB(b *testing.B) float64 {
	b.Helper()
	return rssMiB(b, "VmHWM:")
}

// rssMiB reads one of the memory lines of /proc/self/status.
func rssMiB(b *testing.B, field string) float64 {
	b.Helper()
	f, err := os.Open("/proc/self/status")
	require.NoError(b, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), field); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			require.NoError(b, err)
			return float64(kb) / 1024
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// BenchmarkScanPipeline runs whole scans (plan, every collect_unit, evaluate_scan with
// every built-in check and the IAM analyses, findings and posture) of one account of
// -scansize resources through River and Postgres: a first scan, a re-scan without
// change, and a re-scan with one document in ten changed. It reports each scan's
// wall time (queued to finished) and the process's peak RSS during it.
func BenchmarkScanPipeline(b *testing.B) {
	ctx := context.Background()
	db := storetest.New(b)
	reg, err := builtin.Registry()
	require.NoError(b, err)
	estate := newReplicated(b, *scanSize)
	pipe := &jobs.Pipeline{DB: db.App, Checks: reg, Logger: testLogger(),
		NewProvider: func(context.Context, store.Account, []byte) (providers.Provider, error) { return estate, nil }}
	client, err := jobs.NewClient(jobs.Config{DB: db.App, Logger: testLogger(), Concurrency: 2, Pipeline: pipe,
		FetchPollInterval: 20 * time.Millisecond})
	require.NoError(b, err)
	events, cancel := client.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(b, client.Start(ctx))
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = client.Stop(stop)
	}()

	for i := 0; i < b.N; i++ {
		tenant := db.NewTenant(b, fmt.Sprintf("bench-%d", i))
		account := uuid.New()
		require.NoError(b, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
			_, err := store.AccountCreate(ctx, tx, store.Account{ID: account, Provider: "aws", NativeID: "123456789012", Name: "bench",
				CredentialKind: jobs.CredDefaultChain, Config: map[string]any{}, Regions: []string{}, Schedule: "0 3 * * *",
				Timezone: "UTC", Enabled: true})
			return err
		}))
		for _, phase := range []struct {
			name   string
			change int64
		}{{"first_scan", 0}, {"no_change", 0}, {"ten_percent_changed", int64(i + 1)}} {
			estate.changed.Store(phase.change)
			debug.FreeOSMemory()
			if phase.name == "first_scan" {
				b.ReportMetric(rssMiB(b, "VmRSS:"), "idle-rss-MiB")
			}
			resetPeakRSS(b)
			var scan store.Scan
			started := time.Now()
			var evaluation time.Duration
			require.NoError(b, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
				var err error
				scan, err = jobs.EnqueueScan(ctx, client.River, tx, tenant, account, "manual", "bench")
				return err
			}))
			for done := false; !done; {
				select {
				case ev := <-events:
					if ev.Kind == river.EventKindJobFailed {
						b.Fatalf("%s failed: %v", ev.Job.Kind, ev.Job.Errors)
					}
					if ev.Job.Kind == "evaluate_scan" {
						done = true
						evaluation = ev.JobStats.RunDuration
					}
				case <-time.After(10 * time.Minute):
					b.Fatal("scan did not finish")
				}
			}
			var s store.Scan
			require.NoError(b, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
				var err error
				s, err = store.ScanGet(ctx, tx, scan.ID)
				return err
			}))
			require.Equal(b, store.ScanCompleted, s.Status, s.Error)
			// The scan's own timestamps are transaction start times: the wall clock here
			// counts the evaluation's commit too.
			b.ReportMetric(time.Since(started).Seconds(), phase.name+"-s")
			b.ReportMetric(evaluation.Seconds(), phase.name+"-evaluate-s")
			b.ReportMetric(peakRSSMiB(b), phase.name+"-peak-rss-MiB")
			var resources, findings int
			require.NoError(b, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM resources WHERE deleted_at IS NULL").Scan(&resources); err != nil {
					return err
				}
				return tx.QueryRow(ctx, "SELECT count(*) FROM findings").Scan(&findings)
			}))
			b.ReportMetric(float64(resources), "resources")
			b.ReportMetric(float64(findings), "findings")
		}
	}
	b.ReportMetric(0, "ns/op")
}
