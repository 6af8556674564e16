package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Tenant is one customer organisation.
type Tenant struct {
	ID              uuid.UUID `json:"id"`
	Name            string    `json:"name"`
	Slug            string    `json:"slug"`
	RetentionDays   int       `json:"retention_days"`
	UnusedAfterDays int       `json:"unused_after_days"`
	CreatedAt       time.Time `json:"created_at"`
}

// User is a person; Role is filled when read within a tenant.
type User struct {
	ID          uuid.UUID  `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

// LoginUser is what the login flow needs about a user.
type LoginUser struct {
	ID           uuid.UUID
	Email        string
	Name         string
	PasswordHash *string
	FailedLogins int
	LockedUntil  *time.Time
}

// Membership is a user's role in one tenant.
type Membership struct {
	TenantID   uuid.UUID `json:"tenant_id"`
	TenantName string    `json:"tenant_name"`
	TenantSlug string    `json:"tenant_slug"`
	Role       string    `json:"role"`
}

// TenantCreateParams describes a new tenant and its first owner.
type TenantCreateParams struct {
	Name, Slug           string
	OwnerEmail           string
	OwnerName            string
	OwnerPasswordHash    string // empty: the owner sets a password later
	ExistingOwnerAllowed bool   // an existing user may own a new tenant
}

// TenantCreate creates a tenant and makes the owner a member with role owner.
func (db *DB) TenantCreate(ctx context.Context, p TenantCreateParams) (tenantID, ownerID uuid.UUID, err error) {
	tenantID = uuid.New()
	err = db.TenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO tenants (id, name, slug) VALUES ($1, $2, $3)", tenantID, p.Name, p.Slug); err != nil {
			return fmt.Errorf("insert tenant: %w", translate(err))
		}
		var err error
		ownerID, err = userEnsure(ctx, tx, p.OwnerEmail, p.OwnerName)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')", tenantID, ownerID); err != nil {
			return fmt.Errorf("insert owner membership: %w", translate(err))
		}
		if p.OwnerPasswordHash != "" {
			tag, err := tx.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE id = $1 AND (password_hash IS NULL OR $3)",
				ownerID, p.OwnerPasswordHash, p.ExistingOwnerAllowed)
			if err != nil {
				return fmt.Errorf("set owner password: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%w: user %s already has a password", ErrConflict, p.OwnerEmail)
			}
		}
		return nil
	})
	return tenantID, ownerID, err
}

func userEnsure(ctx context.Context, tx pgx.Tx, email, name string) (uuid.UUID, error) {
	var id uuid.UUID
	if err := tx.QueryRow(ctx, "SELECT vigil_user_ensure($1, $2)", email, name).Scan(&id); err != nil {
		return uuid.Nil, fmt.Errorf("ensure user: %w", translate(err))
	}
	return id, nil
}

// TenantIDBySlug resolves a tenant slug (operators' CLI commands name tenants so).
func (db *DB) TenantIDBySlug(ctx context.Context, slug string) (uuid.UUID, error) {
	var id *uuid.UUID
	if err := db.Pool.QueryRow(ctx, "SELECT vigil_tenant_id_by_slug($1)", slug).Scan(&id); err != nil {
		return uuid.Nil, fmt.Errorf("find tenant %q: %w", slug, err)
	}
	if id == nil {
		return uuid.Nil, fmt.Errorf("tenant %q: %w", slug, ErrNotFound)
	}
	return *id, nil
}

// TenantGet reads the tenant of the transaction.
func TenantGet(ctx context.Context, tx pgx.Tx) (Tenant, error) {
	return scanTenant(tx.QueryRow(ctx, "SELECT id, name, slug, retention_days, unused_after_days, created_at FROM tenants WHERE id = vigil_current_tenant()"))
}

func scanTenant(row pgx.Row) (Tenant, error) {
	var t Tenant
	if err := row.Scan(&t.ID, &t.Name, &t.Slug, &t.RetentionDays, &t.UnusedAfterDays, &t.CreatedAt); err != nil {
		return Tenant{}, translate(err)
	}
	return t, nil
}

// UserForLogin finds a user by e-mail, across tenants.
func (db *DB) UserForLogin(ctx context.Context, email string) (LoginUser, error) {
	var u LoginUser
	err := db.Pool.QueryRow(ctx, "SELECT id, email, name, password_hash, failed_logins, locked_until FROM vigil_auth_user_by_email($1)", email).
		Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.FailedLogins, &u.LockedUntil)
	if err != nil {
		return LoginUser{}, translate(err)
	}
	return u, nil
}

// UserRecordLogin records a login attempt; after maxFailures consecutive failures the
// account is locked for lock.
func (db *DB) UserRecordLogin(ctx context.Context, userID uuid.UUID, ok bool, maxFailures int, lock time.Duration) error {
	_, err := db.Pool.Exec(ctx, "SELECT vigil_auth_record_login($1, $2, $3, $4)", userID, ok, maxFailures, lock)
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// UserSetPassword sets a user's own password (user-scoped transaction).
func (db *DB) UserSetPassword(ctx context.Context, userID uuid.UUID, hash string) error {
	return db.ScopedTx(ctx, Scope{UserID: userID}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1", userID, hash)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// MembershipsOfUser lists the tenants a user belongs to.
func (db *DB) MembershipsOfUser(ctx context.Context, userID uuid.UUID) ([]Membership, error) {
	var out []Membership
	err := db.ScopedTx(ctx, Scope{UserID: userID}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT m.tenant_id, t.name, t.slug, m.role FROM memberships m
			JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = $1 ORDER BY t.name, t.id`, userID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Membership, error) {
			var m Membership
			err := r.Scan(&m.TenantID, &m.TenantName, &m.TenantSlug, &m.Role)
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return out, nil
}

