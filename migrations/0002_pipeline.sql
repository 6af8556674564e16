-- The scan pipeline: cloud accounts, scans and their units, resources with their full
-- version history (drift), findings with their event history, mute rules, and posture
-- snapshots. Every table is tenant-owned: tenant_id first in the key, RLS forced.

-- +goose Up
CREATE TABLE cloud_accounts (
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid NOT NULL,
    provider         text NOT NULL CHECK (provider IN ('aws', 'azure', 'gcp')),
    -- AWS account id / Azure subscription id / GCP project id; empty until first verified.
    native_id        text NOT NULL DEFAULT '',
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- assume_role | static | default_chain (AWS); service_principal | workload_identity
    -- (Azure); service_account | workload_identity (GCP).
    credential_kind  text NOT NULL,
    -- Non-secret onboarding settings (role ARN, external id, endpoint URL, ...).
    config           jsonb NOT NULL DEFAULT '{}',
    -- Secret material sealed with AES-256-GCM under VIGIL_MASTER_KEY, bound to this row.
    secret           bytea,
    regions          text[] NOT NULL DEFAULT '{}',
    schedule         text NOT NULL DEFAULT '0 3 * * *',
    timezone         text NOT NULL DEFAULT 'UTC',
    enabled          boolean NOT NULL DEFAULT true,
    next_scan_at     timestamptz,
    last_scan_id     uuid,
    last_scan_status text,
    last_scan_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX cloud_accounts_native_key ON cloud_accounts (tenant_id, provider, native_id) WHERE native_id <> '';
-- The scheduler's scan over every tenant.
CREATE INDEX cloud_accounts_due_idx ON cloud_accounts (next_scan_at) WHERE enabled;
ALTER TABLE cloud_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE cloud_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY cloud_accounts_isolation ON cloud_accounts USING (tenant_id = vigil_current_tenant());

CREATE TABLE scans (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    account_id     uuid NOT NULL,
    -- queued -> running -> completed | partial | failed | cancelled
    status         text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'partial', 'failed', 'cancelled')),
    trigger        text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    units_total    integer NOT NULL DEFAULT 0,
    units_pending  integer NOT NULL DEFAULT 0,
    units_failed   integer NOT NULL DEFAULT 0,
    resources      integer NOT NULL DEFAULT 0,
    created        integer NOT NULL DEFAULT 0,
    modified       integer NOT NULL DEFAULT 0,
    deleted        integer NOT NULL DEFAULT 0,
    error          text NOT NULL DEFAULT '',
    requested_by   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES cloud_accounts (tenant_id, id) ON DELETE CASCADE
);
-- One account never has two scans at once.
CREATE UNIQUE INDEX scans_one_active ON scans (tenant_id, account_id) WHERE status IN ('queued', 'running');
CREATE INDEX scans_account_idx ON scans (tenant_id, account_id, created_at DESC);
ALTER TABLE scans ENABLE ROW LEVEL SECURITY;
ALTER TABLE scans FORCE ROW LEVEL SECURITY;
CREATE POLICY scans_isolation ON scans USING (tenant_id = vigil_current_tenant());

