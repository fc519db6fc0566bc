-- +goose Up
-- The inbox file (inbox.db beside kycdesk.db): acknowledged webhook deliveries and their
-- counters. It has its own WAL and its own writer, so acknowledging a delivery never waits
-- behind the worker's case transactions in kycdesk.db. integration_id refers to
-- kycdesk.db's integrations table (no foreign key across files).

-- The durable inbox: every acknowledged delivery, exactly once per (integration, delivery_key).
-- AUTOINCREMENT: an id is never handed out twice, even after a restore, because kycdesk.db's
-- inbox_applied remembers which ids were applied (db.OpenInbox keeps the sequence above them).
CREATE TABLE inbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id  TEXT    NOT NULL,
    provider        TEXT    NOT NULL,
    delivery_key    TEXT    NOT NULL,              -- the provider's delivery identity
    path_param      TEXT    NOT NULL DEFAULT '',   -- FrankieOne's appended requestID
    received_at     INTEGER NOT NULL,
    payload         BLOB    NOT NULL,              -- raw body; sealed when encrypted = 1
    encrypted       INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    processed_at    INTEGER,
    case_id         TEXT,
    UNIQUE (integration_id, delivery_key)
);
CREATE INDEX inbox_pending ON inbox(state, next_attempt_at, id);
-- The integration health page and /metrics read, per integration: pending depth, the oldest
-- pending row, dead letters and the last delivery. Each is a range of this index.
CREATE INDEX inbox_integration_state ON inbox(integration_id, state, received_at);

-- Delivery and authentication-failure counts per integration and hour, for the health page.
CREATE TABLE delivery_stats (
    integration_id  TEXT    NOT NULL,
    hour            INTEGER NOT NULL,              -- unix ms truncated to the hour
    outcome         TEXT    NOT NULL,              -- accepted, duplicate, auth_failed, malformed, too_large
    n               INTEGER NOT NULL,
    PRIMARY KEY (integration_id, hour, outcome)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE delivery_stats;
DROP TABLE inbox;