// MemberRole returns a user's role in the transaction's tenant, ErrNotFound if none.
func MemberRole(ctx context.Context, tx pgx.Tx, userID uuid.UUID) (string, error) {
	var role string
	err := tx.QueryRow(ctx, "SELECT role FROM memberships WHERE tenant_id = vigil_current_tenant() AND user_id = $1", userID).Scan(&role)
	return role, translate(err)
}

// UserList lists the members of the transaction's tenant.
func UserList(ctx context.Context, tx pgx.Tx) ([]User, error) {
	rows, err := tx.Query(ctx, `SELECT u.id, u.email, u.name, m.role, u.created_at, u.last_login_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = vigil_current_tenant() ORDER BY lower(u.email)`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, scanUser)
}

// UserGet reads one member of the transaction's tenant.
func UserGet(ctx context.Context, tx pgx.Tx, userID uuid.UUID) (User, error) {
	rows, err := tx.Query(ctx, `SELECT u.id, u.email, u.name, m.role, u.created_at, u.last_login_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.tenant_id = vigil_current_tenant() AND u.id = $1`, userID)
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	return u, translate(err)
}

func scanUser(r pgx.CollectableRow) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.LastLoginAt)
	return u, err
}

// UserInvite adds a person (new or existing user) to the transaction's tenant.
// ErrConflict when already a member.
func UserInvite(ctx context.Context, tx pgx.Tx, email, name, role string) (User, error) {
	id, err := userEnsure(ctx, tx, email, name)
	if err != nil {
		return User{}, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO memberships (tenant_id, user_id, role) VALUES (vigil_current_tenant(), $1, $2)", id, role); err != nil {
		return User{}, fmt.Errorf("add membership: %w", translate(err))
	}
	return UserGet(ctx, tx, id)
}

