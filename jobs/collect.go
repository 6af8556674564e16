package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/google/uuid"

	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

type riverDriver = riverpgxv5.Driver

// CollectUnitArgs collects one unit (collector x region) of a scan.
type CollectUnitArgs struct {
	TenantID  uuid.UUID      `json:"tenant_id"`
	AccountID uuid.UUID      `json:"account_id"`
	ScanID    uuid.UUID      `json:"scan_id"`
	Unit      providers.Unit `json:"unit"`
}

// Kind is the job kind; never renamed.
func (CollectUnitArgs) Kind() string { return "collect_unit" }

// InsertOpts: units retry on their own, with River's backoff.
func (CollectUnitArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 4, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
}

// CollectUnitWorker works CollectUnitArgs.
type CollectUnitWorker struct {
	river.WorkerDefaults[CollectUnitArgs]
	*Pipeline
}

// Timeout bounds one collection.
func (w *CollectUnitWorker) Timeout(*river.Job[CollectUnitArgs]) time.Duration {
	if w.UnitTimeout > 0 {
		return w.UnitTimeout
	}
	return 15 * time.Minute
}

// throttleSnooze is how long a throttled unit waits before trying again.
const throttleSnooze = 30 * time.Second

// Work collects the unit, then in one transaction stores its documents, records its
// outcome, counts down the scan's pending units and, for the last unit, enqueues the
// evaluation; the job itself completes in that transaction, so a crash at any point
// leaves either nothing or everything.
func (w *CollectUnitWorker) Work(ctx context.Context, job *river.Job[CollectUnitArgs]) error {
	a := job.Args
	unitKey := a.Unit.String()
	log := w.Logger.With("tenant_id", a.TenantID, "account_id", a.AccountID, "scan_id", a.ScanID, "unit", unitKey, "job_id", job.ID)

	var acct store.Account
	var proceed bool
	err := w.DB.TenantTx(ctx, a.TenantID, func(tx pgx.Tx) error {
		scan, err := store.ScanGet(ctx, tx, a.ScanID)
		if err != nil {
			return err
		}
		st, err := store.UnitState(ctx, tx, a.ScanID, unitKey)
		if err != nil {
			return err
		}
		if scan.Status != store.ScanRunning || (st != "pending" && st != "running") {
			return nil // cancelled, or finished by an earlier attempt
		}
		if acct, err = store.AccountGet(ctx, tx, a.AccountID); err != nil {
			return err
		}
		proceed = true
		return store.UnitAttempt(ctx, tx, a.ScanID, unitKey)
	})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(err)
	}
	if err != nil || !proceed {
		return err
	}

	started := w.now()
	docs, gaps, cerr := w.collect(ctx, acct, a.Unit)
	if cerr != nil {
		kind := providers.KindOf(cerr)
		switch {
		case kind == providers.KindThrottled && job.Attempt < job.MaxAttempts:
			log.InfoContext(ctx, "unit throttled; snoozing", "error", cerr.Error())
			return river.JobSnooze(throttleSnooze)
		case kind == providers.KindOther && job.Attempt < job.MaxAttempts && ctx.Err() == nil:
			return cerr // transient: retry with backoff
		}
		// Permanent (AccessDenied, service disabled, opt-in) or out of attempts: the
		// unit is a recorded collection gap. Nothing of its coverage changes.
		log.WarnContext(ctx, "unit failed", "kind", kind, "error", cerr.Error())
		return w.finish(ctx, job, nil, store.UnitOutcome{Status: "failed", ErrorKind: string(kind), Error: truncateErr(cerr)}, started)
	}
	return w.finish(ctx, job, docs, store.UnitOutcome{Status: "completed", Resources: len(docs), Gaps: gaps}, started)
}

// collect runs the unit's collector. Each document is encoded as it arrives
// (store.PrepareResource), so a large unit is held as compact JSON, not as maps.
func (w *CollectUnitWorker) collect(ctx context.Context, acct store.Account, u providers.Unit) ([]store.PreparedResource, int, error) {
	prov, err := w.provider(ctx, acct)
	if err != nil {
		return nil, 0, err
	}
	var docs []store.PreparedResource
	gaps := 0
	err = prov.Collect(ctx, u, func(_ context.Context, r providers.Resource) error {
		p, err := store.PrepareResource(r)
		if err != nil {
			return err
		}
		docs = append(docs, p)
		gaps += len(r.Gaps)
		return nil
	})
	return docs, gaps, err
}

func (w *CollectUnitWorker) finish(ctx context.Context, job *river.Job[CollectUnitArgs], docs []store.PreparedResource, o store.UnitOutcome, at time.Time) error {
	a := job.Args
	client := river.ClientFromContext[pgx.Tx](ctx)
	err := w.DB.TenantTx(ctx, a.TenantID, func(tx pgx.Tx) error {
		scan, err := store.ScanGet(ctx, tx, a.ScanID)
		if err != nil {
			return err
		}
		if scan.Status != store.ScanRunning {
			return errScanEnded
		}
		if o.Status == "completed" {
			counts, err := store.ResourceApplyUnit(ctx, tx, store.ApplyUnitParams{AccountID: a.AccountID, ScanID: a.ScanID,
				ObservedAt: at, Unit: a.Unit, Prepared: docs, Complete: true})
			if err != nil {
				return err
			}
			o.Changes = counts
		}
		// The scan row lock serialises the count-down of units finishing at once and a
		// concurrent cancel. It is taken after the unit's writes, which touch only the
		// unit's own coverage, so that the units of a scan write in parallel instead of
		// queueing behind one another's lock; a scan cancelled meanwhile rolls them back.
		if scan, err = store.ScanGetForUpdate(ctx, tx, a.ScanID); err != nil {
			return err
		}
		if scan.Status != store.ScanRunning {
			return errScanEnded
		}
		last, err := store.UnitFinish(ctx, tx, a.ScanID, a.Unit.String(), o)
		if err != nil {
			return err
		}
		if last {
			if _, err := client.InsertTx(ctx, tx, EvaluateScanArgs{TenantID: a.TenantID, AccountID: a.AccountID, ScanID: a.ScanID}, nil); err != nil {
				return fmt.Errorf("enqueue evaluation: %w", err)
			}
		}
		_, err = river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
	if errors.Is(err, errScanEnded) {
		// Cancelled (or ended) while the unit ran: nothing of it is kept.
		return completeJob(ctx, w.DB, a.TenantID, job)
	}
	return err
}

// errScanEnded rolls back a job's transaction when its scan is no longer running.
var errScanEnded = errors.New("scan no longer running")

// completeJob completes a job whose work was rolled back because its scan ended.
func completeJob[T river.JobArgs](ctx context.Context, db *store.DB, tenantID uuid.UUID, job *river.Job[T]) error {
	return db.TenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		_, err := river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
}

func truncateErr(err error) string {
	s := err.Error()
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return s
}
