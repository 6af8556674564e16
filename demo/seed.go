package demo

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/vigilsec/vigil/checks"
	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/providers"
	"github.com/vigilsec/vigil/store"
)

// AccountName names the demo account in the demo tenant.
const AccountName = "Demo AWS (recorded estate)"

// Providers wraps a ProviderFunc so that demo accounts replay the recordings.
func Providers(next jobs.ProviderFunc) jobs.ProviderFunc {
	return func(ctx context.Context, acct store.Account, secret []byte) (providers.Provider, error) {
		if acct.CredentialKind == CredentialKind {
			return NewProvider(ctx, acct)
		}
		return next(ctx, acct, secret)
	}
}

// SeedConfig is what SeedEstate needs.
type SeedConfig struct {
	DB       *store.DB
	TenantID uuid.UUID
	Checks   *checks.Registry
	Logger   *slog.Logger
}

// SeedEstate gives the demo tenant its AWS account and scans it twice, replaying the
// first day's recording as of yesterday and the second as of now, so drift, opened and
// resolved findings and a trend exist from the start. It does nothing when the account
// already has scans.
func SeedEstate(ctx context.Context, cfg SeedConfig) (accountID uuid.UUID, err error) {
	var existing *store.Account
	err = cfg.DB.TenantTx(ctx, cfg.TenantID, func(tx pgx.Tx) error {
		accts, err := store.AccountList(ctx, tx)
		for i := range accts {
			if accts[i].CredentialKind == CredentialKind {
				existing = &accts[i]
			}
		}
		return err
	})
	if err != nil {
		return uuid.Nil, err
	}
	if existing != nil && existing.LastScanID != nil {
		return existing.ID, nil
	}
	if existing == nil {
		accountID = uuid.New()
		next, err := jobs.NextRun("0 3 * * *", "UTC", time.Now())
		if err != nil {
			return uuid.Nil, err
		}
		err = cfg.DB.TenantTx(ctx, cfg.TenantID, func(tx pgx.Tx) error {
			_, err := store.AccountCreate(ctx, tx, store.Account{ID: accountID, Provider: providers.AWS, NativeID: AccountID,
				Name: AccountName, CredentialKind: CredentialKind, Config: map[string]any{"demo_snapshot": Snapshots[0]},
				Regions: Regions, Schedule: "0 3 * * *", Timezone: "UTC", Enabled: true, NextScanAt: &next})
			return err
		})
		if err != nil {
			return uuid.Nil, fmt.Errorf("create demo account: %w", err)
		}
	} else {
		accountID = existing.ID
	}

	var offset atomic.Int64 // how far in the past the running scan pretends to be
	pipe := &jobs.Pipeline{DB: cfg.DB, Checks: cfg.Checks, Logger: cfg.Logger,
		NewProvider: Providers(func(context.Context, store.Account, []byte) (providers.Provider, error) {
			return nil, fmt.Errorf("the demo seed scans only the demo account")
		}),
		NowFunc: func() time.Time { return time.Now().Add(-time.Duration(offset.Load())) }}
	client, err := jobs.NewClient(jobs.Config{DB: cfg.DB, Logger: cfg.Logger, Concurrency: 4, Pipeline: pipe,
		FetchPollInterval: 100 * time.Millisecond})
	if err != nil {
		return uuid.Nil, err
	}
	events, cancel := client.River.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		return uuid.Nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
	}()

	for i, snap := range Snapshots {
		offset.Store(int64(time.Duration(len(Snapshots)-1-i) * 24 * time.Hour))
		var scan store.Scan
		err := cfg.DB.TenantTx(ctx, cfg.TenantID, func(tx pgx.Tx) error {
			a, err := store.AccountGet(ctx, tx, accountID)
			if err != nil {
				return err
			}
			a.Config["demo_snapshot"] = snap
			if _, err := store.AccountUpdate(ctx, tx, a); err != nil {
				return err
			}
			scan, err = jobs.EnqueueScan(ctx, client.River, tx, cfg.TenantID, accountID, "manual", "demo seed")
			return err
		})
		if err != nil {
			return accountID, fmt.Errorf("queue demo scan %s: %w", snap, err)
		}
		status, err := waitScan(ctx, cfg, events, scan.ID)
		if err != nil {
			return accountID, err
		}
		cfg.Logger.Info("demo scan finished", "snapshot", snap, "status", status)
	}
	return accountID, nil
}

func waitScan(ctx context.Context, cfg SeedConfig, events <-chan *river.Event, scanID uuid.UUID) (string, error) {
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case <-events:
			var s store.Scan
			err := cfg.DB.TenantTx(ctx, cfg.TenantID, func(tx pgx.Tx) error {
				var err error
				s, err = store.ScanGet(ctx, tx, scanID)
				return err
			})
			if err != nil {
				return "", err
			}
			if s.Status != store.ScanQueued && s.Status != store.ScanRunning {
				return s.Status, nil
			}
		case <-timeout:
			return "", fmt.Errorf("demo scan %s did not finish in 5 minutes", scanID)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
