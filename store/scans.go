package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vigilsec/vigil/providers"
)

// ErrScanActive is returned when an account already has a queued or running scan.
var ErrScanActive = errors.New("the account already has a scan queued or running")

// Scan statuses.
const (
	ScanQueued    = "queued"
	ScanRunning   = "running"
	ScanCompleted = "completed"
	ScanPartial   = "partial"
	ScanFailed    = "failed"
	ScanCancelled = "cancelled"
)

// Scan is one collection + evaluation of an account.
type Scan struct {
	ID           uuid.UUID  `json:"id"`
	AccountID    uuid.UUID  `json:"account_id"`
	Status       string     `json:"status"`
	Trigger      string     `json:"trigger"`
	UnitsTotal   int        `json:"units_total"`
	UnitsPending int        `json:"units_pending"`
	UnitsFailed  int        `json:"units_failed"`
	Resources    int        `json:"resources"`
	Created      int        `json:"created"`
	Modified     int        `json:"modified"`
	Deleted      int        `json:"deleted"`
	Error        string     `json:"error"`
	RequestedBy  string     `json:"requested_by"`
	CreatedAt    time.Time  `json:"created_at"`
	StartedAt    *time.Time `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at"`
}

const scanColumns = `id, account_id, status, trigger, units_total, units_pending, units_failed, resources, created, modified,
	deleted, error, requested_by, created_at, started_at, finished_at`

func scanScan(r pgx.CollectableRow) (Scan, error) {
	var s Scan
	err := r.Scan(&s.ID, &s.AccountID, &s.Status, &s.Trigger, &s.UnitsTotal, &s.UnitsPending, &s.UnitsFailed, &s.Resources,
		&s.Created, &s.Modified, &s.Deleted, &s.Error, &s.RequestedBy, &s.CreatedAt, &s.StartedAt, &s.FinishedAt)
	return s, err
}

