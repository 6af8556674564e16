package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/vigilsec/vigil/store"
)

// PruneHistoryArgs enforces each tenant's retention of drift history and finding
// events. Periodic, daily.
type PruneHistoryArgs struct{}

// Kind is the job kind; never renamed.
func (PruneHistoryArgs) Kind() string { return "prune_history" }

// InsertOpts keeps one run queued at a time.
func (PruneHistoryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// PruneHistoryWorker works PruneHistoryArgs.
type PruneHistoryWorker struct {
	river.WorkerDefaults[PruneHistoryArgs]
	*Pipeline
}

// Work prunes every tenant, one transaction each.
func (w *PruneHistoryWorker) Work(ctx context.Context, job *river.Job[PruneHistoryArgs]) error {
	tenants, err := w.DB.TenantRetention(ctx)
	if err != nil {
		return err
	}
	var versions, events int64
	for id, days := range tenants {
		cutoff := w.now().Add(-time.Duration(days) * 24 * time.Hour)
		err := w.DB.TenantTx(ctx, id, func(tx pgx.Tx) error {
			v, e, err := store.HistoryPrune(ctx, tx, cutoff)
			versions += v
			events += e
			return err
		})
		if err != nil {
			return fmt.Errorf("prune tenant %s: %w", id, err)
		}
	}
	return river.RecordOutput(ctx, map[string]int64{"tenants": int64(len(tenants)), "versions": versions, "events": events})
}

// RemuteArgs re-applies mute rules to one tenant's findings after a rule changed, and
// periodically (without a tenant) so that expired rules lift on time.
type RemuteArgs struct {
	TenantID string `json:"tenant_id,omitempty"`
}

// Kind is the job kind; never renamed.
func (RemuteArgs) Kind() string { return "remute_findings" }

// InsertOpts: one pending run per tenant is enough.
func (RemuteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// RemuteWorker works RemuteArgs.
type RemuteWorker struct {
	river.WorkerDefaults[RemuteArgs]
	*Pipeline
}

// Work re-applies rules for the tenant named, or for every tenant.
func (w *RemuteWorker) Work(ctx context.Context, job *river.Job[RemuteArgs]) error {
	tenants, err := w.DB.TenantRetention(ctx)
	if err != nil {
		return err
	}
	for id := range tenants {
		if job.Args.TenantID != "" && job.Args.TenantID != id.String() {
			continue
		}
		err := w.DB.TenantTx(ctx, id, func(tx pgx.Tx) error {
			_, err := store.FindingsRemute(ctx, tx, w.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("remute tenant %s: %w", id, err)
		}
	}
	return nil
}
