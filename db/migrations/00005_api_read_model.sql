-- +goose Up
-- The read model of the JSON API (/api/v1, internal/caseapi).

-- 1. cases.change_seq numbers every write to a case in commit order: the API lists cases
-- by it. Keyset pagination on (updated_at, id) alone can skip a case: two commits may
-- stamp the same millisecond (or a clock may step back), so a case committed after a
-- client read a page can sort before that page's cursor. A sequence assigned inside the
-- write transaction cannot: SQLite has one writer at a time, so each commit's numbers are
-- larger than every number any reader has already seen. Triggers assign it, so every
-- writer (case store, review actions, CLI, tests) keeps it right without knowing about
-- it. Any UPDATE of a case counts as a change.
ALTER TABLE cases ADD COLUMN change_seq INTEGER;

UPDATE cases SET change_seq = o.n
FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY updated_at, id) AS n FROM cases) AS o
WHERE o.id = cases.id;

-- The list's indexes: the sequence, alone or behind an equality filter. The other filters'
-- columns ride along, so that they are checked in the index and only matching rows are read.
CREATE INDEX cases_change ON cases(change_seq, updated_at);
CREATE INDEX cases_status_change ON cases(status, change_seq, updated_at, provider);
CREATE INDEX cases_provider_change ON cases(provider, change_seq, updated_at, status);

-- +goose StatementBegin
CREATE TRIGGER cases_change_insert AFTER INSERT ON cases
BEGIN
    UPDATE cases SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM cases)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- The WHEN clause skips the trigger's own UPDATE (and the insert trigger's), which are the
-- only statements that change change_seq.
-- +goose StatementBegin
CREATE TRIGGER cases_change_update AFTER UPDATE ON cases
WHEN NEW.change_seq IS OLD.change_seq
BEGIN
    UPDATE cases SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM cases)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- 2. case_api_parts holds, per case and round, the JSON arrays of its checks and its
