-- +goose Up
-- Hardening (issue 13).

-- Sign-in attempts are pruned after 24 hours, oldest first, a bounded batch per sign-in
-- write (internal/auth pruneAttempts): this index finds them without a scan.
CREATE INDEX login_attempts_at ON login_attempts(at);

-- The API's JSON arrays (case_api_parts, migration 00005) were kept by row triggers on
-- case_checks and case_documents. Each inserted check rewrote the round's whole array, and
-- each deleted one rebuilt it, so a result with n checks cost O(n^2): one event of 12,000
-- checks held the writer for 14 s. The arrays are now built once per case and round, from
-- the rows, when a writer has finished writing them and says so:
--     INSERT INTO case_api_refresh (case_id, round) VALUES (?, ?)
-- (the case store does it at the end of applying a result; internal/cases/apiparts.go).
-- The arrays are exactly what the triggers produced: checks in id order, documents in rowid
-- order, an absent score and empty or invalid details left out.
DROP TRIGGER case_checks_api_insert;
DROP TRIGGER case_checks_api_delete;
DROP TRIGGER case_checks_api_update;
DROP TRIGGER case_documents_api_insert;
DROP TRIGGER case_documents_api_delete;
DROP TRIGGER case_documents_api_update;

-- A request to rebuild one round's arrays; the trigger does it and removes the row, so the
-- table stays empty outside a statement.
CREATE TABLE case_api_refresh (
    case_id TEXT    NOT NULL,
    round   INTEGER NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER case_api_refresh_insert AFTER INSERT ON case_api_refresh
BEGIN
    INSERT INTO case_api_parts (case_id, round, checks, documents) VALUES (NEW.case_id, NEW.round,
        (SELECT json_group_array(CASE
            WHEN score IS NULL AND details IS NULL THEN json_object('kind', kind, 'result', result)
            WHEN details IS NULL THEN json_object('kind', kind, 'result', result, 'score', score)
            WHEN score IS NULL THEN json_object('kind', kind, 'result', result, 'details', json(details))
            ELSE json_object('kind', kind, 'result', result, 'score', score, 'details', json(details)) END)
         FROM (SELECT kind, result, score,
                 CASE WHEN json_valid(details) AND details NOT IN ('{}', 'null') THEN details END AS details
               FROM case_checks WHERE case_id = NEW.case_id AND round = NEW.round ORDER BY id)),
        (SELECT json_group_array(json_object('id', id, 'kind', kind, 'sha256', sha256, 'content_type', content_type, 'size', size))
         FROM (SELECT id, kind, sha256, content_type, size FROM case_documents
               WHERE case_id = NEW.case_id AND round = NEW.round ORDER BY rowid)))
    ON CONFLICT (case_id, round) DO UPDATE SET checks = excluded.checks, documents = excluded.documents;
    DELETE FROM case_api_refresh WHERE rowid = NEW.rowid;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER case_api_refresh_insert;
DROP TABLE case_api_refresh;
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

DROP INDEX login_attempts_at;
