// Package store owns Vigil's Postgres access: the connection pool, tenant-scoped
// transactions, migrations, and the queries of every table. It translates database
// errors at its edge (ErrNotFound, ErrConflict) so callers never see pgx errors.
//
// store imports no HTTP, cloud SDK or job package; api and jobs call it.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppRole is the database role the application runs as. It owns nothing and has no
// BYPASSRLS, so row-level security binds every query. Each pooled connection switches
// to it with SET ROLE, whatever the login role is.
const AppRole = "vigil_app"

// Errors returned by store functions; they wrap nothing from pgx.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// PoolConfig tunes the application pool. The zero value is usable.
type PoolConfig struct {
	MaxConns int32
	// Role is the role to SET on each connection; empty means AppRole.
	Role string
}

// DB is the application's handle on Postgres.
type DB struct {
	Pool *pgxpool.Pool
}

// Open connects to Postgres with the application role and checks the connection.
func Open(ctx context.Context, url string, cfg PoolConfig) (*DB, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	role := cfg.Role
	if role == "" {
		role = AppRole
	}
	pc.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET ROLE "+pgx.Identifier{role}.Sanitize())
		if err != nil {
			return fmt.Errorf("set role %s (run `vigil migrate up` first, and grant it to the login role): %w", role, err)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{Pool: pool}, nil
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Scope says on whose behalf a transaction runs. Row-level security policies read these
// settings: TenantID selects a tenant's rows, UserID a user's own rows (sessions, the
// memberships of the tenant switcher).
type Scope struct {
	TenantID uuid.UUID
	UserID   uuid.UUID
}

// TenantTx runs fn in a transaction scoped to one tenant. It commits when fn returns nil
// and rolls back otherwise.
func (db *DB) TenantTx(ctx context.Context, tenantID uuid.UUID, fn func(pgx.Tx) error) error {
	if tenantID == uuid.Nil {
		return errors.New("tenant transaction without a tenant")
	}
	return db.ScopedTx(ctx, Scope{TenantID: tenantID}, fn)
}

// ScopedTx runs fn in a transaction with the scope's settings applied with
// set_config(..., true), so they end with the transaction and never leak to the next
// user of the pooled connection.
func (db *DB) ScopedTx(ctx context.Context, scope Scope, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if err := SetScope(ctx, tx, scope); err != nil {
			return err
		}
		return fn(tx)
	})
}

// SetScope applies a scope to an open transaction.
func SetScope(ctx context.Context, tx pgx.Tx, scope Scope) error {
	tenant, user := "", ""
	if scope.TenantID != uuid.Nil {
		tenant = scope.TenantID.String()
	}
	if scope.UserID != uuid.Nil {
		user = scope.UserID.String()
	}
	_, err := tx.Exec(ctx, "SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)", tenant, user)
	if err != nil {
		return fmt.Errorf("set transaction scope: %w", err)
	}
	return nil
}

// translate maps pgx errors to the store's errors; others pass through wrapped.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s", ErrNotFound, pgErr.ConstraintName)
		}
	}
	return err
}
