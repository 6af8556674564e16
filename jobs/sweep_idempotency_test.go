package jobs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/jobs"
	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

// TestSweepExpiredIdempotencyKeys: the hourly sweep deletes every tenant's expired
// idempotency keys (and expired sessions) and leaves live ones, through River.
func TestSweepExpiredIdempotencyKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	tenants := []uuid.UUID{db.NewTenant(t, "Alpha"), db.NewTenant(t, "Beta")}
	for _, tenant := range tenants {
		for _, key := range []string{"live", "expired"} {
			require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
				_, _, err := store.IdempotencyClaim(ctx, tx, store.IdempotencyRequest{Principal: "user:" + uuid.NewString(), Key: key,
					Fingerprint: []byte("fp"), Method: "POST", Path: "/api/v1/mute-rules", Lease: time.Minute, TTL: 24 * time.Hour})
				return err
			}))
		}
	}
	_, err := db.Owner.Exec(ctx, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'expired'")
	require.NoError(t, err)

	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.SweepSessionsWorker{DB: db.App})
	rc, err := river.NewClient(riverpgxv5.New(db.App.Pool), &river.Config{Workers: workers, Logger: testLogger(),
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}, FetchPollInterval: 100 * time.Millisecond})
	require.NoError(t, err)
	events, cancel := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	require.NoError(t, rc.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = rc.Stop(ctx)
	})
	_, err = rc.Insert(ctx, jobs.SweepSessionsArgs{}, nil)
	require.NoError(t, err)

	select {
	case ev := <-events:
		require.Equal(t, river.EventKindJobCompleted, ev.Kind, "%v", ev.Job.Errors)
		var out map[string]int64
		require.NoError(t, json.Unmarshal(ev.Job.Output(), &out))
		require.Equal(t, int64(2), out["idempotency_keys_deleted"])
	case <-time.After(30 * time.Second):
		t.Fatal("the sweep did not run")
	}
	rows, err := db.Owner.Query(ctx, "SELECT key FROM idempotency_keys ORDER BY key")
	require.NoError(t, err)
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"live", "live"}, left)
}
