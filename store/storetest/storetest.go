// Package storetest gives tests a real, migrated Postgres database of their own.
//
// A template database is migrated once per migration set (its name carries a hash of
// the migration files) and every test database is cloned from it with CREATE DATABASE
// ... TEMPLATE, which takes a fraction of a second. Tests reach the server through
// VIGIL_TEST_DATABASE_URL (a role allowed to create databases; `make test` sets it and
// starts a throwaway cluster when none answers). No server is a test failure that says
// how to get one, never a skip.
//
// Import it only from _test.go files.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/vigilsec/vigil/migrations"
	"github.com/vigilsec/vigil/store"
)

// EnvURL names the variable holding the admin URL of the test server.
const EnvURL = "VIGIL_TEST_DATABASE_URL"

const defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL returns the URL of the test server's maintenance database.
func AdminURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return defaultURL
}

// DB is one test's private database.
type DB struct {
	// App is the pool the application uses: every connection runs as store.AppRole, so
	// row-level security applies exactly as in production.
	App *store.DB
	// Owner is a pool with the owner's rights (fixtures that the app may not write,
	// catalog queries).
	Owner *pgxpool.Pool
	// URL is the connection URL of the database (owner credentials).
	URL string
	// Name is the database name.
	Name string
}

// New creates a fresh migrated database for one test and drops it when the test ends.
func New(tb testing.TB) *DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl := ensureTemplate(tb, ctx)

	name := "vigil_t_" + randomHex(6)
	admin := connectAdmin(tb, ctx)
	_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tpl}.Sanitize())
	_ = admin.Close(ctx)
	require.NoError(tb, err, "create test database from template")

	dbURL := WithDatabase(tb, AdminURL(), name)
	owner, err := pgxpool.New(ctx, dbURL)
	require.NoError(tb, err)
	app, err := store.Open(ctx, dbURL, store.PoolConfig{MaxConns: 8})
	require.NoError(tb, err)

	tb.Cleanup(func() {
		app.Close()
		owner.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return &DB{App: app, Owner: owner, URL: dbURL, Name: name}
}

// NewTenant inserts a tenant with the owner's rights and returns its id.
func (d *DB) NewTenant(tb testing.TB, name string) uuid.UUID {
	tb.Helper()
	id := uuid.New()
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "-")) + "-" + randomHex(3)
	_, err := d.Owner.Exec(context.Background(), "INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3)", id, name, slug)
	require.NoError(tb, err)
	return id
}

// WithDatabase returns rawURL pointing at database name.
func WithDatabase(tb testing.TB, rawURL, name string) string {
	tb.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(tb, err, "parse %s", EnvURL)
	u.Path = "/" + name
	return u.String()
}

func connectAdmin(tb testing.TB, ctx context.Context) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		tb.Fatalf("no Postgres for tests at %s (%v).\n"+
			"Run the tests with `make test`, which starts a throwaway cluster when none answers,\n"+
			"or set %s to a role that may create databases.", redact(AdminURL()), err, EnvURL)
	}
	return conn
}

// ensureTemplate returns the name of the migrated template database, building it under
// an advisory lock when this migration set has none yet (test packages run in parallel).
func ensureTemplate(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	name := "vigil_tpl_" + migrationsHash(tb)
	admin := connectAdmin(tb, ctx)
	defer admin.Close(ctx)

	_, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727272)")
	require.NoError(tb, err)
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(727272)") //nolint:errcheck

	var exists bool
	require.NoError(tb, admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	if exists {
		return name
	}
	building := name + "_b"
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)")
	require.NoError(tb, err)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize())
	require.NoError(tb, err)

	m, err := store.NewMigrator(ctx, WithDatabase(tb, AdminURL(), building), slog.New(slog.DiscardHandler))
	require.NoError(tb, err)
	_, err = m.Up(ctx)
	m.Close()
	require.NoError(tb, err, "migrate template database")

	_, err = admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize())
	require.NoError(tb, err)
	return name
}

func migrationsHash(tb testing.TB) string {
	tb.Helper()
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	require.NoError(tb, err)
	_, river, err := store.LatestVersions()
	require.NoError(tb, err)
	fmt.Fprintf(h, "river%d", river)
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