CREATE TABLE scan_units (
    tenant_id    uuid NOT NULL,
    scan_id      uuid NOT NULL,
    unit         text NOT NULL,            -- collector@region
    collector    text NOT NULL,
    service      text NOT NULL,
    region       text NOT NULL,
    types        text[] NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    attempts     integer NOT NULL DEFAULT 0,
    error_kind   text NOT NULL DEFAULT '',
    error        text NOT NULL DEFAULT '',
    resources    integer NOT NULL DEFAULT 0,
    gaps         integer NOT NULL DEFAULT 0,
    started_at   timestamptz,
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, scan_id, unit),
    FOREIGN KEY (tenant_id, scan_id) REFERENCES scans (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE scan_units ENABLE ROW LEVEL SECURITY;
ALTER TABLE scan_units FORCE ROW LEVEL SECURITY;
CREATE POLICY scan_units_isolation ON scan_units USING (tenant_id = vigil_current_tenant());

-- Current state of every resource ever seen; deleted ones keep their row and history.
CREATE TABLE resources (
    tenant_id     uuid NOT NULL,
    id            uuid NOT NULL,
    account_id    uuid NOT NULL,
    native_id     text NOT NULL,
    type          text NOT NULL,
    region        text NOT NULL,
    name          text NOT NULL DEFAULT '',
    tags          jsonb NOT NULL DEFAULT '{}',
    properties    jsonb NOT NULL DEFAULT '{}',
    gaps          jsonb NOT NULL DEFAULT '[]',
    relations     jsonb NOT NULL DEFAULT '[]',
    content_hash  bytea NOT NULL,
    version       integer NOT NULL DEFAULT 1,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    deleted_at    timestamptz,
    last_scan_id  uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES cloud_accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX resources_native_key ON resources (tenant_id, account_id, native_id);
CREATE INDEX resources_type_idx ON resources (tenant_id, type, region) WHERE deleted_at IS NULL;
CREATE INDEX resources_tags_idx ON resources USING gin (tags);
ALTER TABLE resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE resources FORCE ROW LEVEL SECURITY;
CREATE POLICY resources_isolation ON resources USING (tenant_id = vigil_current_tenant());

-- Drift history: one row per observed change, with the full document and the RFC 6902
-- patch from the previous version.
CREATE TABLE resource_versions (
    tenant_id     uuid NOT NULL,
    resource_id   uuid NOT NULL,
    version       integer NOT NULL,
    scan_id       uuid,
    observed_at   timestamptz NOT NULL,
    change        text NOT NULL CHECK (change IN ('created', 'modified', 'deleted', 'restored')),
    document      jsonb NOT NULL,
    patch         jsonb NOT NULL DEFAULT '[]',
    content_hash  bytea NOT NULL,
    PRIMARY KEY (tenant_id, resource_id, version),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX resource_versions_time_idx ON resource_versions (tenant_id, observed_at DESC);
ALTER TABLE resource_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY resource_versions_isolation ON resource_versions USING (tenant_id = vigil_current_tenant());

CREATE TABLE mute_rules (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                uuid NOT NULL,
    -- Glob patterns (* and ?) over check ids and resource native ids; empty matches all.
    check_pattern     text NOT NULL DEFAULT '',
    account_id        uuid,
    region            text NOT NULL DEFAULT '',
    resource_pattern  text NOT NULL DEFAULT '',
    tags              jsonb NOT NULL DEFAULT '{}',
    justification     text NOT NULL CHECK (length(justification) BETWEEN 1 AND 2000),
    expires_at        timestamptz,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
ALTER TABLE mute_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE mute_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY mute_rules_isolation ON mute_rules USING (tenant_id = vigil_current_tenant());

-- One row per (check, resource).
CREATE TABLE findings (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    account_id       uuid NOT NULL,
    resource_id      uuid NOT NULL,
    check_id         text NOT NULL,
    provider         text NOT NULL,
    resource_type    text NOT NULL,
    region           text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pass', 'fail', 'unknown')),
    -- open: failing and not muted; resolved: passing, not applicable or resource gone;
    -- muted: failing under a mute rule. An unknown result keeps the previous state.
    state            text NOT NULL CHECK (state IN ('open', 'resolved', 'muted')),
    severity         text NOT NULL,
    message          text NOT NULL DEFAULT '',
    reason           text NOT NULL DEFAULT '',
    evidence         jsonb NOT NULL DEFAULT '{}',
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    resolved_at      timestamptz,
    times_reopened   integer NOT NULL DEFAULT 0,
    mute_rule_id     uuid,
    last_scan_id     uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX findings_check_resource_key ON findings (tenant_id, check_id, resource_id);
CREATE INDEX findings_state_idx ON findings (tenant_id, state, severity, id);
CREATE INDEX findings_account_idx ON findings (tenant_id, account_id, state);
ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE findings FORCE ROW LEVEL SECURITY;
CREATE POLICY findings_isolation ON findings USING (tenant_id = vigil_current_tenant());

CREATE TABLE finding_events (
    tenant_id    uuid NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    finding_id   uuid NOT NULL,
    scan_id      uuid,
    at           timestamptz NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('opened', 'resolved', 'reopened', 'muted', 'unmuted', 'severity_changed')),
    details      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, finding_id) REFERENCES findings (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX finding_events_finding_idx ON finding_events (tenant_id, finding_id, id);
CREATE INDEX finding_events_time_idx ON finding_events (tenant_id, at);
ALTER TABLE finding_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE finding_events FORCE ROW LEVEL SECURITY;
CREATE POLICY finding_events_isolation ON finding_events USING (tenant_id = vigil_current_tenant());

-- Posture after each evaluated scan, for dashboards and trend lines.
CREATE TABLE posture_snapshots (
    tenant_id   uuid NOT NULL,
    scan_id     uuid NOT NULL,
    account_id  uuid NOT NULL,
    at          timestamptz NOT NULL,
    counts      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, scan_id)
);
CREATE INDEX posture_snapshots_time_idx ON posture_snapshots (tenant_id, at);
ALTER TABLE posture_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE posture_snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY posture_snapshots_isolation ON posture_snapshots USING (tenant_id = vigil_current_tenant());

-- The scheduler sees every tenant's due accounts (ids only) to enqueue their scans;
-- everything else it does runs in a tenant transaction.
CREATE FUNCTION vigil_accounts_due(p_now timestamptz, p_limit integer)
    RETURNS TABLE (tenant_id uuid, account_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT a.tenant_id, a.id FROM cloud_accounts a
          WHERE a.enabled AND a.next_scan_at IS NOT NULL AND a.next_scan_at <= p_now
          ORDER BY a.next_scan_at LIMIT p_limit $$;

-- Retention: tenants and their retention settings, for the pruning job.
CREATE FUNCTION vigil_tenant_retention() RETURNS TABLE (tenant_id uuid, retention_days integer)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$ SELECT id, retention_days FROM tenants $$;

-- +goose Down
DROP FUNCTION vigil_tenant_retention();
DROP FUNCTION vigil_accounts_due(timestamptz, integer);
DROP TABLE posture_snapshots, finding_events, findings, mute_rules, resource_versions, resources, scan_units, scans, cloud_accounts;
