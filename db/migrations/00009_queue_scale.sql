-- +goose Up
-- Queues at a million cases (issue 11, "Queue speed at scale"): the tabs' counts come from
-- tallies kept by triggers instead of a COUNT(*) per request; every queue x risk x provider
-- page is a range of one index read in order; a search finds its candidates in a full-text
-- index instead of walking the whole queue. internal/cases/queue.go reads all three, and
-- TestQueuePlans holds every query to them.

-- 1. Tallies. One row per (queue, assignee, risk, provider): a queue's count under any
-- risk/provider filter is the sum of at most nine rows. A case counts in the queue its
-- status puts it in (assignee_id 0), and while it is open and assigned also in its
-- assignee's "mine" (assignee_id = the user). Rows that fall to zero stay (there are few).
CREATE TABLE queue_tallies (
    queue        TEXT    NOT NULL,
    assignee_id  INTEGER NOT NULL DEFAULT 0,
    risk_level   TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (queue, assignee_id, risk_level, provider)
) WITHOUT ROWID;

INSERT INTO queue_tallies (queue, assignee_id, risk_level, provider, n)
SELECT q, a, risk_level, provider, count(*) FROM (
    SELECT CASE
            WHEN status = 'new' AND assignee_id IS NULL THEN 'unassigned'
            WHEN status = 'escalated' THEN 'escalated'
            WHEN status = 'pending_info' THEN 'pending_info'
            WHEN status = 'awaiting_second_approval' THEN 'second_approval'
            WHEN status IN ('approved', 'rejected') THEN 'decided' END AS q,
        0 AS a, risk_level, provider FROM cases
    UNION ALL
    SELECT 'mine', assignee_id, risk_level, provider FROM cases
    WHERE assignee_id IS NOT NULL AND status NOT IN ('approved', 'rejected'))
WHERE q IS NOT NULL
GROUP BY q, a, risk_level, provider;

-- The same CASE as above, on NEW or OLD. Keep the three copies (and queueWhere in
-- internal/cases/queue.go) in step: TestQueueTallies compares tallies with COUNT(*).
-- +goose StatementBegin
CREATE TRIGGER cases_tally_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO queue_tallies (queue, assignee_id, risk_level, provider, n)
    SELECT q, a, NEW.risk_level, NEW.provider, 1 FROM (
        SELECT CASE
                WHEN NEW.status = 'new' AND NEW.assignee_id IS NULL THEN 'unassigned'
                WHEN NEW.status = 'escalated' THEN 'escalated'
                WHEN NEW.status = 'pending_info' THEN 'pending_info'
                WHEN NEW.status = 'awaiting_second_approval' THEN 'second_approval'
                WHEN NEW.status IN ('approved', 'rejected') THEN 'decided' END AS q, 0 AS a
        UNION ALL
        SELECT 'mine', NEW.assignee_id WHERE NEW.assignee_id IS NOT NULL AND NEW.status NOT IN ('approved', 'rejected'))
    WHERE q IS NOT NULL
    ON CONFLICT (queue, assignee_id, risk_level, provider) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_tally_delete AFTER DELETE ON cases
BEGIN
    UPDATE queue_tallies SET n = n - 1
    WHERE queue = CASE
            WHEN OLD.status = 'new' AND OLD.assignee_id IS NULL THEN 'unassigned'
            WHEN OLD.status = 'escalated' THEN 'escalated'
            WHEN OLD.status = 'pending_info' THEN 'pending_info'
            WHEN OLD.status = 'awaiting_second_approval' THEN 'second_approval'
            WHEN OLD.status IN ('approved', 'rejected') THEN 'decided' END
        AND assignee_id = 0 AND risk_level = OLD.risk_level AND provider = OLD.provider;
    UPDATE queue_tallies SET n = n - 1
    WHERE OLD.assignee_id IS NOT NULL AND OLD.status NOT IN ('approved', 'rejected')
        AND queue = 'mine' AND assignee_id = OLD.assignee_id AND risk_level = OLD.risk_level AND provider = OLD.provider;
END;
-- +goose StatementEnd

