-- +goose Up
-- A new case cost about 250 µs of the worker's time in its INSERT alone, most of it in two
-- triggers (BENCHMARKS.md, "The worker's cost per case"):
--
-- 1. case_search's terms (00009) were built in SQL, one substr and instr per character over
--    case_search_positions, and written into the FTS4 table row by row. FTS4 writes its
--    pending terms out as a new segment at every statement's savepoint, so each case made a
--    segment of its own (and the merges after). The terms now come from
--    kycdesk_search_terms, a Go function registered on every connection (db.SearchTerms:
--    the same text, so rows indexed before need nothing), and wait in case_search_queue
--    until the end of the write transaction, which moves them into case_search in one
--    statement (db.DB.Tx: FlushSearch). A search also reads the queue, so a case written
--    outside such a transaction is found all the same (internal/cases, matchCandidates).
-- 2. cases_change_insert gave a new case its change_seq by updating the row it had just
--    written (the whole row again, three indexes twice). The case store now writes
--    change_seq in its INSERT; the trigger does it only for rows inserted without one.
CREATE TABLE case_search_queue (
    docid  INTEGER PRIMARY KEY,  -- cases.rowid
    terms  TEXT    NOT NULL
);

DROP TRIGGER cases_search_insert;
DROP TRIGGER cases_search_update;
DROP TRIGGER cases_search_delete;
DROP TRIGGER cases_change_insert;

-- +goose StatementBegin
CREATE TRIGGER cases_search_insert AFTER INSERT ON cases
BEGIN
    INSERT OR REPLACE INTO case_search_queue (docid, terms)
    VALUES (NEW.rowid, kycdesk_search_terms(NEW.full_name, NEW.reference, NEW.external_id));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_search_update AFTER UPDATE OF full_name, reference, external_id ON cases
WHEN OLD.full_name IS NOT NEW.full_name OR OLD.reference IS NOT NEW.reference OR OLD.external_id IS NOT NEW.external_id
BEGIN
    DELETE FROM case_search WHERE docid = OLD.rowid;
    DELETE FROM case_search_queue WHERE docid = OLD.rowid;
    INSERT OR REPLACE INTO case_search_queue (docid, terms)
    VALUES (NEW.rowid, kycdesk_search_terms(NEW.full_name, NEW.reference, NEW.external_id));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_search_delete AFTER DELETE ON cases
BEGIN
    DELETE FROM case_search WHERE docid = OLD.rowid;
    DELETE FROM case_search_queue WHERE docid = OLD.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_change_insert AFTER INSERT ON cases
WHEN NEW.change_seq IS NULL
BEGIN
    UPDATE cases SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM cases)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
-- The queue's rows go into the index first.
DELETE FROM case_search WHERE docid IN (SELECT docid FROM case_search_queue);
INSERT INTO case_search (docid, terms) SELECT docid, terms FROM case_search_queue;
DROP TRIGGER cases_search_insert;
DROP TRIGGER cases_search_update;
DROP TRIGGER cases_search_delete;
DROP TRIGGER cases_change_insert;
DROP TABLE case_search_queue;

-- +goose StatementBegin
CREATE TRIGGER cases_change_insert AFTER INSERT ON cases
BEGIN
    UPDATE cases SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM cases)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_search_delete AFTER DELETE ON cases
BEGIN
    DELETE FROM case_search WHERE docid = OLD.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_search_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_search (docid, terms)
    SELECT NEW.rowid, x.t || ' ' || coalesce((SELECT group_concat(substr(x.t, p.n,
            min(32, CASE instr(substr(x.t, p.n), ' ') WHEN 0 THEN 32 ELSE instr(substr(x.t, p.n), ' ') - 1 END)), ' ')
        FROM case_search_positions p
        WHERE p.n <= length(x.t) - 2 AND substr(x.t, p.n - 1, 1) <> ' ' AND instr(substr(x.t, p.n, 3), ' ') = 0), '')
    FROM (SELECT ' ' || replace(replace(replace(NEW.full_name || ' ' || NEW.reference || ' ' || NEW.external_id,
        'đ', 'd'), 'Đ', 'D'), '-', ' ') AS t) x;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_search_update AFTER UPDATE OF full_name, reference, external_id ON cases
WHEN OLD.full_name IS NOT NEW.full_name OR OLD.reference IS NOT NEW.reference OR OLD.external_id IS NOT NEW.external_id
BEGIN
    DELETE FROM case_search WHERE docid = OLD.rowid;
    INSERT INTO case_search (docid, terms)
    SELECT NEW.rowid, x.t || ' ' || coalesce((SELECT group_concat(substr(x.t, p.n,
            min(32, CASE instr(substr(x.t, p.n), ' ') WHEN 0 THEN 32 ELSE instr(substr(x.t, p.n), ' ') - 1 END)), ' ')
        FROM case_search_positions p
        WHERE p.n <= length(x.t) - 2 AND substr(x.t, p.n - 1, 1) <> ' ' AND instr(substr(x.t, p.n, 3), ' ') = 0), '')
    FROM (SELECT ' ' || replace(replace(replace(NEW.full_name || ' ' || NEW.reference || ' ' || NEW.external_id,
        'đ', 'd'), 'Đ', 'D'), '-', ' ') AS t) x;
END;
-- +goose StatementEnd
