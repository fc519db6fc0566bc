-- +goose Up
-- The inbox moves to its own file (inbox.db, see db/inbox_migrations). A case commit in this
-- file and the inbox row's "done" mark in that one can no longer be one transaction, so this
-- table is the idempotency key of the worker's effects: a row is inserted in the same
-- transaction as the case change it caused, and an inbox row found here is never applied
-- again (a crash between the case commit and the "done" mark costs nothing).
-- The old inbox and delivery_stats tables stay (empty once db.OpenInbox has moved their rows
-- into inbox.db): `kycdesk backup` puts the inbox back into them, so a backup is one file.
CREATE TABLE inbox_applied (
    inbox_id    INTEGER PRIMARY KEY,               -- inbox.db's inbox.id
    case_id     TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
);
INSERT INTO inbox_applied (inbox_id, case_id, applied_at)
    SELECT id, case_id, COALESCE(processed_at, received_at) FROM inbox WHERE state = 'done' AND case_id IS NOT NULL;

-- +goose Down
DROP TABLE inbox_applied;
