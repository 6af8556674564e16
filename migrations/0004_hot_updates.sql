-- Every scan touches every resource (last_seen) and every finding (last_seen). With full
-- pages those updates cannot be HOT, so each one inserts into every index, the GIN index
-- on tags included. Leaving 30% free space lets them stay on the page and skip index
-- maintenance. Existing pages take the setting when rewritten (VACUUM FULL / pg_repack);
-- no lock beyond the brief ALTER.

-- +goose Up
ALTER TABLE resources SET (fillfactor = 70);
ALTER TABLE findings SET (fillfactor = 70);

-- +goose Down
ALTER TABLE resources RESET (fillfactor);
ALTER TABLE findings RESET (fillfactor);
