-- +goose Up
-- Timestamps are INTEGER unix milliseconds (UTC) unless the column says otherwise;
-- audit_log.at is RFC 3339 text because auditors read the table and its exports directly.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name            TEXT    NOT NULL DEFAULT '',
    role            TEXT    NOT NULL CHECK (role IN ('analyst', 'lead', 'admin', 'auditor')),
    password_hash   TEXT    NOT NULL,
    totp_secret     BLOB,                 -- sealed with the master key; NULL until enrolled
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    mfa_enabled     INTEGER NOT NULL DEFAULT 0,
    disabled_at     INTEGER,
    locked_at       INTEGER,              -- set by the lock-out rule; an admin lifts it
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE recovery_codes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT    NOT NULL,
    used_at     INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- Failed and successful sign-in attempts, for throttling per account and per address.
CREATE TABLE login_attempts (
    id        INTEGER PRIMARY KEY,
    email     TEXT    NOT NULL COLLATE NOCASE,
    ip        TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    success   INTEGER NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts(email, at);
CREATE INDEX login_attempts_ip ON login_attempts(ip, at);

-- Server-side sessions: the cookie carries a random id, this table its SHA-256.
CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY,
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE,
    data          TEXT    NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- The tamper-evident audit trail. hash = SHA-256 over a canonical encoding of the
-- other columns and prev_hash; triggers below make the table append-only.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL DEFAULT '',
    details    TEXT    NOT NULL DEFAULT '{}',
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log(subject, seq);
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- An integration: one provider account sending to one webhook URL.
CREATE TABLE integrations (
    id              TEXT    PRIMARY KEY,          -- id.Short(), part of the webhook URL
    name            TEXT    NOT NULL UNIQUE,
    provider        TEXT    NOT NULL CHECK (provider IN ('frankieone', 'fptai', 'generic')),
    auth_mode       TEXT    NOT NULL CHECK (auth_mode IN ('hmac', 'token', 'jwt', 'ip')),
    token_header    TEXT    NOT NULL DEFAULT 'X-Webhook-Token',
    allow_ips       TEXT    NOT NULL DEFAULT '[]', -- JSON array of CIDRs
    jwt_key_pem     TEXT    NOT NULL DEFAULT '',   -- public key: not secret
    jwt_issuer      TEXT    NOT NULL DEFAULT 'io.frankiefinancial.kycaml',
    api_url         TEXT    NOT NULL DEFAULT '',
    api_key         BLOB,                          -- sealed
    customer_id     TEXT    NOT NULL DEFAULT '',
    data_key        TEXT    NOT NULL DEFAULT '',   -- FPT.AI callback data key
    queue           TEXT    NOT NULL DEFAULT 'default',
    auto_approve    INTEGER NOT NULL DEFAULT 0,
    unhealthy_reason TEXT   NOT NULL DEFAULT '',
    unhealthy_until INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Webhook secrets (hmac) and tokens (token); several are valid during a rotation overlap.
CREATE TABLE integration_secrets (
    id              INTEGER PRIMARY KEY,
    integration_id  TEXT    NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    secret          BLOB    NOT NULL,              -- sealed
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER                        -- NULL: valid until rotated away
);
CREATE INDEX integration_secrets_integration ON integration_secrets(integration_id);

-- Delivery and authentication-failure counts per integration and hour, for the health page.
CREATE TABLE delivery_stats (
    integration_id  TEXT    NOT NULL,
    hour            INTEGER NOT NULL,              -- unix ms truncated to the hour
    outcome         TEXT    NOT NULL,              -- accepted, duplicate, auth_failed, malformed, too_large
    n               INTEGER NOT NULL,
    PRIMARY KEY (integration_id, hour, outcome)
) WITHOUT ROWID;

-- The durable inbox: every acknowledged delivery, exactly once per (integration, delivery_key).
CREATE TABLE inbox (
    id              INTEGER PRIMARY KEY,
    integration_id  TEXT    NOT NULL REFERENCES integrations(id),
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

-- Cases: one per (integration, reference). Applicant columns used in lists are plain;
-- the full applicant record (ID number, date of birth, address) is sealed in applicant_sealed.
CREATE TABLE cases (
    id                 TEXT    PRIMARY KEY,        -- id.New()
    integration_id     TEXT    NOT NULL REFERENCES integrations(id),
    provider           TEXT    NOT NULL,
    reference          TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('new', 'in_review', 'pending_info', 'escalated',
                                   'awaiting_second_approval', 'approved', 'rejected')),
    result             TEXT    NOT NULL CHECK (result IN ('pass', 'fail', 'review')),
    provider_status    TEXT    NOT NULL DEFAULT '',
    risk_level         TEXT    NOT NULL CHECK (risk_level IN ('low', 'medium', 'high')),
    risk_derived       INTEGER NOT NULL DEFAULT 0, -- 1 when the provider gave none
    risk_score         REAL,
    queue              TEXT    NOT NULL DEFAULT 'default',
    four_eyes          INTEGER NOT NULL DEFAULT 0,
    round              INTEGER NOT NULL DEFAULT 1,
    round_key          TEXT    NOT NULL DEFAULT '', -- provider's session id of the current round
    result_at          INTEGER NOT NULL,            -- occurred_at of the newest result applied
    assignee_id        INTEGER REFERENCES users(id),
    first_approver_id  INTEGER REFERENCES users(id),
    decision           TEXT,                         -- approve, reject; NULL while undecided
    reason_code        TEXT,
    decided_at         INTEGER,
    full_name          TEXT    NOT NULL DEFAULT '',
    given_name         TEXT    NOT NULL DEFAULT '',
    family_name        TEXT    NOT NULL DEFAULT '',
    external_id        TEXT    NOT NULL DEFAULT '',
    applicant_sealed   BLOB,                          -- sealed JSON of cases.Applicant
    details            TEXT    NOT NULL DEFAULT '{}', -- fields, risk factors, issues, flags (no PII beyond OCR shown to reviewers: sealed below)
    details_sealed     BLOB,                          -- sealed JSON: OCR fields (carry PII)
    sla_due            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    UNIQUE (integration_id, reference)
);
CREATE INDEX cases_updated ON cases(updated_at, id);
CREATE INDEX cases_status_due ON cases(status, sla_due, id);
CREATE INDEX cases_assignee ON cases(assignee_id, status, sla_due);
CREATE INDEX cases_reference ON cases(reference);

CREATE TABLE case_checks (
    id        INTEGER PRIMARY KEY,
    case_id   TEXT    NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    round     INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    result    TEXT    NOT NULL,
    score     REAL,
    code      TEXT    NOT NULL DEFAULT '',
    message   TEXT    NOT NULL DEFAULT '',
    source    TEXT    NOT NULL DEFAULT '',
    details   TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX case_checks_case ON case_checks(case_id, round);

-- Document and selfie images, encrypted under a per-document key wrapped by the master key.
CREATE TABLE case_documents (
    id            TEXT    PRIMARY KEY,             -- id.New(); the {doc} of /cases/{id}/documents/{doc}
    case_id       TEXT    NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    round         INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    provider_ref  TEXT    NOT NULL DEFAULT '',
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT    NOT NULL,                -- lowercase hex of the bytes as received
    wrapped_key   BLOB    NOT NULL,
    ciphertext    BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (case_id, round, provider_ref)
);
CREATE INDEX case_documents_case ON case_documents(case_id, round);

-- The case timeline: results received, transitions, notes, decisions (readable history).
CREATE TABLE case_events (
    id        INTEGER PRIMARY KEY,
    case_id   TEXT    NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,                    -- result_received, reopened, claimed, note, decision, ...
    round     INTEGER NOT NULL,
    body      TEXT    NOT NULL DEFAULT '',
    details   TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events(case_id, id);

-- Durable outgoing messages (provider status write-back, customer webhook). The review
-- issue fills it; frankie_overrides lets the worker recognise our own echo.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    case_id         TEXT    NOT NULL REFERENCES cases(id),
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_pending ON outbox(state, next_attempt_at, id);

CREATE TABLE provider_overrides (
    request_id  TEXT    PRIMARY KEY,               -- requestId returned by the provider for our PATCH
    case_id     TEXT    NOT NULL REFERENCES cases(id),
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE provider_overrides;
DROP TABLE outbox;
DROP TABLE case_events;
DROP TABLE case_documents;
DROP TABLE case_checks;
DROP TABLE cases;
DROP TABLE inbox;
DROP TABLE delivery_stats;
DROP TABLE integration_secrets;
DROP TABLE integrations;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE login_attempts;
DROP TABLE recovery_codes;
DROP TABLE users;
