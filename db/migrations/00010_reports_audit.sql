-- +goose Up
-- Reports and the audit trail an auditor can prove things with (issue 12).

-- Checkpoints of the audit chain's head taken with `kycdesk audit checkpoint`. The copy
-- that proves something is the one kept outside the database; these rows let
-- /audit/verify show the last ones taken and check the chain still holds them.
CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    seq       INTEGER NOT NULL,
    hash      TEXT    NOT NULL,
    taken_at  INTEGER NOT NULL,
    taken_by  TEXT    NOT NULL
);

-- GET /audit: the action filter, exact ("case.decided") or by area ("case."), newest
-- first, each a range of one index in seq order.
CREATE INDEX audit_log_action ON audit_log(action, seq);
CREATE INDEX audit_log_area ON audit_log(substr(action, 1, instr(action, '.')), seq);
-- The date range filter and the audit report find the seq bounds of a range of days here.
CREATE INDEX audit_log_at ON audit_log(at, seq);

-- The cases and sla reports read the cases created in a range of days, oldest first.
CREATE INDEX cases_created ON cases(created_at, id);

-- +goose Down
DROP INDEX cases_created;
DROP INDEX audit_log_at;
DROP INDEX audit_log_area;
DROP INDEX audit_log_action;
DROP TABLE audit_checkpoints;
