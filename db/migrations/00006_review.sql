-- +goose Up
-- The review workflow (DESIGN.md, "Case lifecycle"): assignment, decisions, escalation,
-- four-eyes, per-document review, reason codes, availability. internal/cases owns these
-- tables; reports and the dashboard read case_decisions.

-- cases.version is the optimistic-concurrency token of every review action: an action
-- names the version it was shown, and is refused when the case has moved on since.
-- Any review action or ingestion update bumps it.
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- The SLA clock stops while the case waits for information (pending_info): paused_at is
-- when it stopped (NULL while running), paused_ms the total paused time of the round.
ALTER TABLE cases ADD COLUMN sla_paused_at INTEGER;
ALTER TABLE cases ADD COLUMN sla_paused_ms INTEGER NOT NULL DEFAULT 0;
-- When the case was first decided (approved or rejected), for reports; later rounds keep it.
ALTER TABLE cases ADD COLUMN first_decided_at INTEGER;
-- Who escalated the current escalation (a lead may return the case to them).
ALTER TABLE cases ADD COLUMN escalated_by INTEGER REFERENCES users(id);

-- Availability: auto-assignment (round-robin) skips a user until unavailable_until.
ALTER TABLE users ADD COLUMN unavailable_until INTEGER;
ALTER TABLE users ADD COLUMN last_assigned_at INTEGER NOT NULL DEFAULT 0;

-- Reason codes per action. Admins add codes; a code in use is never deleted, only retired.
CREATE TABLE reason_codes (
    action      TEXT    NOT NULL CHECK (action IN ('approve', 'reject', 'request_info')),
    code        TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    retired_at  INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (action, code)
) WITHOUT ROWID;
INSERT INTO reason_codes (action, code, label, created_at) VALUES
    ('approve', 'verified', 'Verified', 0),
    ('approve', 'verified_manual_check', 'Verified after a manual check', 0),
    ('reject', 'document_fake', 'Document fake or tampered', 0),
    ('reject', 'document_expired', 'Document expired', 0),
    ('reject', 'face_mismatch', 'Selfie does not match the document', 0),
    ('reject', 'data_mismatch', 'Data does not match', 0),
    ('reject', 'sanctions_pep_confirmed', 'Sanctions or PEP hit confirmed', 0),
    ('reject', 'duplicate_identity', 'Duplicate identity', 0),
    ('reject', 'other', 'Other (see comment)', 0),
    ('request_info', 'document_unreadable', 'Document unreadable', 0),
    ('request_info', 'document_missing', 'Document missing', 0),
    ('request_info', 'selfie_unusable', 'Selfie unusable', 0),
    ('request_info', 'other', 'Other (see comment)', 0);

-- Every decision-like step a person (or the auto-approve rule) takes on a case: decisions,
-- escalations and their resolution, second approvals and returns. The decisions report
-- and the dashboard read it; the timeline and the audit trail say the same in words.
--   kind:     decision | escalation | escalation_decision | second_approval
--   decision: approve | reject | request_info | escalate | return
--   status_to: the case status after the step (approved, rejected, pending_info,
--              escalated, awaiting_second_approval, in_review)
CREATE TABLE case_decisions (
    id                INTEGER PRIMARY KEY,
    case_id           TEXT    NOT NULL REFERENCES cases(id),
    round             INTEGER NOT NULL,
    kind              TEXT    NOT NULL,
    decision          TEXT    NOT NULL,
    reason_code       TEXT    NOT NULL DEFAULT '',
    comment           TEXT    NOT NULL DEFAULT '',
    actor_id          INTEGER REFERENCES users(id),      -- NULL for system actors
    actor             TEXT    NOT NULL,                  -- email, or system:<integration>
    status_from       TEXT    NOT NULL,
    status_to         TEXT    NOT NULL,
    at                INTEGER NOT NULL,
    round_started_at  INTEGER NOT NULL                   -- time to decision = at - round_started_at - paused
);
CREATE INDEX case_decisions_at ON case_decisions(at, id);
CREATE INDEX case_decisions_case ON case_decisions(case_id, id);
CREATE INDEX case_decisions_actor ON case_decisions(actor_id, at);

-- Per-document review of the current round: accepted or rejected with a reason. Approval
-- is refused while any document of the current round is rejected.
CREATE TABLE document_reviews (
    document_id  TEXT    PRIMARY KEY REFERENCES case_documents(id) ON DELETE CASCADE,
    case_id      TEXT    NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    round        INTEGER NOT NULL,
    verdict      TEXT    NOT NULL CHECK (verdict IN ('accept', 'reject')),
    reason       TEXT    NOT NULL DEFAULT '',
    reviewer_id  INTEGER REFERENCES users(id),
    at           INTEGER NOT NULL
);
CREATE INDEX document_reviews_case ON document_reviews(case_id, round, verdict);

-- POST /queues/next for an analyst (internal/cases/review.go, qNextPlain): the most urgent
-- new, unassigned case an analyst may decide alone (low or medium risk, not four-eyes),
-- the first row of this partial index. Leads read cases_status_due.
CREATE INDEX cases_next_plain ON cases(sla_due, id)
    WHERE status = 'new' AND assignee_id IS NULL AND four_eyes = 0 AND risk_level IN ('low', 'medium');

-- +goose Down
DROP INDEX cases_next_plain;
DROP TABLE document_reviews;
DROP TABLE case_decisions;
DROP TABLE reason_codes;
ALTER TABLE users DROP COLUMN last_assigned_at;
ALTER TABLE users DROP COLUMN unavailable_until;
ALTER TABLE cases DROP COLUMN escalated_by;
ALTER TABLE cases DROP COLUMN first_decided_at;
ALTER TABLE cases DROP COLUMN sla_paused_ms;
ALTER TABLE cases DROP COLUMN sla_paused_at;
ALTER TABLE cases DROP COLUMN version;
