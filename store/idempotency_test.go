package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

func TestIdempotencyClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	a := db.NewTenant(t, "Alpha")
	b := db.NewTenant(t, "Beta")

	req := func(key string, fingerprint string) store.IdempotencyRequest {
		return store.IdempotencyRequest{Principal: "api_key:" + uuid.Nil.String(), Key: key, Fingerprint: []byte(fingerprint),
			Method: "POST", Path: "/api/v1/mute-rules", Lease: time.Minute, TTL: 24 * time.Hour}
	}
	claim := func(tenant uuid.UUID, r store.IdempotencyRequest) (store.IdempotencyState, store.IdempotencyRecord) {
		t.Helper()
		var state store.IdempotencyState
		var rec store.IdempotencyRecord
		require.NoError(t, db.App.TenantTx(ctx, tenant, func(tx pgx.Tx) error {
			var err error
			state, rec, err = store.IdempotencyClaim(ctx, tx, r)
			return err
		}))
		return state, rec
	}
	inTenant := func(tenant uuid.UUID, fn func(tx pgx.Tx) error) error { return db.App.TenantTx(ctx, tenant, fn) }
	owner := func(sql string, args ...any) {
		t.Helper()
		_, err := db.Owner.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}

	t.Run("claim, in flight, mismatch, complete, replay", func(t *testing.T) {
		state, rec := claim(a, req("k1", "fp1"))
		require.Equal(t, store.IdempotencyClaimed, state)
		lease := rec.LeaseID

		state, _ = claim(a, req("k1", "fp1"))
		require.Equal(t, store.IdempotencyInFlight, state)
		state, _ = claim(a, req("k1", "fp2"))
		require.Equal(t, store.IdempotencyMismatch, state)

		// Another tenant, or another caller, with the same key has a key of its own.
		state, _ = claim(b, req("k1", "fp1"))
		require.Equal(t, store.IdempotencyClaimed, state)
		other := req("k1", "fp1")
		other.Principal = "user:" + uuid.NewString()
		state, _ = claim(a, other)
		require.Equal(t, store.IdempotencyClaimed, state)

		// Only the claim's own lease completes it.
		err := inTenant(a, func(tx pgx.Tx) error {
			return store.IdempotencyComplete(ctx, tx, req("k1", "").Principal, "k1", uuid.New(), 201, []byte("sealed"))
		})
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, inTenant(a, func(tx pgx.Tx) error {
			return store.IdempotencyComplete(ctx, tx, req("k1", "").Principal, "k1", lease, 201, []byte("sealed"))
		}))
		state, rec = claim(a, req("k1", "fp1"))
		require.Equal(t, store.IdempotencyCompleted, state)
		require.Equal(t, 201, rec.Status)
		require.Equal(t, []byte("sealed"), rec.Response)
		state, _ = claim(a, req("k1", "fp2"))
		require.Equal(t, store.IdempotencyMismatch, state)

		// A completed key is never released.
		require.NoError(t, inTenant(a, func(tx pgx.Tx) error {
			return store.IdempotencyRelease(ctx, tx, req("k1", "").Principal, "k1", lease)
		}))
		state, _ = claim(a, req("k1", "fp1"))
		require.Equal(t, store.IdempotencyCompleted, state)
	})

	t.Run("release frees the key", func(t *testing.T) {
		state, rec := claim(a, req("k2", "fp1"))
		require.Equal(t, store.IdempotencyClaimed, state)
		require.NoError(t, inTenant(a, func(tx pgx.Tx) error {
			return store.IdempotencyRelease(ctx, tx, req("k2", "").Principal, "k2", rec.LeaseID)
		}))
		// Freed: even another request may use it now.
		state, _ = claim(a, req("k2", "fp2"))
		require.Equal(t, store.IdempotencyClaimed, state)
	})

	t.Run("a lapsed lease is taken over by the same request only", func(t *testing.T) {
		state, rec := claim(a, req("k3", "fp1"))
		require.Equal(t, store.IdempotencyClaimed, state)
		owner("UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = 'k3'")
		state, _ = claim(a, req("k3", "fp2"))
		require.Equal(t, store.IdempotencyMismatch, state)
		state, taken := claim(a, req("k3", "fp1"))
		require.Equal(t, store.IdempotencyClaimed, state)
		require.NotEqual(t, rec.LeaseID, taken.LeaseID)
		// The first request, finishing late, cannot overwrite the new claim.
		err := inTenant(a, func(tx pgx.Tx) error {
			return store.IdempotencyComplete(ctx, tx, req("k3", "").Principal, "k3", rec.LeaseID, 201, []byte("late"))
		})
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("an expired key is claimed afresh and swept", func(t *testing.T) {
		state, rec := claim(a, req("k4", "fp1"))
		require.Equal(t, store.IdempotencyClaimed, state)
		require.NoError(t, inTenant(a, func(tx pgx.Tx) error {
			return store.IdempotencyComplete(ctx, tx, req("k4", "").Principal, "k4", rec.LeaseID, 202, []byte("x"))
		}))
		owner("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'k4'")
		state, _ = claim(a, req("k4", "fp2"))
		require.Equal(t, store.IdempotencyClaimed, state, "an expired key binds nothing")

		claim(b, req("k5", "fp1"))
		owner("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key IN ('k4', 'k5')")
		var n int64
		require.NoError(t, inTenant(a, func(tx pgx.Tx) error {
			var err error
			n, err = store.IdempotencyDeleteExpired(ctx, tx)
			return err
		}))
		require.Equal(t, int64(1), n, "only the tenant's own expired key")
		var left []string
		rows, err := db.Owner.Query(ctx, "SELECT key FROM idempotency_keys WHERE key IN ('k4', 'k5')")
		require.NoError(t, err)
		left, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Equal(t, []string{"k5"}, left)
	})

	t.Run("row-level security", func(t *testing.T) {
		claim(a, req("rls", "fp1"))
		var seen int
		require.NoError(t, inTenant(b, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, "SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1", a).Scan(&seen)
		}))
		require.Zero(t, seen, "tenant B sees none of A's keys")
		err := inTenant(b, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, principal, key, fingerprint, method, path, lease_id, locked_until, expires_at)
				VALUES ($1, 'user:x', 'forged', '\x00', 'POST', '/', gen_random_uuid(), now(), now())`, a)
			return err
		})
		require.ErrorContains(t, err, "row-level security")
		var n int
		require.NoError(t, db.App.Pool.QueryRow(ctx, "SELECT count(*) FROM idempotency_keys").Scan(&n))
		require.Zero(t, n, "outside a tenant transaction the app sees nothing")
	})
}
