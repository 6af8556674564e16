package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/store"
	"github.com/vigilsec/vigil/store/storetest"
)

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)

	m, err := store.NewMigrator(ctx, db.URL, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer m.Close()

	require.NoError(t, db.App.CheckSchema(ctx), "template is fully migrated")

	down, err := m.Down(ctx, 0, true)
	require.NoError(t, err)
	require.NotEmpty(t, down)

	var tables int
	require.NoError(t, db.Owner.QueryRow(ctx,
		`SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('vigil_schema_version')`).Scan(&tables))
	require.Zero(t, tables, "down to zero leaves no tables behind")

	st, err := m.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		require.False(t, s.Applied, "%s %d still applied", s.Line, s.Version)
	}

	up, err := m.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, len(st), len(up), "every migration applied again")
	require.NoError(t, db.App.CheckSchema(ctx))

	again, err := m.Up(ctx)
	require.NoError(t, err)
	require.Empty(t, again, "up is idempotent")
}

func TestCheckSchemaOutdated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	m, err := store.NewMigrator(ctx, db.URL, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer m.Close()

	_, err = m.Down(ctx, 0, false)
	require.NoError(t, err)
	// The app role lost its grants with the first migration; check as the owner.
	ownerDB := &store.DB{Pool: db.Owner}
	require.ErrorIs(t, ownerDB.CheckSchema(ctx), store.ErrSchemaOutdated)
}

// TestRowLevelSecurityEverywhere fails when a table with a tenant_id column (or one
// holding a user's private rows) is created without forced row-level security.
func TestRowLevelSecurityEverywhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)

	rows, err := db.Owner.Query(ctx, `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
		       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		  AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('tenant_id', 'user_id') AND NOT a.attisdropped)
		       OR c.relname IN ('tenants', 'users'))
		ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var checked int
	for rows.Next() {
		var name string
		var rls, force, policy bool
		require.NoError(t, rows.Scan(&name, &rls, &force, &policy))
		require.Truef(t, rls, "table %s has tenant data but row-level security is not enabled", name)
		require.Truef(t, force, "table %s: row-level security is not forced (the owner would bypass it)", name)
		require.Truef(t, policy, "table %s has no policy", name)
		checked++
	}
	require.NoError(t, rows.Err())
	require.GreaterOrEqual(t, checked, 6)

	var bypass, super bool
	require.NoError(t, db.Owner.QueryRow(ctx, "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = $1", store.AppRole).Scan(&bypass, &super))
	require.False(t, bypass)
	require.False(t, super)

	var owned int
	require.NoError(t, db.Owner.QueryRow(ctx,
		`SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1`, store.AppRole).Scan(&owned))
	require.Zero(t, owned, "the application role owns nothing")
}

func TestTenantTxIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.New(t)
	a := db.NewTenant(t, "Alpha")
	b := db.NewTenant(t, "Beta")

	var seen []string
	require.NoError(t, db.App.TenantTx(ctx, a, func(tx pgxTx) error {
		rows, err := tx.Query(ctx, "SELECT name FROM tenants")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			seen = append(seen, n)
		}
		return rows.Err()
	}))
	require.Equal(t, []string{"Alpha"}, seen)

	// Writing a row for another tenant is refused by the policy's WITH CHECK.
	err := db.App.TenantTx(ctx, a, func(tx pgxTx) error {
		_, err := tx.Exec(ctx, "INSERT INTO audit_log (tenant_id, actor_type, actor_id, action) VALUES ($1, 'system', 'x', 'test')", b)
		return err
	})
	require.ErrorContains(t, err, "row-level security")

	// Outside a tenant transaction the app sees nothing at all.
	var n int
	require.NoError(t, db.App.Pool.QueryRow(ctx, "SELECT count(*) FROM tenants").Scan(&n))
	require.Zero(t, n)
}
