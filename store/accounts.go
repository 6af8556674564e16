package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Account is a connected cloud account (AWS account, Azure subscription, GCP project).
// Secret is the sealed credential material; it never leaves the store except to the
// workers that open it, and is never serialised.
type Account struct {
	ID             uuid.UUID      `json:"id"`
	TenantID       uuid.UUID      `json:"-"`
	Provider       string         `json:"provider"`
	NativeID       string         `json:"native_id"`
	Name           string         `json:"name"`
	CredentialKind string         `json:"credential_kind"`
	Config         map[string]any `json:"config"`
	Secret         []byte         `json:"-"`
	HasSecret      bool           `json:"has_secret"`
	Regions        []string       `json:"regions"`
	Schedule       string         `json:"schedule"`
	Timezone       string         `json:"timezone"`
	Enabled        bool           `json:"enabled"`
	NextScanAt     *time.Time     `json:"next_scan_at"`
	LastScanID     *uuid.UUID     `json:"last_scan_id"`
	LastScanStatus *string        `json:"last_scan_status"`
	LastScanAt     *time.Time     `json:"last_scan_at"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
}

const accountColumns = `id, tenant_id, provider, native_id, name, credential_kind, config, secret, regions, schedule,
	timezone, enabled, next_scan_at, last_scan_id, last_scan_status, last_scan_at, created_at, updated_at`

func scanAccount(r pgx.CollectableRow) (Account, error) {
	var a Account
	err := r.Scan(&a.ID, &a.TenantID, &a.Provider, &a.NativeID, &a.Name, &a.CredentialKind, &a.Config, &a.Secret, &a.Regions,
		&a.Schedule, &a.Timezone, &a.Enabled, &a.NextScanAt, &a.LastScanID, &a.LastScanStatus, &a.LastScanAt, &a.CreatedAt, &a.UpdatedAt)
	a.HasSecret = len(a.Secret) > 0
	if a.Regions == nil {
		a.Regions = []string{}
	}
	return a, err
}

// OwnerOfAccountSecret is the additional data a sealed account secret is bound to.
func OwnerOfAccountSecret(tenantID, accountID uuid.UUID) string {
	return "tenant/" + tenantID.String() + "/cloud_account/" + accountID.String()
}

// AccountCreate inserts an account in the transaction's tenant. a.ID must be set (the
// secret is sealed for it before the insert).
func AccountCreate(ctx context.Context, tx pgx.Tx, a Account) (Account, error) {
	rows, err := tx.Query(ctx, `INSERT INTO cloud_accounts (tenant_id, id, provider, native_id, name, credential_kind, config, secret,
			regions, schedule, timezone, enabled, next_scan_at)
		VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+accountColumns,
		a.ID, a.Provider, a.NativeID, a.Name, a.CredentialKind, a.Config, a.Secret, a.Regions, a.Schedule, a.Timezone, a.Enabled, a.NextScanAt)
	if err != nil {
		return Account{}, fmt.Errorf("create account: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanAccount)
	return out, translate(err)
}

// AccountGet reads one account of the transaction's tenant.
func AccountGet(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Account, error) {
	rows, err := tx.Query(ctx, "SELECT "+accountColumns+" FROM cloud_accounts WHERE tenant_id = vigil_current_tenant() AND id = $1", id)
	if err != nil {
		return Account{}, fmt.Errorf("get account: %w", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAccount)
	return a, translate(err)
}

// AccountList lists the tenant's accounts by name.
func AccountList(ctx context.Context, tx pgx.Tx) ([]Account, error) {
	rows, err := tx.Query(ctx, "SELECT "+accountColumns+" FROM cloud_accounts WHERE tenant_id = vigil_current_tenant() ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return pgx.CollectRows(rows, scanAccount)
}

// AccountUpdate writes the editable fields of an account.
func AccountUpdate(ctx context.Context, tx pgx.Tx, a Account) (Account, error) {
	rows, err := tx.Query(ctx, `UPDATE cloud_accounts SET name = $2, native_id = $3, credential_kind = $4, config = $5, secret = $6,
			regions = $7, schedule = $8, timezone = $9, enabled = $10, next_scan_at = $11, updated_at = now()
		WHERE tenant_id = vigil_current_tenant() AND id = $1 RETURNING `+accountColumns,
		a.ID, a.Name, a.NativeID, a.CredentialKind, a.Config, a.Secret, a.Regions, a.Schedule, a.Timezone, a.Enabled, a.NextScanAt)
	if err != nil {
		return Account{}, fmt.Errorf("update account: %w", err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanAccount)
	return out, translate(err)
}

// AccountDelete removes an account and, by cascade, its scans, resources and findings.
func AccountDelete(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM cloud_accounts WHERE tenant_id = vigil_current_tenant() AND id = $1", id)
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// AccountSetNextScan records when the scheduler should next scan the account.
func AccountSetNextScan(ctx context.Context, tx pgx.Tx, id uuid.UUID, next *time.Time) error {
	_, err := tx.Exec(ctx, "UPDATE cloud_accounts SET next_scan_at = $2 WHERE tenant_id = vigil_current_tenant() AND id = $1", id, next)
	return err
}

// AccountSetNativeID records the cloud's id of the account once verified.
func AccountSetNativeID(ctx context.Context, tx pgx.Tx, id uuid.UUID, native string) error {
	_, err := tx.Exec(ctx, "UPDATE cloud_accounts SET native_id = $2 WHERE tenant_id = vigil_current_tenant() AND id = $1 AND native_id = ''", id, native)
	return translate(err)
}

// DueAccount names an account whose scheduled scan is due.
type DueAccount struct{ TenantID, AccountID uuid.UUID }

// AccountsDue lists accounts of every tenant whose next scan time has passed.
func (db *DB) AccountsDue(ctx context.Context, now time.Time, limit int) ([]DueAccount, error) {
	rows, err := db.Pool.Query(ctx, "SELECT tenant_id, account_id FROM vigil_accounts_due($1, $2)", now, limit)
	if err != nil {
		return nil, fmt.Errorf("due accounts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueAccount, error) {
		var d DueAccount
		err := r.Scan(&d.TenantID, &d.AccountID)
		return d, err
	})
}
