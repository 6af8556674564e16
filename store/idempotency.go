package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// IdempotencyState is what a claim of an idempotency key found.
type IdempotencyState int

// The outcomes of IdempotencyClaim.
const (
	// IdempotencyClaimed: the key is the caller's; it executes the request, then calls
	// IdempotencyComplete or IdempotencyRelease with the lease.
	IdempotencyClaimed IdempotencyState = iota + 1
	// IdempotencyInFlight: another request with this key and the same fingerprint is
	// executing (its lease has not ended).
	IdempotencyInFlight
	// IdempotencyMismatch: the key was used for a different request (another fingerprint).
	IdempotencyMismatch
	// IdempotencyCompleted: the request was executed; its stored response is returned.
	IdempotencyCompleted
)

// IdempotencyRequest describes one request that carries an Idempotency-Key.
type IdempotencyRequest struct {
	// Principal is "user:<uuid>" or "api_key:<uuid>"; keys are scoped to it.
	Principal string
	Key       string
	// Fingerprint identifies the request (a hash of its method, path, query and body).
	Fingerprint []byte
	Method      string
	Path        string
	// Lease is how long a claim holds while the request executes; after that, a retry
	// with the same fingerprint takes the key over (the first request presumably died).
	Lease time.Duration
	// TTL is how long the key lives, counted from the claim.
	TTL time.Duration
}

// IdempotencyRecord is the row found or created by a claim.
type IdempotencyRecord struct {
	LeaseID uuid.UUID
	// Status and Response are set once the request completed; Response is sealed.
	Status   int
	Response []byte
}

// IdempotencyClaim claims r.Key for one execution in the transaction's tenant, or
// reports why it cannot: the key is in flight, was used for another request, or holds a
// completed response to replay. An expired key is claimed afresh. The claim is atomic:
// of two concurrent claims of one key, the second waits for the first to commit and then
// sees it in flight.
func IdempotencyClaim(ctx context.Context, tx pgx.Tx, r IdempotencyRequest) (IdempotencyState, IdempotencyRecord, error) {
	lease := uuid.New()
	var got uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO idempotency_keys AS k (tenant_id, principal, key, fingerprint, method, path, lease_id, locked_until, expires_at)
		VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6, now() + $7::interval, now() + $8::interval)
		ON CONFLICT (tenant_id, principal, key) DO UPDATE SET
			fingerprint = excluded.fingerprint, method = excluded.method, path = excluded.path,
			lease_id = excluded.lease_id, locked_until = excluded.locked_until,
			status = NULL, response = NULL, created_at = now(), expires_at = excluded.expires_at
		WHERE k.expires_at <= now()
		   OR (k.locked_until IS NOT NULL AND k.locked_until <= now() AND k.fingerprint = excluded.fingerprint)
		RETURNING lease_id`,
		r.Principal, r.Key, r.Fingerprint, r.Method, r.Path, lease, r.Lease, r.TTL).Scan(&got)
	if err == nil {
		return IdempotencyClaimed, IdempotencyRecord{LeaseID: got}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, IdempotencyRecord{}, fmt.Errorf("claim idempotency key: %w", translate(err))
	}
	// The key exists and is live; the failed upsert locked the row, so it cannot change
	// under this read.
	var rec IdempotencyRecord
	var fingerprint []byte
	var status *int
	err = tx.QueryRow(ctx, `SELECT fingerprint, lease_id, status, response FROM idempotency_keys
		WHERE tenant_id = vigil_current_tenant() AND principal = $1 AND key = $2`, r.Principal, r.Key).
		Scan(&fingerprint, &rec.LeaseID, &status, &rec.Response)
	if err != nil {
		return 0, IdempotencyRecord{}, fmt.Errorf("read idempotency key: %w", translate(err))
	}
	switch {
	case string(fingerprint) != string(r.Fingerprint):
		return IdempotencyMismatch, IdempotencyRecord{}, nil
	case status == nil:
		return IdempotencyInFlight, IdempotencyRecord{}, nil
	}
	rec.Status = *status
	return IdempotencyCompleted, rec, nil
}

// IdempotencyComplete stores the response of a claimed key (sealed by the caller).
// ErrNotFound when the claim was lost (its lease ended and a retry took the key over).
func IdempotencyComplete(ctx context.Context, tx pgx.Tx, principal, key string, lease uuid.UUID, status int, sealed []byte) error {
	tag, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = $4, response = $5, locked_until = NULL
		WHERE tenant_id = vigil_current_tenant() AND principal = $1 AND key = $2 AND lease_id = $3 AND locked_until IS NOT NULL`,
		principal, key, lease, status, sealed)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// IdempotencyRelease gives a claimed key up (the request failed: nothing to replay), so
// that a retry executes again. A claim taken over meanwhile is left alone.
func IdempotencyRelease(ctx context.Context, tx pgx.Tx, principal, key string, lease uuid.UUID) error {
	_, err := tx.Exec(ctx, `DELETE FROM idempotency_keys
		WHERE tenant_id = vigil_current_tenant() AND principal = $1 AND key = $2 AND lease_id = $3 AND locked_until IS NOT NULL`,
		principal, key, lease)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// IdempotencyDeleteExpired deletes the transaction's tenant's expired keys and returns
// how many.
func IdempotencyDeleteExpired(ctx context.Context, tx pgx.Tx) (int64, error) {
	tag, err := tx.Exec(ctx, "DELETE FROM idempotency_keys WHERE tenant_id = vigil_current_tenant() AND expires_at <= now()")
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
