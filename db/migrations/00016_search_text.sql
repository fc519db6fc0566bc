-- +goose Up
-- A queue search checked every case it looked at by matching three GLOB patterns per word
-- against the case's own columns: a read of the case's row (rows are wide, scattered over
-- the file) and a backtracking pattern per column. When the words are too common for the
-- full-text index to narrow them, a search walks the queue and checks up to 1,500 cases
-- that way: about 12 ms a request at a million cases (BENCHMARKS.md, "Searches that read
-- no case row").
--
-- case_text holds, per case, the text a search word is looked for in (kycdesk_search_text,
-- db.SearchText: the name, reference and external id lower-cased, then folded), in a
-- narrow table keyed by the case's rowid. A word is checked with instr (db.SearchNeedle).
CREATE TABLE case_text (
    rid  INTEGER PRIMARY KEY,  -- cases.rowid
    t    TEXT    NOT NULL
);

INSERT INTO case_text (rid, t)
SELECT rowid, kycdesk_search_text(full_name, reference, external_id) FROM cases;

-- +goose StatementBegin
CREATE TRIGGER cases_text_insert AFTER INSERT ON cases
BEGIN
    INSERT OR REPLACE INTO case_text (rid, t)
    VALUES (NEW.rowid, kycdesk_search_text(NEW.full_name, NEW.reference, NEW.external_id));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_text_update AFTER UPDATE OF full_name, reference, external_id ON cases
WHEN OLD.full_name IS NOT NEW.full_name OR OLD.reference IS NOT NEW.reference OR OLD.external_id IS NOT NEW.external_id
BEGIN
    UPDATE case_text SET t = kycdesk_search_text(NEW.full_name, NEW.reference, NEW.external_id)
    WHERE rid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_text_delete AFTER DELETE ON cases
BEGIN
    DELETE FROM case_text WHERE rid = OLD.rowid;
END;
-- +goose StatementEnd

-- A search's walk reads the queue's index in order and looks each case up in case_text.
-- The walk also read each case's row wherever the index lacked a column of the queue's
-- condition: the unassigned queue read 00001's cases_status_due (status, sla_due, id) and
-- then the row for its assignee; the decided and "mine" indexes are partial on the status,
-- which they did not hold. Each now holds what its queue's condition reads (TestQueuePlans
-- requires a covering index for every walk).
CREATE INDEX cases_unassigned_due ON cases(sla_due, id, status, assignee_id)
    WHERE status = 'new' AND assignee_id IS NULL;

DROP INDEX cases_decided;
DROP INDEX cases_decided_risk;
DROP INDEX cases_decided_provider;
DROP INDEX cases_decided_risk_provider;
CREATE INDEX cases_decided ON cases(coalesce(decided_at, updated_at), id, status)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_risk ON cases(risk_level, coalesce(decided_at, updated_at), id, status)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_provider ON cases(provider, coalesce(decided_at, updated_at), id, status)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_risk_provider ON cases(risk_level, provider, coalesce(decided_at, updated_at), id, status)
    WHERE status IN ('approved', 'rejected');

DROP INDEX cases_open_assignee_due;
DROP INDEX cases_mine_risk_due;
DROP INDEX cases_mine_provider_due;
DROP INDEX cases_mine_risk_provider_due;
CREATE INDEX cases_open_assignee_due ON cases(assignee_id, sla_due, id, status)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_risk_due ON cases(assignee_id, risk_level, sla_due, id, status)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_provider_due ON cases(assignee_id, provider, sla_due, id, status)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_risk_provider_due ON cases(assignee_id, risk_level, provider, sla_due, id, status)
    WHERE status NOT IN ('approved', 'rejected');

-- +goose Down
DROP INDEX cases_mine_risk_provider_due;
DROP INDEX cases_mine_provider_due;
DROP INDEX cases_mine_risk_due;
DROP INDEX cases_open_assignee_due;
CREATE INDEX cases_open_assignee_due ON cases(assignee_id, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_risk_due ON cases(assignee_id, risk_level, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_provider_due ON cases(assignee_id, provider, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_risk_provider_due ON cases(assignee_id, risk_level, provider, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');

DROP INDEX cases_decided_risk_provider;
DROP INDEX cases_decided_provider;
DROP INDEX cases_decided_risk;
DROP INDEX cases_decided;
CREATE INDEX cases_decided ON cases(coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_risk ON cases(risk_level, coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_provider ON cases(provider, coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_risk_provider ON cases(risk_level, provider, coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');

DROP INDEX cases_unassigned_due;
DROP TRIGGER cases_text_delete;
DROP TRIGGER cases_text_update;
DROP TRIGGER cases_text_insert;
DROP TABLE case_text;
