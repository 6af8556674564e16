package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigilsec/vigil/store"
)

// sweepIdempotencyKeys deletes every tenant's expired idempotency keys (24 hours after
// their first use). The table is under row-level security like every tenant table, so
// the sweep runs one tenant transaction per tenant rather than one privileged statement.
// The API already ignores expired keys; the sweep only reclaims the space.
func sweepIdempotencyKeys(ctx context.Context, db *store.DB) (int64, error) {
	tenants, err := db.TenantRetention(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for id := range tenants {
		err := db.TenantTx(ctx, id, func(tx pgx.Tx) error {
			n, err := store.IdempotencyDeleteExpired(ctx, tx)
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("tenant %s: %w", id, err)
		}
	}
	return total, nil
}
