package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/vigilsec/vigil/migrations"
)

// gooseTable records which of Vigil's migrations are applied.
const gooseTable = "vigil_schema_version"

// ErrSchemaOutdated is returned by CheckSchema when migrations are pending.
var ErrSchemaOutdated = errors.New("database schema is not current: run `vigil migrate up`")

// Migrator applies River's migrations and Vigil's own, as the owner of the schema.
type Migrator struct {
	pool  *pgxpool.Pool
	sqlDB *sql.DB
	goose *goose.Provider
	river *rivermigrate.Migrator[pgx.Tx]
}

// NewMigrator connects with ownerURL (a role allowed to create tables and roles).
// Close it when done.
func NewMigrator(ctx context.Context, ownerURL string, logger *slog.Logger) (*Migrator, error) {
	pool, err := pgxpool.New(ctx, ownerURL)
	if err != nil {
		return nil, fmt.Errorf("open migration pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres for migrations: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	// A session advisory lock keeps two `vigil migrate up` (two replicas starting at once)
	// from interleaving.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	gp, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithTableName(gooseTable), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("load river migrations: %w", err)
	}
	return &Migrator{pool: pool, sqlDB: sqlDB, goose: gp, river: rm}, nil
}

// Close releases the migrator's connections.
func (m *Migrator) Close() {
	_ = m.sqlDB.Close()
	m.pool.Close()
}

// Up applies River's pending migrations, then Vigil's. River goes first because
// Vigil's first migration grants the application role access to River's tables.
func (m *Migrator) Up(ctx context.Context) (applied []string, err error) {
	rres, err := m.river.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("river migrations up: %w", err)
	}
	for _, v := range rres.Versions {
		applied = append(applied, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	res, err := m.goose.Up(ctx)
	if err != nil {
		return applied, fmt.Errorf("vigil migrations up: %w", err)
	}
	for _, r := range res {
		applied = append(applied, fmt.Sprintf("vigil %04d %s", r.Source.Version, r.Source.Path))
	}
	return applied, nil
}

// Down rolls back Vigil's migrations down to version to (0 = all of them). With
// includeRiver and to == 0 it then removes River's tables too.
func (m *Migrator) Down(ctx context.Context, to int64, includeRiver bool) (rolledBack []string, err error) {
	res, err := m.goose.DownTo(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("vigil migrations down: %w", err)
	}
	for _, r := range res {
		rolledBack = append(rolledBack, fmt.Sprintf("vigil %04d %s", r.Source.Version, r.Source.Path))
	}
	if includeRiver && to == 0 {
		rres, err := m.river.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
		if err != nil {
			return rolledBack, fmt.Errorf("river migrations down: %w", err)
		}
		for _, v := range rres.Versions {
			rolledBack = append(rolledBack, fmt.Sprintf("river %03d %s", v.Version, v.Name))
		}
	}
	return rolledBack, nil
}

// MigrationState is one line of `vigil migrate status`.
type MigrationState struct {
	Line    string // "vigil" or "river"
	Version int64
	Name    string
	Applied bool
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationState, error) {
	var out []MigrationState
	existing, err := m.river.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("river migration status: %w", err)
	}
	have := map[int]bool{}
	for _, v := range existing {
		have[v.Version] = true
	}
	for _, v := range m.river.AllVersions() {
		out = append(out, MigrationState{Line: "river", Version: int64(v.Version), Name: v.Name, Applied: have[v.Version]})
	}
	st, err := m.goose.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("vigil migration status: %w", err)
	}
	for _, s := range st {
		out = append(out, MigrationState{Line: "vigil", Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// LatestVersions reports the newest migration versions this binary knows, for the
// schema check of serve and worker.
func LatestVersions() (vigil int64, river int, err error) {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		return 0, 0, fmt.Errorf("list migrations: %w", err)
	}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("migration %s: version is not a number", e.Name())
		}
		vigil = max(vigil, v)
	}
	rm, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return 0, 0, fmt.Errorf("load river migrations: %w", err)
	}
	all := rm.AllVersions()
	if len(all) > 0 {
		river = all[len(all)-1].Version
	}
	return vigil, river, nil
}

// CheckSchema returns ErrSchemaOutdated unless every migration this binary knows is
// applied. serve and worker call it at start and /readyz on every probe.
func (db *DB) CheckSchema(ctx context.Context) error {
	wantVigil, wantRiver, err := LatestVersions()
	if err != nil {
		return err
	}
	var haveVigil int64
	var haveRiver int
	err = db.Pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(max(version_id), 0) FROM `+gooseTable+` WHERE is_applied),
		(SELECT coalesce(max(version), 0) FROM river_migration WHERE line = 'main')`).Scan(&haveVigil, &haveRiver)
	if err != nil {
		// A missing table means nothing was migrated yet.
		return fmt.Errorf("%w: %w", ErrSchemaOutdated, err)
	}
	if haveVigil < wantVigil || haveRiver < wantRiver {
		return fmt.Errorf("%w: vigil at %d of %d, river at %d of %d", ErrSchemaOutdated, haveVigil, wantVigil, haveRiver, wantRiver)
	}
	return nil
}
