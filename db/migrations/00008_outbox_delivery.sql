-- +goose Up
-- Decisions going out (DESIGN.md, "Decisions going out"). Each case.decided outbox row is
-- fanned out by internal/outbox into one delivery per destination, so one destination
-- failing never resends to the other; the outbox row itself is then 'done'.

-- Where an integration's decisions are POSTed, and the Standard Webhooks secret that signs
-- them (sealed, bound to the integration). During a rotation the previous secret signs too,
-- until prev_expires_at, so a receiver can switch without losing a delivery.
CREATE TABLE integration_decision_targets (
    integration_id   TEXT    PRIMARY KEY REFERENCES integrations(id) ON DELETE CASCADE,
    url              TEXT    NOT NULL,
    secret           BLOB    NOT NULL,
    secret_created_at INTEGER NOT NULL,
    prev_secret      BLOB,
    prev_expires_at  INTEGER,
    updated_at       INTEGER NOT NULL
) WITHOUT ROWID;

-- One delivery of one decision to one destination:
--   destination: frankieone (the execution's status override) | decision_url (case.decided webhook)
--   state: pending (due at next_attempt_at) | delivered | failed (4xx: not retried, replayable)
--        | dead (retried for 24 hours without success, replayable)
-- body is the signed event (decision_url) or the override (frankieone), fixed at fan-out so
-- that every retry sends the same bytes under the same webhook-id.
CREATE TABLE outbox_deliveries (
    id               INTEGER PRIMARY KEY,
    outbox_id        INTEGER NOT NULL REFERENCES outbox(id),
    case_id          TEXT    NOT NULL REFERENCES cases(id),
    integration_id   TEXT    NOT NULL,
    destination      TEXT    NOT NULL CHECK (destination IN ('frankieone', 'decision_url')),
    body             TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER NOT NULL DEFAULT 0,     -- HTTP status of the last answer, 0 for none
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,               -- retries stop 24 hours after it
    finished_at      INTEGER,
    UNIQUE (outbox_id, destination)
);
-- The worker's due list, and per case and destination the oldest unfinished delivery
-- (decisions on one case go out in order).
CREATE INDEX outbox_deliveries_due ON outbox_deliveries(next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_deliveries_case ON outbox_deliveries(case_id, destination, state, id);
-- Health per integration: depth, failures, oldest pending (admin page and /metrics).
CREATE INDEX outbox_deliveries_health ON outbox_deliveries(integration_id, state, created_at);

-- +goose Down
DROP TABLE outbox_deliveries;
DROP TABLE integration_decision_targets;