// UserSetRole changes a member's role.
func UserSetRole(ctx context.Context, tx pgx.Tx, userID uuid.UUID, role string) error {
	tag, err := tx.Exec(ctx, "UPDATE memberships SET role = $2 WHERE tenant_id = vigil_current_tenant() AND user_id = $1", userID, role)
	if err != nil {
		return fmt.Errorf("set role: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// UserRemove removes a member from the tenant (the user row stays for other tenants).
func UserRemove(ctx context.Context, tx pgx.Tx, userID uuid.UUID) error {
	tag, err := tx.Exec(ctx, "DELETE FROM memberships WHERE tenant_id = vigil_current_tenant() AND user_id = $1", userID)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// OwnerCount counts the owners of the tenant (a tenant never loses its last owner).
func OwnerCount(ctx context.Context, tx pgx.Tx) (int, error) {
	var n int
	err := tx.QueryRow(ctx, "SELECT count(*) FROM memberships WHERE tenant_id = vigil_current_tenant() AND role = 'owner'").Scan(&n)
	return n, err
}

// Session is a signed-in browser.
type Session struct {
	ID             uuid.UUID
	UserID         uuid.UUID
	ActiveTenantID uuid.UUID
	CSRFToken      string
	ExpiresAt      time.Time
}

// SessionCreate stores a new session under the token's hash.
func (db *DB) SessionCreate(ctx context.Context, s Session, tokenHash []byte, ip, userAgent string) error {
	return db.ScopedTx(ctx, Scope{UserID: s.UserID}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id, token_hash, user_id, active_tenant_id, csrf_token, expires_at, ip, user_agent)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, s.ID, tokenHash, s.UserID, s.ActiveTenantID, s.CSRFToken, s.ExpiresAt, ip, truncate(userAgent, 300))
		if err != nil {
			return fmt.Errorf("create session: %w", translate(err))
		}
		return nil
	})
}

// SessionByToken finds a live session by its token hash.
func (db *DB) SessionByToken(ctx context.Context, tokenHash []byte) (Session, error) {
	var s Session
	err := db.Pool.QueryRow(ctx, "SELECT id, user_id, active_tenant_id, csrf_token, expires_at FROM vigil_auth_session($1)", tokenHash).
		Scan(&s.ID, &s.UserID, &s.ActiveTenantID, &s.CSRFToken, &s.ExpiresAt)
	if err != nil {
		return Session{}, translate(err)
	}
	return s, nil
}

// SessionDelete signs a session out.
func (db *DB) SessionDelete(ctx context.Context, userID, sessionID uuid.UUID) error {
	return db.ScopedTx(ctx, Scope{UserID: userID}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = $1", sessionID)
		return err
	})
}

// SessionSwitchTenant makes tenantID the session's active tenant, if the user is a
// member of it (ErrNotFound otherwise).
func (db *DB) SessionSwitchTenant(ctx context.Context, userID, sessionID, tenantID uuid.UUID) error {
	return db.ScopedTx(ctx, Scope{UserID: userID}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sessions SET active_tenant_id = $2, last_seen_at = now()
			WHERE id = $1 AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $3 AND m.tenant_id = $2)`, sessionID, tenantID, userID)
		if err != nil {
			return fmt.Errorf("switch tenant: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// APIKey is an API key's metadata (never its secret).
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	TenantID   uuid.UUID  `json:"-"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	CreatedBy  *uuid.UUID `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

const apiKeyColumns = "id, tenant_id, name, prefix, role, created_by, created_at, expires_at, revoked_at, last_used_at"

func scanAPIKey(r pgx.CollectableRow) (APIKey, error) {
	var k APIKey
	err := r.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Role, &k.CreatedBy, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt)
	return k, err
}

// APIKeyCreate stores a key's hash in the transaction's tenant.
func APIKeyCreate(ctx context.Context, tx pgx.Tx, name, prefix string, secretHash []byte, role string, createdBy *uuid.UUID, expiresAt *time.Time) (APIKey, error) {
	rows, err := tx.Query(ctx, `INSERT INTO api_keys (tenant_id, id, name, prefix, secret_hash, role, created_by, expires_at)
		VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6, $7) RETURNING `+apiKeyColumns,
		uuid.New(), name, prefix, secretHash, role, createdBy, expiresAt)
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key: %w", err)
	}
	k, err := pgx.CollectExactlyOneRow(rows, scanAPIKey)
	return k, translate(err)
}

// APIKeyList lists the tenant's keys, newest first.
func APIKeyList(ctx context.Context, tx pgx.Tx) ([]APIKey, error) {
	rows, err := tx.Query(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE tenant_id = vigil_current_tenant() ORDER BY created_at DESC, id")
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return pgx.CollectRows(rows, scanAPIKey)
}

// APIKeyRevoke revokes a key; revoking twice keeps the first time.
func APIKeyRevoke(ctx context.Context, tx pgx.Tx, id uuid.UUID) (APIKey, error) {
	rows, err := tx.Query(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
		WHERE tenant_id = vigil_current_tenant() AND id = $1 RETURNING `+apiKeyColumns, id)
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke api key: %w", err)
	}
	k, err := pgx.CollectExactlyOneRow(rows, scanAPIKey)
	return k, translate(err)
}