// ScanCreate queues a scan of an account; ErrScanActive when one is already queued or
// running (a partial unique index decides, so two racing requests cannot both win).
func ScanCreate(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, trigger, requestedBy string) (Scan, error) {
	rows, err := tx.Query(ctx, `INSERT INTO scans (tenant_id, id, account_id, status, trigger, requested_by)
		VALUES (vigil_current_tenant(), $1, $2, 'queued', $3, $4) RETURNING `+scanColumns, uuid.New(), accountID, trigger, requestedBy)
	if err != nil {
		return Scan{}, fmt.Errorf("create scan: %w", err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanScan)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.ConstraintName == "scans_one_active" {
		return Scan{}, ErrScanActive
	}
	return s, translate(err)
}

// ScanGet reads a scan.
func ScanGet(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Scan, error) {
	rows, err := tx.Query(ctx, "SELECT "+scanColumns+" FROM scans WHERE tenant_id = vigil_current_tenant() AND id = $1", id)
	if err != nil {
		return Scan{}, fmt.Errorf("get scan: %w", err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanScan)
	return s, translate(err)
}

// ScanGetForUpdate reads and locks a scan row (fan-in serialises on it).
func ScanGetForUpdate(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Scan, error) {
	rows, err := tx.Query(ctx, "SELECT "+scanColumns+" FROM scans WHERE tenant_id = vigil_current_tenant() AND id = $1 FOR UPDATE", id)
	if err != nil {
		return Scan{}, fmt.Errorf("lock scan: %w", err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanScan)
	return s, translate(err)
}

// ScanList lists an account's scans, newest first.
func ScanList(ctx context.Context, tx pgx.Tx, accountID uuid.UUID, limit int) ([]Scan, error) {
	rows, err := tx.Query(ctx, "SELECT "+scanColumns+` FROM scans WHERE tenant_id = vigil_current_tenant() AND account_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return pgx.CollectRows(rows, scanScan)
}

// ScanStart records the planned units and moves the scan to running.
func ScanStart(ctx context.Context, tx pgx.Tx, scanID uuid.UUID, units []providers.Unit) error {
	for _, u := range units {
		_, err := tx.Exec(ctx, `INSERT INTO scan_units (tenant_id, scan_id, unit, collector, service, region, types)
			VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			scanID, u.String(), u.Collector, u.Service, u.Region, u.Types)
		if err != nil {
			return fmt.Errorf("record unit %s: %w", u, err)
		}
	}
	_, err := tx.Exec(ctx, `UPDATE scans SET status = 'running', started_at = coalesce(started_at, now()),
		units_total = $2, units_pending = $2 WHERE tenant_id = vigil_current_tenant() AND id = $1`, scanID, len(units))
	if err != nil {
		return fmt.Errorf("start scan: %w", err)
	}
	return nil
}

// ScanFinish ends a scan with a final status and records it on the account.
func ScanFinish(ctx context.Context, tx pgx.Tx, scanID uuid.UUID, status, errText string) error {
	var accountID uuid.UUID
	err := tx.QueryRow(ctx, `UPDATE scans SET status = $2, error = CASE WHEN $3 = '' THEN error ELSE $3 END, finished_at = now()
		WHERE tenant_id = vigil_current_tenant() AND id = $1 RETURNING account_id`, scanID, status, errText).Scan(&accountID)
	if err != nil {
		return fmt.Errorf("finish scan: %w", translate(err))
	}
	_, err = tx.Exec(ctx, `UPDATE cloud_accounts SET last_scan_id = $2, last_scan_status = $3, last_scan_at = now()
		WHERE tenant_id = vigil_current_tenant() AND id = $1`, accountID, scanID, status)
	return err
}

// ScanUnit is one unit of a scan, as recorded.
type ScanUnit struct {
	Unit       string     `json:"unit"`
	Collector  string     `json:"collector"`
	Service    string     `json:"service"`
	Region     string     `json:"region"`
	Types      []string   `json:"types"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	ErrorKind  string     `json:"error_kind"`
	Error      string     `json:"error"`
	Resources  int        `json:"resources"`
	Gaps       int        `json:"gaps"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// ScanUnits lists a scan's units.
func ScanUnits(ctx context.Context, tx pgx.Tx, scanID uuid.UUID) ([]ScanUnit, error) {
	rows, err := tx.Query(ctx, `SELECT unit, collector, service, region, types, status, attempts, error_kind, error, resources, gaps,
		started_at, finished_at FROM scan_units WHERE tenant_id = vigil_current_tenant() AND scan_id = $1 ORDER BY service, unit`, scanID)
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ScanUnit, error) {
		var u ScanUnit
		err := r.Scan(&u.Unit, &u.Collector, &u.Service, &u.Region, &u.Types, &u.Status, &u.Attempts, &u.ErrorKind, &u.Error,
			&u.Resources, &u.Gaps, &u.StartedAt, &u.FinishedAt)
		return u, err
	})
}

// UnitState reads a unit's status (to make retries idempotent).
func UnitState(ctx context.Context, tx pgx.Tx, scanID uuid.UUID, unit string) (string, error) {
	var st string
	err := tx.QueryRow(ctx, "SELECT status FROM scan_units WHERE tenant_id = vigil_current_tenant() AND scan_id = $1 AND unit = $2", scanID, unit).Scan(&st)
	return st, translate(err)
}

// UnitAttempt marks a unit running and counts the attempt.
func UnitAttempt(ctx context.Context, tx pgx.Tx, scanID uuid.UUID, unit string) error {
	_, err := tx.Exec(ctx, `UPDATE scan_units SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())
		WHERE tenant_id = vigil_current_tenant() AND scan_id = $1 AND unit = $2 AND status IN ('pending', 'running')`, scanID, unit)
	return err
}

// UnitOutcome is how a unit ended.
type UnitOutcome struct {
	Status    string // completed | failed | cancelled
	ErrorKind string
	Error     string
	Resources int
	Gaps      int
	Changes   ChangeCounts
}

// UnitFinish records a unit's end and decrements the scan's pending count in the same
// transaction as the unit's resources. It reports whether this was the scan's last
// unit, so the caller enqueues the evaluation in that same transaction.
func UnitFinish(ctx context.Context, tx pgx.Tx, scanID uuid.UUID, unit string, o UnitOutcome) (last bool, err error) {
	tag, err := tx.Exec(ctx, `UPDATE scan_units SET status = $3, error_kind = $4, error = $5, resources = $6, gaps = $7, finished_at = now()
		WHERE tenant_id = vigil_current_tenant() AND scan_id = $1 AND unit = $2 AND status IN ('pending', 'running')`,
		scanID, unit, o.Status, o.ErrorKind, o.Error, o.Resources, o.Gaps)
	if err != nil {
		return false, fmt.Errorf("finish unit: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil // already finished by an earlier attempt
	}
	failed := 0
	if o.Status != "completed" {
		failed = 1
	}
	var pending int
	err = tx.QueryRow(ctx, `UPDATE scans SET units_pending = units_pending - 1, units_failed = units_failed + $2,
			resources = resources + $3, created = created + $4, modified = modified + $5, deleted = deleted + $6
		WHERE tenant_id = vigil_current_tenant() AND id = $1 RETURNING units_pending`,
		scanID, failed, o.Resources, o.Changes.Created, o.Changes.Modified, o.Changes.Deleted).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("count down scan units: %w", err)
	}
	return pending == 0, nil
}

// FailedCoverage lists the (type, region) pairs of a scan's units that did not complete:
// nothing about resources there may be concluded.
func FailedCoverage(ctx context.Context, tx pgx.Tx, scanID uuid.UUID) (map[TypeRegion]bool, error) {
	rows, err := tx.Query(ctx, `SELECT unnest(types), region FROM scan_units
		WHERE tenant_id = vigil_current_tenant() AND scan_id = $1 AND status <> 'completed'`, scanID)
	if err != nil {
		return nil, fmt.Errorf("failed coverage: %w", err)
	}
	out := map[TypeRegion]bool{}
	defer rows.Close()
	for rows.Next() {
		var tr TypeRegion
		if err := rows.Scan(&tr.Type, &tr.Region); err != nil {
			return nil, err
		}
		out[tr] = true
	}
	return out, rows.Err()
}

// TypeRegion is a resource type in a region.
type TypeRegion struct{ Type, Region string }

// ScanCancel ends a queued or running scan as cancelled: its pending units stop (the
// jobs see the status and write nothing) and nothing is evaluated.
func ScanCancel(ctx context.Context, tx pgx.Tx, scanID uuid.UUID) error {
	if _, err := tx.Exec(ctx, `UPDATE scan_units SET status = 'cancelled', finished_at = now()
		WHERE tenant_id = vigil_current_tenant() AND scan_id = $1 AND status IN ('pending', 'running')`, scanID); err != nil {
		return fmt.Errorf("cancel units: %w", err)
	}
	return ScanFinish(ctx, tx, scanID, ScanCancelled, "cancelled by request")
}
