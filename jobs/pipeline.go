package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/seal"
	"github.com/vigilsec/vigil/store"
)

// ProviderFunc builds the collector of one account from its stored settings and its
// opened secret. cmd wires it to providers/aws (and later azure, gcp).
type ProviderFunc func(ctx context.Context, acct store.Account, secret []byte) (providers.Provider, error)

// Pipeline holds what the scan jobs share.
type Pipeline struct {
	DB          *store.DB
	Sealer      *seal.Sealer
	NewProvider ProviderFunc
	Checks      *checks.Registry
	Logger      *slog.Logger
	// NowFunc is the clock (time.Now by default); tests inject one.
	NowFunc func() time.Time
	// UnitTimeout bounds one unit's collection (default 15 minutes).
	UnitTimeout time.Duration
}

func (p *Pipeline) now() time.Time {
	if p.NowFunc != nil {
		return p.NowFunc()
	}
	return time.Now()
}

// activeStates keeps one job per key in flight (unique jobs).
var activeStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}

// openSecret returns an account's credential material, or nil when it has none.
func (p *Pipeline) openSecret(a store.Account) ([]byte, error) {
	if len(a.Secret) == 0 {
		return nil, nil
	}
	if p.Sealer == nil {
		return nil, errors.New("account has sealed credentials but no master key is configured")
	}
	b, err := p.Sealer.Open(a.Secret, store.OwnerOfAccountSecret(a.TenantID, a.ID))
	if err != nil {
		return nil, fmt.Errorf("open credentials of account %s: %w", a.ID, err)
	}
	return b, nil
}

// NextRun returns the first time after t at which a cron schedule fires, in tz.
func NextRun(schedule, tz string, t time.Time) (time.Time, error) {
	if _, err := time.LoadLocation(tz); err != nil {
		return time.Time{}, fmt.Errorf("time zone %q: %w", tz, err)
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + tz + " " + schedule)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %w", schedule, err)
	}
	next := sched.Next(t)
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("schedule %q never fires", schedule)
	}
	return next, nil
}

// EnqueueScan queues a scan of an account in tx: the scan row and its scan_account job
// commit together or not at all. store.ErrScanActive when one is already active.
func EnqueueScan(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, tenantID, accountID uuid.UUID, trigger, requestedBy string) (store.Scan, error) {
	scan, err := store.ScanCreate(ctx, tx, accountID, trigger, requestedBy)
	if err != nil {
		return store.Scan{}, err
	}
	_, err = client.InsertTx(ctx, tx, ScanAccountArgs{TenantID: tenantID, AccountID: accountID, ScanID: scan.ID}, nil)
	if err != nil {
		return store.Scan{}, fmt.Errorf("enqueue scan: %w", err)
	}
	return scan, nil
}

// ScheduleScansArgs runs every minute: accounts whose cron schedule is due get a scan.
type ScheduleScansArgs struct{}

// Kind is the job kind; never renamed.
func (ScheduleScansArgs) Kind() string { return "schedule_scans" }

// InsertOpts keeps one scheduler run queued at a time.
func (ScheduleScansArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}, MaxAttempts: 1}
}

// ScheduleScansWorker works ScheduleScansArgs.
type ScheduleScansWorker struct {
	river.WorkerDefaults[ScheduleScansArgs]
	*Pipeline
}

// Work enqueues due scans and moves each account's next run.
func (w *ScheduleScansWorker) Work(ctx context.Context, job *river.Job[ScheduleScansArgs]) error {
	client := river.ClientFromContext[pgx.Tx](ctx)
	now := w.now()
	due, err := w.DB.AccountsDue(ctx, now, 500)
	if err != nil {
		return err
	}
	queued := 0
	for _, d := range due {
		err := w.DB.TenantTx(ctx, d.TenantID, func(tx pgx.Tx) error {
			a, err := store.AccountGet(ctx, tx, d.AccountID)
			if err != nil {
				return err
			}
			next, err := NextRun(a.Schedule, a.Timezone, now)
			if err != nil {
				// A schedule that no longer parses stops scheduling rather than looping.
				w.Logger.WarnContext(ctx, "account schedule invalid; scheduling stopped", "tenant_id", d.TenantID, "account_id", d.AccountID, "error", err.Error())
				return store.AccountSetNextScan(ctx, tx, a.ID, nil)
			}
			if err := store.AccountSetNextScan(ctx, tx, a.ID, &next); err != nil {
				return err
			}
			_, err = EnqueueScan(ctx, client, tx, d.TenantID, a.ID, "schedule", "schedule")
			if errors.Is(err, store.ErrScanActive) {
				return nil // the running scan stands for this slot
			}
			if err == nil {
				queued++
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("schedule account %s: %w", d.AccountID, err)
		}
	}
	return river.RecordOutput(ctx, map[string]int{"due": len(due), "queued": queued})
}

// ScanAccountArgs plans one scan: it lists the units and fans out their collection.
type ScanAccountArgs struct {
	TenantID  uuid.UUID `json:"tenant_id"`
	AccountID uuid.UUID `json:"account_id"`
	ScanID    uuid.UUID `json:"scan_id"`
}

// Kind is the job kind; never renamed.
func (ScanAccountArgs) Kind() string { return "scan_account" }

// InsertOpts: one planning job per scan.
func (ScanAccountArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}, MaxAttempts: 5}
}