// APIKeyAuth is what authentication learns from a key's hash.
type APIKeyAuth struct {
	TenantID  uuid.UUID
	ID        uuid.UUID
	Name      string
	Role      string
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// APIKeyByHash finds a key by the hash of its secret, across tenants.
func (db *DB) APIKeyByHash(ctx context.Context, hash []byte) (APIKeyAuth, error) {
	var k APIKeyAuth
	err := db.Pool.QueryRow(ctx, "SELECT tenant_id, id, name, role, expires_at, revoked_at FROM vigil_auth_api_key($1)", hash).
		Scan(&k.TenantID, &k.ID, &k.Name, &k.Role, &k.ExpiresAt, &k.RevokedAt)
	if err != nil {
		return APIKeyAuth{}, translate(err)
	}
	return k, nil
}

// APIKeyTouch records a key's use at most once a minute (no write per request).
func (db *DB) APIKeyTouch(ctx context.Context, tenantID, id uuid.UUID) error {
	return db.TenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE api_keys SET last_used_at = now()
			WHERE tenant_id = vigil_current_tenant() AND id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, id)
		return err
	})
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	ActorType  string         `json:"actor_type"`
	ActorID    string         `json:"actor_id"`
	ActorName  string         `json:"actor_name"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	SourceIP   string         `json:"source_ip"`
	RequestID  string         `json:"request_id"`
	Details    map[string]any `json:"details"`
}

// AuditInsert appends to the transaction's tenant's audit log. Call it in the same
// transaction as the change it records.
func AuditInsert(ctx context.Context, tx pgx.Tx, e AuditEntry) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor_type, actor_id, actor_name, action, target_type, target_id, source_ip, request_id, details)
		VALUES (vigil_current_tenant(), $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ActorType, e.ActorID, e.ActorName, e.Action, e.TargetType, e.TargetID, e.SourceIP, e.RequestID, e.Details)
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditFilter selects audit entries. Before is the keyset cursor (entries with a smaller id).
type AuditFilter struct {
	ActorID string
	Action  string
	Since   *time.Time
	Until   *time.Time
	Before  int64
	Limit   int
}

// AuditList returns entries newest first.
func AuditList(ctx context.Context, tx pgx.Tx, f AuditFilter) ([]AuditEntry, error) {
	rows, err := tx.Query(ctx, `SELECT id, at, actor_type, actor_id, actor_name, action, target_type, target_id, source_ip, request_id, details
		FROM audit_log WHERE tenant_id = vigil_current_tenant()
		  AND ($1 = '' OR actor_id = $1)
		  AND ($2 = '' OR action = $2 OR action LIKE $2 || '.%')
		  AND ($3::timestamptz IS NULL OR at >= $3)
		  AND ($4::timestamptz IS NULL OR at < $4)
		  AND ($5 = 0 OR id < $5)
		ORDER BY id DESC LIMIT $6`, f.ActorID, f.Action, f.Since, f.Until, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.ActorType, &e.ActorID, &e.ActorName, &e.Action, &e.TargetType, &e.TargetID, &e.SourceIP, &e.RequestID, &e.Details)
		return e, err
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// ValidIP normalises a client address for storage; junk becomes "".
func ValidIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	return a.String()
}

// IsNotFound reports whether err is ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// TenantUpdateSettings changes the tenant's retention and unused-access settings; nil
// leaves a value as it is.
func TenantUpdateSettings(ctx context.Context, tx pgx.Tx, retentionDays, unusedAfterDays *int) (Tenant, error) {
	return scanTenant(tx.QueryRow(ctx, `UPDATE tenants SET retention_days = coalesce($1, retention_days),
		unused_after_days = coalesce($2, unused_after_days) WHERE id = vigil_current_tenant()
		RETURNING id, name, slug, retention_days, unused_after_days, created_at`, retentionDays, unusedAfterDays))
}