-- Only a change of one of the four keys moves a case between tallies; every other UPDATE
-- (and the change_seq trigger's own) does not fire this.
-- +goose StatementBegin
CREATE TRIGGER cases_tally_update AFTER UPDATE OF status, assignee_id, risk_level, provider ON cases
WHEN OLD.status IS NOT NEW.status OR OLD.assignee_id IS NOT NEW.assignee_id
    OR OLD.risk_level IS NOT NEW.risk_level OR OLD.provider IS NOT NEW.provider
BEGIN
    UPDATE queue_tallies SET n = n - 1
    WHERE queue = CASE
            WHEN OLD.status = 'new' AND OLD.assignee_id IS NULL THEN 'unassigned'
            WHEN OLD.status = 'escalated' THEN 'escalated'
            WHEN OLD.status = 'pending_info' THEN 'pending_info'
            WHEN OLD.status = 'awaiting_second_approval' THEN 'second_approval'
            WHEN OLD.status IN ('approved', 'rejected') THEN 'decided' END
        AND assignee_id = 0 AND risk_level = OLD.risk_level AND provider = OLD.provider;
    UPDATE queue_tallies SET n = n - 1
    WHERE OLD.assignee_id IS NOT NULL AND OLD.status NOT IN ('approved', 'rejected')
        AND queue = 'mine' AND assignee_id = OLD.assignee_id AND risk_level = OLD.risk_level AND provider = OLD.provider;
    INSERT INTO queue_tallies (queue, assignee_id, risk_level, provider, n)
    SELECT q, a, NEW.risk_level, NEW.provider, 1 FROM (
        SELECT CASE
                WHEN NEW.status = 'new' AND NEW.assignee_id IS NULL THEN 'unassigned'
                WHEN NEW.status = 'escalated' THEN 'escalated'
                WHEN NEW.status = 'pending_info' THEN 'pending_info'
                WHEN NEW.status = 'awaiting_second_approval' THEN 'second_approval'
                WHEN NEW.status IN ('approved', 'rejected') THEN 'decided' END AS q, 0 AS a
        UNION ALL
        SELECT 'mine', NEW.assignee_id WHERE NEW.assignee_id IS NOT NULL AND NEW.status NOT IN ('approved', 'rejected'))
    WHERE q IS NOT NULL
    ON CONFLICT (queue, assignee_id, risk_level, provider) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- 2. Filtered pages. Each filter combination has an index whose leading columns are the
-- queue's equality and the filters, then the page order, so a deep page of risk=high is a
-- seek and 51 rows, not a walk over the low and medium ones. Open queues' indexes are
-- partial (decided cases, the bulk of a mature database, are not in them); queue.go adds
-- the partial WHERE's exact words to its queries, as the planner needs. assignee_id rides
-- along so that the unassigned queue checks it in the index.
CREATE INDEX cases_open_risk_due ON cases(status, risk_level, sla_due, id, assignee_id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_open_provider_due ON cases(status, provider, sla_due, id, assignee_id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_open_risk_provider_due ON cases(status, risk_level, provider, sla_due, id, assignee_id)
    WHERE status NOT IN ('approved', 'rejected');

CREATE INDEX cases_mine_risk_due ON cases(assignee_id, risk_level, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_provider_due ON cases(assignee_id, provider, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');
CREATE INDEX cases_mine_risk_provider_due ON cases(assignee_id, risk_level, provider, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');

CREATE INDEX cases_decided_risk ON cases(risk_level, coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_provider ON cases(provider, coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');
CREATE INDEX cases_decided_risk_provider ON cases(risk_level, provider, coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');

-- 3. Search. case_search holds, per case (docid = cases.rowid), the words of its name,
-- reference and external id, and every suffix of each word (at most 32 characters of it,
-- at least 3: queue.go never looks up a shorter term), so that a word typed from its
-- middle ("ương" in "Hương", "0187" in "vrf-2026-000187") is a prefix of an indexed term. The tokenizer folds case and drops diacritics; đ, which
-- has none in Unicode, is written as d. The index only proposes candidates: queue.go
-- checks each against the exact rule (globPattern: typed with diacritics, exact).
CREATE VIRTUAL TABLE case_search USING fts4(terms, tokenize=unicode61 "remove_diacritics=2");

-- Positions 1..256 of a case's search text, from which the suffixes start (a trigger
-- cannot use a recursive CTE). Words past the 256th character are indexed whole only.
CREATE TABLE case_search_positions (n INTEGER PRIMARY KEY);
INSERT INTO case_search_positions (n)
WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 256) SELECT n FROM p;

INSERT INTO case_search (docid, terms)
SELECT x.r, x.t || ' ' || coalesce((SELECT group_concat(substr(x.t, p.n,
        min(32, CASE instr(substr(x.t, p.n), ' ') WHEN 0 THEN 32 ELSE instr(substr(x.t, p.n), ' ') - 1 END)), ' ')
    FROM case_search_positions p
    WHERE p.n <= length(x.t) - 2 AND substr(x.t, p.n - 1, 1) <> ' ' AND instr(substr(x.t, p.n, 3), ' ') = 0), '')
FROM (SELECT rowid AS r, ' ' || replace(replace(replace(full_name || ' ' || reference || ' ' || external_id,
    'đ', 'd'), 'Đ', 'D'), '-', ' ') AS t FROM cases) x;

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

-- +goose StatementBegin
CREATE TRIGGER cases_search_delete AFTER DELETE ON cases
BEGIN
    DELETE FROM case_search WHERE docid = OLD.rowid;
END;
-- +goose StatementEnd

-- Tokenizes a search word exactly as case_search's terms were (queue.go asks it).
CREATE VIRTUAL TABLE case_search_tokens USING fts3tokenize(unicode61, "remove_diacritics=2");

-- 4. The case page lists a case's documents (internal/cases Documents). Read from the
-- table, each row's created_at sits after its encrypted image, so listing the documents
-- walked every image's overflow pages; this index holds the whole list in page order.
CREATE INDEX case_documents_list ON case_documents(case_id, round, created_at, id, kind, provider_ref,
    content_type, size, sha256);

-- +goose Down
DROP INDEX case_documents_list;
DROP TABLE case_search_tokens;
DROP TRIGGER cases_search_delete;
DROP TRIGGER cases_search_update;
DROP TRIGGER cases_search_insert;
DROP TABLE case_search_positions;
DROP TABLE case_search;
DROP INDEX cases_decided_risk_provider;
DROP INDEX cases_decided_provider;
DROP INDEX cases_decided_risk;
DROP INDEX cases_mine_risk_provider_due;
DROP INDEX cases_mine_provider_due;
DROP INDEX cases_mine_risk_due;
DROP INDEX cases_open_risk_provider_due;
DROP INDEX cases_open_provider_due;
DROP INDEX cases_open_risk_due;
DROP TRIGGER cases_tally_update;
DROP TRIGGER cases_tally_delete;
DROP TRIGGER cases_tally_insert;
DROP TABLE queue_tallies;
