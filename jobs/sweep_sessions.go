package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/vigilsec/vigil/store"
)

// SweepSessionsArgs deletes expired UI sessions and expired idempotency keys. Periodic,
// hourly.
type SweepSessionsArgs struct{}

// Kind is the job kind; never renamed.
func (SweepSessionsArgs) Kind() string { return "sweep_sessions" }

// InsertOpts keeps one sweep queued at a time.
func (SweepSessionsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// SweepSessionsWorker works SweepSessionsArgs.
type SweepSessionsWorker struct {
	river.WorkerDefaults[SweepSessionsArgs]
	DB *store.DB
}

// Work deletes expired sessions, then expired idempotency keys.
func (w *SweepSessionsWorker) Work(ctx context.Context, job *river.Job[SweepSessionsArgs]) error {
	n, err := w.DB.SessionDeleteExpired(ctx)
	if err != nil {
		return fmt.Errorf("sweep sessions: %w", err)
	}
	keys, err := sweepIdempotencyKeys(ctx, w.DB)
	if err != nil {
		return fmt.Errorf("sweep idempotency keys: %w", err)
	}
	// The counts are kept with the job for operators (River UI / river_job.metadata).
	return river.RecordOutput(ctx, map[string]int64{"deleted": n, "idempotency_keys_deleted": keys})
}
