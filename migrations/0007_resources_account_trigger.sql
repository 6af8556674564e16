-- A resource's reference to its cloud account was a foreign key, checked row by row:
-- one index probe and one row lock per resource written, about half a second of an
-- onboarding scan's 100,000 inserts. The writes come in statements of thousands of
-- rows of one account, so the same guarantee is now kept per statement:
--
--   * an AFTER INSERT statement trigger checks that every (tenant, account) among the
--     new rows exists, and locks those accounts FOR KEY SHARE as the key did, so an
--     account deleted concurrently either waits for the insert or makes it fail;
--   * the application role cannot change a resource's tenant or account (column
--     privileges), so an UPDATE cannot break the reference; a column added later must
--     be granted to vigil_app explicitly (a forgotten grant fails loudly);
--   * deleting an account deletes its resources (an AFTER DELETE statement trigger, in
--     one set-based DELETE under the deleting session's row-level security), which
--     cascades on to their versions and findings as before.

-- +goose Up
ALTER TABLE resources DROP CONSTRAINT resources_tenant_id_account_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION vigil_resources_check_account() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    found integer;
BEGIN
    SELECT count(*) INTO wanted FROM (SELECT DISTINCT tenant_id, account_id FROM new_rows) n;
    PERFORM 1 FROM cloud_accounts a
        JOIN (SELECT DISTINCT tenant_id, account_id FROM new_rows) n ON a.tenant_id = n.tenant_id AND a.id = n.account_id
        FOR KEY SHARE OF a;
    GET DIAGNOSTICS found = ROW_COUNT;
    IF found <> wanted THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert on table "resources" violates its reference to "cloud_accounts"',
            DETAIL = 'A resource names a cloud account that does not exist.';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER resources_check_account AFTER INSERT ON resources
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vigil_resources_check_account();

-- +goose StatementBegin
CREATE FUNCTION vigil_cloud_accounts_delete_resources() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM resources r USING gone g WHERE r.tenant_id = g.tenant_id AND r.account_id = g.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER cloud_accounts_delete_resources AFTER DELETE ON cloud_accounts
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION vigil_cloud_accounts_delete_resources();

REVOKE UPDATE ON resources FROM vigil_app;
GRANT UPDATE (native_id, type, region, name, tags, properties, gaps, relations, content_hash, version, first_seen,
    last_seen, deleted_at, last_scan_id, raw_hash, unit_key) ON resources TO vigil_app;

-- +goose Down
REVOKE UPDATE (native_id, type, region, name, tags, properties, gaps, relations, content_hash, version, first_seen,
    last_seen, deleted_at, last_scan_id, raw_hash, unit_key) ON resources FROM vigil_app;
GRANT UPDATE ON resources TO vigil_app;
DROP TRIGGER cloud_accounts_delete_resources ON cloud_accounts;
DROP FUNCTION vigil_cloud_accounts_delete_resources();
DROP TRIGGER resources_check_account ON resources;
DROP FUNCTION vigil_resources_check_account();
DELETE FROM resources r WHERE NOT EXISTS (SELECT 1 FROM cloud_accounts a WHERE a.tenant_id = r.tenant_id AND a.id = r.account_id);
ALTER TABLE resources ADD FOREIGN KEY (tenant_id, account_id) REFERENCES cloud_accounts (tenant_id, id) ON DELETE CASCADE;
