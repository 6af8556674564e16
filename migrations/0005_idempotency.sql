-- Idempotency keys (IETF draft-ietf-httpapi-idempotency-key-header): the first request
-- that carries a key claims it (an "in flight" row with a short lease), and its successful
-- response is stored, sealed with the master key, so that a retry with the same key and
-- the same request replays it instead of creating twice. Keys are scoped to the tenant
-- and the caller (a user or an API key) and expire after 24 hours; the hourly
-- sweep_sessions job deletes expired rows tenant by tenant.
--
-- A new, empty table: no lock on existing data, no backfill.

-- +goose Up
CREATE TABLE idempotency_keys (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- "user:<uuid>" or "api_key:<uuid>": one caller's keys never meet another's.
    principal     text NOT NULL CHECK (length(principal) BETWEEN 1 AND 100),
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path, query and body of the request that claimed the key.
    fingerprint   bytea NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    -- Identifies the claim, so a request whose lease was taken over cannot complete or
    -- release the newer claim.
    lease_id      uuid NOT NULL,
    -- While in flight: until when the claim holds. NULL once completed.
    locked_until  timestamptz,
    -- Once completed: the HTTP status, and the sealed response (headers and body).
    status        integer,
    response      bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, principal, key),
    CHECK ((status IS NULL) = (response IS NULL)),
    CHECK ((status IS NULL) = (locked_until IS NOT NULL))
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (tenant_id, expires_at);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY idempotency_keys_isolation ON idempotency_keys USING (tenant_id = vigil_current_tenant());

-- +goose Down
DROP TABLE idempotency_keys;
