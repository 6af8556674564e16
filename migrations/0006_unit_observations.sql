-- A re-scan that finds nothing changed should write next to nothing. Until now every
-- unchanged resource had its row rewritten to move last_seen, which at 100,000
-- resources was most of a scan's cost. Instead, a completed unit records when it ran:
-- every resource it wrote (unit_key) that is not deleted was seen then. A resource's
-- last_seen is the later of its own column (moved when it changes) and its unit's
-- last observation.
--
-- raw_hash is the hash of everything stored (volatile properties and gaps included),
-- so a document whose drift hash is unchanged is rewritten only when a volatile value
-- (a last-used date) or its gaps moved.

--
-- resource_versions loses its foreign key to resources: checking it cost an index probe
-- per version written (about a second per 100,000 on a first scan). Versions are only
-- ever written by the statement that writes their resource, in the same transaction,
-- so the reference holds by construction; what the key also did, cascading a
-- resource's deletion (an account deleted), a statement-level trigger now does in one
-- set-based DELETE, under the same row-level security.

-- +goose Up
ALTER TABLE resources ADD COLUMN raw_hash bytea, ADD COLUMN unit_key text;

CREATE TABLE unit_observations (
    tenant_id    uuid NOT NULL,
    account_id   uuid NOT NULL,
    unit_key     text NOT NULL,
    scan_id      uuid NOT NULL,
    observed_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, account_id, unit_key),
    FOREIGN KEY (tenant_id, account_id) REFERENCES cloud_accounts (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE unit_observations ENABLE ROW LEVEL SECURITY;
ALTER TABLE unit_observations FORCE ROW LEVEL SECURITY;
CREATE POLICY unit_observations_isolation ON unit_observations USING (tenant_id = vigil_current_tenant());

ALTER TABLE resource_versions DROP CONSTRAINT resource_versions_tenant_id_resource_id_fkey;
-- +goose StatementBegin
CREATE FUNCTION vigil_resources_delete_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resource_versions v USING gone g WHERE v.tenant_id = g.tenant_id AND v.resource_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER resources_delete_versions AFTER DELETE ON resources
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION vigil_resources_delete_versions();

-- +goose Down
DROP TRIGGER resources_delete_versions ON resources;
DROP FUNCTION vigil_resources_delete_versions();
DELETE FROM resource_versions v WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.tenant_id = v.tenant_id AND r.id = v.resource_id);
ALTER TABLE resource_versions ADD FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id) ON DELETE CASCADE;
DROP TABLE unit_observations;
ALTER TABLE resources DROP COLUMN raw_hash, DROP COLUMN unit_key;