// ScanAccountWorker works ScanAccountArgs.
type ScanAccountWorker struct {
	river.WorkerDefaults[ScanAccountArgs]
	*Pipeline
}

// Timeout bounds planning (region discovery, identity check).
func (w *ScanAccountWorker) Timeout(*river.Job[ScanAccountArgs]) time.Duration {
	return 5 * time.Minute
}

// Work plans the scan's units and inserts one collect_unit job each, in the same
// transaction that records the units.
func (w *ScanAccountWorker) Work(ctx context.Context, job *river.Job[ScanAccountArgs]) error {
	a := job.Args
	log := w.Logger.With("tenant_id", a.TenantID, "account_id", a.AccountID, "scan_id", a.ScanID, "job_id", job.ID)
	var acct store.Account
	var scan store.Scan
	err := w.DB.TenantTx(ctx, a.TenantID, func(tx pgx.Tx) error {
		var err error
		if scan, err = store.ScanGet(ctx, tx, a.ScanID); err != nil {
			return err
		}
		acct, err = store.AccountGet(ctx, tx, a.AccountID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("scan or account gone: %w", err))
	}
	if err != nil {
		return err
	}
	if scan.Status != store.ScanQueued && scan.Status != store.ScanRunning {
		return nil // cancelled, or planned by an earlier attempt that finished
	}

	units, err := w.plan(ctx, acct)
	if err != nil {
		kind := providers.KindOf(err)
		final := job.Attempt >= job.MaxAttempts || kind == providers.KindAccessDenied || kind == providers.KindOptInRequired
		if !final {
			return err
		}
		log.WarnContext(ctx, "scan failed at planning", "error", err.Error())
		ferr := w.DB.TenantTx(ctx, a.TenantID, func(tx pgx.Tx) error {
			return store.ScanFinish(ctx, tx, a.ScanID, store.ScanFailed, "planning: "+err.Error())
		})
		if ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}

	client := river.ClientFromContext[pgx.Tx](ctx)
	return w.DB.TenantTx(ctx, a.TenantID, func(tx pgx.Tx) error {
		if _, err := store.ScanGetForUpdate(ctx, tx, a.ScanID); err != nil {
			return err
		}
		if err := store.ScanStart(ctx, tx, a.ScanID, units); err != nil {
			return err
		}
		if len(units) == 0 {
			_, err := client.InsertTx(ctx, tx, EvaluateScanArgs(a), nil)
			return err
		}
		params := make([]river.InsertManyParams, len(units))
		for i, u := range units {
			params[i] = river.InsertManyParams{Args: CollectUnitArgs{TenantID: a.TenantID, AccountID: a.AccountID, ScanID: a.ScanID, Unit: u}}
		}
		if _, err := client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("enqueue units: %w", err)
		}
		log.InfoContext(ctx, "scan planned", "units", len(units))
		_, err := river.JobCompleteTx[*riverDriver](ctx, tx, job)
		return err
	})
}

func (p *Pipeline) provider(ctx context.Context, acct store.Account) (providers.Provider, error) {
	secret, err := p.openSecret(acct)
	if err != nil {
		return nil, err
	}
	return p.NewProvider(ctx, acct, secret)
}

func (p *Pipeline) plan(ctx context.Context, acct store.Account) ([]providers.Unit, error) {
	prov, err := p.provider(ctx, acct)
	if err != nil {
		return nil, err
	}
	return prov.Plan(ctx)
}
