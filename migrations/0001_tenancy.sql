-- Tenancy foundation: the application role, tenants, users, memberships, sessions,
-- API keys and the audit log, all protected by row-level security.
--
-- Migrations run as the owner of every object. The application connects as (or SETs
-- ROLE to) vigil_app, which owns nothing and has no BYPASSRLS, so every policy below
-- binds it. Lookups that must happen before a tenant is known (login by e-mail, a
-- session cookie, an API key) go through narrow SECURITY DEFINER functions that return
-- one row for one secret and nothing else.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vigil_app') THEN
        CREATE ROLE vigil_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA public TO vigil_app;
-- Objects created later by the migration owner (ours and River's) are usable by the app.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vigil_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO vigil_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO vigil_app;
-- River's tables may already exist (River migrates first); grant on what is there.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vigil_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO vigil_app;

-- The tenant of the current transaction, set by store.TenantTx with
-- set_config('app.tenant_id', id, true). NULL when unset, so policies match nothing.
CREATE FUNCTION vigil_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE FUNCTION vigil_current_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    -- Retention of drift history and finding events, in days.
    retention_days   integer NOT NULL DEFAULT 400 CHECK (retention_days BETWEEN 7 AND 3650),
    -- Days without use after which users, roles and keys count as unused.
    unused_after_days integer NOT NULL DEFAULT 90 CHECK (unused_after_days BETWEEN 1 AND 3650),
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenants_isolation ON tenants USING (id = vigil_current_tenant());
-- New tenants are created inside a transaction scoped to their own id.

-- Users are people; they reach tenants through memberships. A user row is visible to
-- the user itself and to the tenants it is a member of.
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    password_hash   text,
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_isolation ON memberships USING (tenant_id = vigil_current_tenant());
-- A signed-in user may list its own memberships (the tenant switcher) but not change them.
CREATE POLICY memberships_own_read ON memberships FOR SELECT USING (user_id = vigil_current_user());
-- ... and see the names of those tenants.
CREATE POLICY tenants_member_read ON tenants FOR SELECT USING (
    EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = tenants.id AND m.user_id = vigil_current_user()));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_self ON users USING (id = vigil_current_user());
CREATE POLICY users_tenant_read ON users FOR SELECT USING (
    EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = vigil_current_tenant()));
-- Inviting a user creates the row inside a tenant transaction; the membership follows in
-- the same transaction.
CREATE POLICY users_tenant_insert ON users FOR INSERT WITH CHECK (vigil_current_tenant() IS NOT NULL);
CREATE POLICY users_tenant_update ON users FOR UPDATE USING (
    EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = vigil_current_tenant()));