-- documents' metadata exactly as the API shows them. Building them per case on every
-- read (two correlated subqueries per case) made a page of 1,000 cases cost twice as
-- much; triggers keep them current instead, at a few microseconds per check or document
-- written. The arrays' shape is documented in internal/caseapi (Check, Document) and
-- checked against openapi.json by the handlers' tests.
-- The aggregates read their rows from an ordered subquery rather than with ORDER BY inside
-- json_group_array, which SQLite before 3.44 (Debian's sqlite3 shell) cannot parse.
CREATE TABLE case_api_parts (
    case_id    TEXT    NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    round      INTEGER NOT NULL,
    checks     TEXT    NOT NULL DEFAULT '[]',
    documents  TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (case_id, round)
) WITHOUT ROWID;

-- Document metadata is read through a covering index: a document row is mostly its
-- encrypted image, so reading the metadata from the table costs a page per document.
CREATE INDEX case_documents_meta ON case_documents(case_id, round, id, kind, sha256, content_type, size);

-- checks: a score the provider did not give is left out, and so are details that are
-- empty ('{}') or not JSON at all (which would otherwise break the whole answer).
-- A new row is appended: rows are stored in id order, and ingestion writes many of them.
-- +goose StatementBegin
CREATE TRIGGER case_checks_api_insert AFTER INSERT ON case_checks
BEGIN
    INSERT OR IGNORE INTO case_api_parts (case_id, round) VALUES (NEW.case_id, NEW.round);
    UPDATE case_api_parts SET checks = json_insert(checks, '$[#]', json(CASE
        WHEN NEW.score IS NULL AND NOT (json_valid(NEW.details) AND NEW.details NOT IN ('{}', 'null'))
            THEN json_object('kind', NEW.kind, 'result', NEW.result)
        WHEN NOT (json_valid(NEW.details) AND NEW.details NOT IN ('{}', 'null'))
            THEN json_object('kind', NEW.kind, 'result', NEW.result, 'score', NEW.score)
        WHEN NEW.score IS NULL
            THEN json_object('kind', NEW.kind, 'result', NEW.result, 'details', json(NEW.details))
        ELSE json_object('kind', NEW.kind, 'result', NEW.result, 'score', NEW.score, 'details', json(NEW.details)) END))
    WHERE case_id = NEW.case_id AND round = NEW.round;
END;
-- +goose StatementEnd

-- A deleted or changed row rebuilds the array from the table.
-- +goose StatementBegin
CREATE TRIGGER case_checks_api_delete AFTER DELETE ON case_checks
BEGIN
    UPDATE case_api_parts SET checks = (
        SELECT json_group_array(CASE
            WHEN score IS NULL AND details IS NULL THEN json_object('kind', kind, 'result', result)
            WHEN details IS NULL THEN json_object('kind', kind, 'result', result, 'score', score)
            WHEN score IS NULL THEN json_object('kind', kind, 'result', result, 'details', json(details))
            ELSE json_object('kind', kind, 'result', result, 'score', score, 'details', json(details)) END)
        FROM (SELECT kind, result, score,
                CASE WHEN json_valid(details) AND details NOT IN ('{}', 'null') THEN details END AS details
              FROM case_checks WHERE case_id = OLD.case_id AND round = OLD.round ORDER BY id))
    WHERE case_id = OLD.case_id AND round = OLD.round;
END;
-- +goose StatementEnd

-- An UPDATE is a delete from the old round and an insert into the new one: both are rebuilt.
-- +goose StatementBegin
CREATE TRIGGER case_checks_api_update AFTER UPDATE ON case_checks
BEGIN
    INSERT OR IGNORE INTO case_api_parts (case_id, round) VALUES (NEW.case_id, NEW.round);
    UPDATE case_api_parts SET checks = (
        SELECT json_group_array(CASE
            WHEN score IS NULL AND details IS NULL THEN json_object('kind', kind, 'result', result)
            WHEN details IS NULL THEN json_object('kind', kind, 'result', result, 'score', score)
            WHEN score IS NULL THEN json_object('kind', kind, 'result', result, 'details', json(details))
            ELSE json_object('kind', kind, 'result', result, 'score', score, 'details', json(details)) END)
        FROM (SELECT kind, result, score,
                CASE WHEN json_valid(details) AND details NOT IN ('{}', 'null') THEN details END AS details
              FROM case_checks k WHERE k.case_id = case_api_parts.case_id AND k.round = case_api_parts.round ORDER BY id))
    WHERE (case_id = NEW.case_id AND round = NEW.round) OR (case_id = OLD.case_id AND round = OLD.round);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER case_documents_api_insert AFTER INSERT ON case_documents
BEGIN
    INSERT OR IGNORE INTO case_api_parts (case_id, round) VALUES (NEW.case_id, NEW.round);
    UPDATE case_api_parts SET documents = json_insert(documents, '$[#]', json_object(
        'id', NEW.id, 'kind', NEW.kind, 'sha256', NEW.sha256, 'content_type', NEW.content_type, 'size', NEW.size))
    WHERE case_id = NEW.case_id AND round = NEW.round;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER case_documents_api_delete AFTER DELETE ON case_documents
BEGIN
    UPDATE case_api_parts SET documents = (
        SELECT json_group_array(json_object('id', id, 'kind', kind, 'sha256', sha256, 'content_type', content_type, 'size', size))
        FROM (SELECT id, kind, sha256, content_type, size FROM case_documents
              WHERE case_id = OLD.case_id AND round = OLD.round ORDER BY rowid))
    WHERE case_id = OLD.case_id AND round = OLD.round;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER case_documents_api_update AFTER UPDATE OF id, case_id, round, kind, sha256, content_type, size ON case_documents
BEGIN
    INSERT OR IGNORE INTO case_api_parts (case_id, round) VALUES (NEW.case_id, NEW.round);
    UPDATE case_api_parts SET documents = (
        SELECT json_group_array(json_object('id', id, 'kind', kind, 'sha256', sha256, 'content_type', content_type, 'size', size))
        FROM (SELECT id, kind, sha256, content_type, size FROM case_documents d
              WHERE d.case_id = case_api_parts.case_id AND d.round = case_api_parts.round ORDER BY rowid))
    WHERE (case_id = NEW.case_id AND round = NEW.round) OR (case_id = OLD.case_id AND round = OLD.round);
END;
-- +goose StatementEnd

-- Existing rounds.
INSERT INTO case_api_parts (case_id, round)
SELECT case_id, round FROM case_checks UNION SELECT case_id, round FROM case_documents;
UPDATE case_api_parts SET
    checks = (
        SELECT json_group_array(CASE
            WHEN score IS NULL AND details IS NULL THEN json_object('kind', kind, 'result', result)
            WHEN details IS NULL THEN json_object('kind', kind, 'result', result, 'score', score)
            WHEN score IS NULL THEN json_object('kind', kind, 'result', result, 'details', json(details))
            ELSE json_object('kind', kind, 'result', result, 'score', score, 'details', json(details)) END)
        FROM (SELECT kind, result, score,
                CASE WHEN json_valid(details) AND details NOT IN ('{}', 'null') THEN details END AS details
              FROM case_checks k WHERE k.case_id = case_api_parts.case_id AND k.round = case_api_parts.round ORDER BY id)),
    documents = (
        SELECT json_group_array(json_object('id', id, 'kind', kind, 'sha256', sha256, 'content_type', content_type, 'size', size))
        FROM (SELECT id, kind, sha256, content_type, size FROM case_documents d
              WHERE d.case_id = case_api_parts.case_id AND d.round = case_api_parts.round ORDER BY rowid));

-- +goose Down
DROP TRIGGER case_documents_api_update;
DROP TRIGGER case_documents_api_delete;
DROP TRIGGER case_documents_api_insert;
DROP TRIGGER case_checks_api_update;
DROP TRIGGER case_checks_api_delete;
DROP TRIGGER case_checks_api_insert;
DROP INDEX case_documents_meta;
DROP TABLE case_api_parts;
DROP TRIGGER cases_change_update;
DROP TRIGGER cases_change_insert;
DROP INDEX cases_provider_change;
DROP INDEX cases_status_change;
DROP INDEX cases_change;
ALTER TABLE cases DROP COLUMN change_seq;
