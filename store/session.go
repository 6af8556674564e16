package store

import (
	"context"
	"fmt"
)

// SessionDeleteExpired removes expired sessions of every user and returns how many.
func (db *DB) SessionDeleteExpired(ctx context.Context) (int64, error) {
	var n int64
	if err := db.Pool.QueryRow(ctx, "SELECT vigil_sessions_delete_expired()").Scan(&n); err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