-- Server-side sessions of the web UI. The cookie holds a random token; only its SHA-256
-- is stored. A session belongs to a user and has an active tenant the user switches.
CREATE TABLE sessions (
    id                uuid PRIMARY KEY,
    token_hash        bytea NOT NULL UNIQUE,
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    active_tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    csrf_token        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    ip                text NOT NULL DEFAULT '',
    user_agent        text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions USING (user_id = vigil_current_user());

CREATE TABLE api_keys (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The first characters of the key ("vgl_ab12cd34") to recognise it in lists.
    prefix        text NOT NULL,
    secret_hash   bytea NOT NULL UNIQUE,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_isolation ON api_keys USING (tenant_id = vigil_current_tenant());

CREATE TABLE audit_log (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_type   text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system')),
    actor_id     text NOT NULL,
    actor_name   text NOT NULL DEFAULT '',
    action       text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    source_ip    text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_time_idx ON audit_log (tenant_id, at DESC);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
-- Append-only for the app: it may insert and read, never rewrite history.
CREATE POLICY audit_log_read ON audit_log FOR SELECT USING (tenant_id = vigil_current_tenant());
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (tenant_id = vigil_current_tenant());
REVOKE UPDATE, DELETE ON audit_log FROM vigil_app;

-- Authentication bootstrap. Each returns at most one row for one secret.
CREATE FUNCTION vigil_auth_user_by_email(p_email text)
    RETURNS TABLE (id uuid, email text, name text, password_hash text, failed_logins integer, locked_until timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT u.id, u.email, u.name, u.password_hash, u.failed_logins, u.locked_until
          FROM users u WHERE lower(u.email) = lower(p_email) $$;

-- Records a login attempt: resets or bumps the failure counter and locks the account for
-- p_lock after p_max consecutive failures.
CREATE FUNCTION vigil_auth_record_login(p_user uuid, p_ok boolean, p_max integer, p_lock interval)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$ UPDATE users SET
              failed_logins = CASE WHEN p_ok THEN 0 ELSE failed_logins + 1 END,
              locked_until = CASE WHEN p_ok THEN NULL
                                  WHEN failed_logins + 1 >= p_max THEN now() + p_lock
                                  ELSE locked_until END,
              last_login_at = CASE WHEN p_ok THEN now() ELSE last_login_at END
          WHERE id = p_user $$;

CREATE FUNCTION vigil_auth_session(p_token_hash bytea)
    RETURNS TABLE (id uuid, user_id uuid, active_tenant_id uuid, csrf_token text, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT s.id, s.user_id, s.active_tenant_id, s.csrf_token, s.expires_at
          FROM sessions s WHERE s.token_hash = p_token_hash AND s.expires_at > now() $$;

CREATE FUNCTION vigil_auth_api_key(p_secret_hash bytea)
    RETURNS TABLE (tenant_id uuid, id uuid, name text, role text, expires_at timestamptz, revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT k.tenant_id, k.id, k.name, k.role, k.expires_at, k.revoked_at
          FROM api_keys k WHERE k.secret_hash = p_secret_hash $$;

-- Invitations: returns the id of the user with this e-mail, creating it when new. A
-- tenant cannot see users outside it, so the lookup-or-create runs as the owner; it is
-- only allowed inside a tenant transaction, which then adds the membership.
-- +goose StatementBegin
CREATE FUNCTION vigil_user_ensure(p_email text, p_name text) RETURNS uuid
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
DECLARE
    v_id uuid;
BEGIN
    IF vigil_current_tenant() IS NULL THEN
        RAISE EXCEPTION 'vigil_user_ensure needs a tenant transaction';
    END IF;
    INSERT INTO users (id, email, name) VALUES (gen_random_uuid(), p_email, p_name)
        ON CONFLICT (lower(email)) DO NOTHING;
    SELECT id INTO v_id FROM users WHERE lower(email) = lower(p_email);
    RETURN v_id;
END
$$;
-- +goose StatementEnd

-- Operators' CLI commands name tenants by slug; this resolves one to its id.
CREATE FUNCTION vigil_tenant_id_by_slug(p_slug text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id FROM tenants WHERE slug = p_slug $$;

-- Sweeps expired sessions of every user (a periodic job; sessions are per user, so the
-- app role cannot see them all).
CREATE FUNCTION vigil_sessions_delete_expired() RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$ WITH d AS (DELETE FROM sessions WHERE expires_at <= now() RETURNING 1) SELECT count(*) FROM d $$;

-- +goose Down
DROP FUNCTION vigil_sessions_delete_expired();
DROP FUNCTION vigil_tenant_id_by_slug(text);
DROP FUNCTION vigil_user_ensure(text, text);
DROP FUNCTION vigil_auth_api_key(bytea);
DROP FUNCTION vigil_auth_session(bytea);
DROP FUNCTION vigil_auth_record_login(uuid, boolean, integer, interval);
DROP FUNCTION vigil_auth_user_by_email(text);
-- One statement: the users policies refer to memberships and the reverse by key.
DROP TABLE audit_log, api_keys, sessions, memberships, users, tenants;
DROP FUNCTION vigil_current_user();
DROP FUNCTION vigil_current_tenant();
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM vigil_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM vigil_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM vigil_app;
-- The role is cluster-wide and may serve other databases: it is left in place.
