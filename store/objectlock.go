package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
)

// objectLockSpace is the first key of the two-key advisory locks taken by ObjectLock.
// Two-key advisory locks live apart from single-bigint ones (goose's migration lock,
// River's), so they never collide with those.
const objectLockSpace int32 = 0x76676c01 // "vgl" 1

// ObjectLock serialises the API's writes to one object of a tenant, across every API
// process, with a transaction-level advisory lock held on a connection of its own until
// release is called. name identifies the object (its URL path). The lock is advisory: it
// binds only the writers that take it (the API's PATCH, PUT and DELETE of objects with an
// ETag), not the workers.
//
// The caller holds a second connection while it works under the lock, so callers must
// bound how many locks they hold at once below the pool size (see api's use).
func (db *DB) ObjectLock(ctx context.Context, tenantID uuid.UUID, name string) (release func(), err error) {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	h := sha256.Sum256([]byte(tenantID.String() + "\x00" + name))
	key := int32(binary.BigEndian.Uint32(h[:4])) //nolint:gosec // a hash: wrapping is intended
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", objectLockSpace, key); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	return func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }, nil
}
