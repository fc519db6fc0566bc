-- +goose Up
-- The dashboard's rollups (GET /dashboard, internal/dashboard). The page must answer in
-- well under 100 ms at a million cases, so it never scans cases: it reads these small
-- tallies, which triggers keep current on every write to cases and case_decisions, so that
-- every writer (ingestion, review actions, CLI, tests, a hand-run UPDATE) keeps them right
-- without knowing about them.
--
-- A day is a UTC day, stored as whole days since 1970-01-01 (unix millis / 86400000).
--
-- What each figure means (internal/dashboard's figures are these, and the reports must
-- count the same):
--   received   cases by the day of cases.created_at and cases.provider
--   outcomes   case_decisions rows by the day of at and status_to (approved, rejected,
--              pending_info, escalated, awaiting_second_approval, in_review)
--   actors     case_decisions rows by the day of at and actor (email or system:<integration>)
--   finals     final decisions (case_decisions with status_to approved or rejected) by the
--              day of at; breached = those with at > the case's sla_due at that moment
--   durations  the same final decisions by day and duration bucket, where the duration is
--              at - round_started_at - the case's sla_paused_ms at that moment (not below 0)
--   backlog    open cases now, by queue (see dash_queue below)
-- Open cases past their due time now depend on the clock, so they are not a tally: the
-- page counts them as one range of the cases_status_due index (status, sla_due) bounded
-- by now.

CREATE TABLE dash_received (
    day       INTEGER NOT NULL,
    provider  TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, provider)
) WITHOUT ROWID;

CREATE TABLE dash_outcomes (
    day       INTEGER NOT NULL,
    outcome   TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, outcome)
) WITHOUT ROWID;

CREATE TABLE dash_actors (
    day       INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, actor)
) WITHOUT ROWID;

CREATE TABLE dash_finals (
    day       INTEGER PRIMARY KEY,
    decided   INTEGER NOT NULL,
    breached  INTEGER NOT NULL
);

-- A median cannot be summed, a histogram can: durations are kept per day in buckets of one
-- minute below 24 hours (buckets 0-1439), one hour from 24 hours to 30 days (1440-2135),
-- and one bucket (2136) for everything longer. internal/dashboard.BucketBounds mirrors this.
CREATE TABLE dash_durations (
    day       INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, bucket)
) WITHOUT ROWID;

-- The same counts in coarse buckets (an hour below 24 hours: 0-23; a day up to 30 days: 24-52;
-- 53 beyond), so that a median is found in two short reads: the coarse bucket that holds it
-- (at most 54 rows a day), then the fine buckets within that one (at most 60 rows a day),
-- rather than a walk through up to 2,137 fine rows a day.
CREATE TABLE dash_durations_coarse (
    day       INTEGER NOT NULL,
    cbucket   INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, cbucket)
) WITHOUT ROWID;

-- The backlog per queue. The queues partition the open cases:
--   unassigned       status new, no assignee
--   assigned         status new with an assignee, or in_review
--   escalated, pending_info, second_approval (awaiting_second_approval): by status
CREATE TABLE dash_backlog (
    queue  TEXT    PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO dash_backlog (queue, n) VALUES
    ('unassigned', 0), ('assigned', 0), ('escalated', 0), ('pending_info', 0), ('second_approval', 0);

-- +goose StatementBegin
CREATE TRIGGER dash_cases_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO dash_received (day, provider, n) VALUES (NEW.created_at / 86400000, NEW.provider, 1)
        ON CONFLICT (day, provider) DO UPDATE SET n = n + 1;
    UPDATE dash_backlog SET n = n + 1 WHERE queue =
        CASE WHEN NEW.status = 'new' AND NEW.assignee_id IS NULL THEN 'unassigned'
             WHEN NEW.status IN ('new', 'in_review') THEN 'assigned'
             WHEN NEW.status = 'escalated' THEN 'escalated'
             WHEN NEW.status = 'pending_info' THEN 'pending_info'
             WHEN NEW.status = 'awaiting_second_approval' THEN 'second_approval' END;
END;
-- +goose StatementEnd

-- Only a change of status or assignee can move a case between queues; the WHEN clause
-- keeps every other update (most of them) free of any work here.
-- +goose StatementBegin
CREATE TRIGGER dash_cases_queue AFTER UPDATE OF status, assignee_id ON cases
WHEN NEW.status IS NOT OLD.status OR NEW.assignee_id IS NOT OLD.assignee_id
BEGIN
    UPDATE dash_backlog SET n = n - 1 WHERE queue =
        CASE WHEN OLD.status = 'new' AND OLD.assignee_id IS NULL THEN 'unassigned'
             WHEN OLD.status IN ('new', 'in_review') THEN 'assigned'
             WHEN OLD.status = 'escalated' THEN 'escalated'
             WHEN OLD.status = 'pending_info' THEN 'pending_info'
             WHEN OLD.status = 'awaiting_second_approval' THEN 'second_approval' END;
    UPDATE dash_backlog SET n = n + 1 WHERE queue =
        CASE WHEN NEW.status = 'new' AND NEW.assignee_id IS NULL THEN 'unassigned'
             WHEN NEW.status IN ('new', 'in_review') THEN 'assigned'
             WHEN NEW.status = 'escalated' THEN 'escalated'
             WHEN NEW.status = 'pending_info' THEN 'pending_info'
             WHEN NEW.status = 'awaiting_second_approval' THEN 'second_approval' END;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dash_cases_delete AFTER DELETE ON cases
BEGIN
    UPDATE dash_received SET n = n - 1 WHERE day = OLD.created_at / 86400000 AND provider = OLD.provider;
    UPDATE dash_backlog SET n = n - 1 WHERE queue =
        CASE WHEN OLD.status = 'new' AND OLD.assignee_id IS NULL THEN 'unassigned'
             WHEN OLD.status IN ('new', 'in_review') THEN 'assigned'
             WHEN OLD.status = 'escalated' THEN 'escalated'
             WHEN OLD.status = 'pending_info' THEN 'pending_info'
             WHEN OLD.status = 'awaiting_second_approval' THEN 'second_approval' END;
END;
-- +goose StatementEnd

-- case_decisions is append-only by design (the timeline and the audit trail say the same),
-- so only inserts are counted. If rows are ever edited behind kycdesk's back,
-- internal/dashboard.Rebuild recomputes every tally from the base tables.
-- +goose StatementBegin
CREATE TRIGGER dash_decisions_insert AFTER INSERT ON case_decisions
BEGIN
    INSERT INTO dash_outcomes (day, outcome, n) VALUES (NEW.at / 86400000, NEW.status_to, 1)
        ON CONFLICT (day, outcome) DO UPDATE SET n = n + 1;
    INSERT INTO dash_actors (day, actor, n) VALUES (NEW.at / 86400000, NEW.actor, 1)
        ON CONFLICT (day, actor) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER dash_decisions_final AFTER INSERT ON case_decisions
WHEN NEW.status_to IN ('approved', 'rejected')
BEGIN
    INSERT INTO dash_finals (day, decided, breached)
        SELECT NEW.at / 86400000, 1, NEW.at > c.sla_due FROM cases c WHERE c.id = NEW.case_id
        ON CONFLICT (day) DO UPDATE SET decided = decided + 1, breached = breached + excluded.breached;
    INSERT INTO dash_durations (day, bucket, n)
        SELECT NEW.at / 86400000,
               CASE WHEN d < 86400000 THEN d / 60000
                    WHEN d < 2592000000 THEN 1440 + (d - 86400000) / 3600000
                    ELSE 2136 END,
               1
        FROM (SELECT max(0, NEW.at - NEW.round_started_at - c.sla_paused_ms) AS d
              FROM cases c WHERE c.id = NEW.case_id)
        WHERE true
        ON CONFLICT (day, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO dash_durations_coarse (day, cbucket, n)
        SELECT NEW.at / 86400000,
               CASE WHEN d < 86400000 THEN d / 3600000
                    WHEN d < 2592000000 THEN 23 + d / 86400000
                    ELSE 53 END,
               1
        FROM (SELECT max(0, NEW.at - NEW.round_started_at - c.sla_paused_ms) AS d
              FROM cases c WHERE c.id = NEW.case_id)
        WHERE true
        ON CONFLICT (day, cbucket) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- rebuild:begin
-- Every tally recomputed from the base tables: fills them for the cases that exist when this
-- migration runs, and internal/dashboard.Rebuild runs exactly these statements (read from
-- this file) to repair them. Unlike the triggers it reads each case's sla_due and
-- sla_paused_ms as they are now, which differ only for a case reopened since its decision.
DELETE FROM dash_received;
INSERT INTO dash_received (day, provider, n)
    SELECT created_at / 86400000, provider, count(*) FROM cases GROUP BY 1, 2;
UPDATE dash_backlog SET n = 0;
UPDATE dash_backlog SET n = t.n
    FROM (SELECT CASE WHEN status = 'new' AND assignee_id IS NULL THEN 'unassigned'
                      WHEN status IN ('new', 'in_review') THEN 'assigned'
                      WHEN status = 'escalated' THEN 'escalated'
                      WHEN status = 'pending_info' THEN 'pending_info'
                      WHEN status = 'awaiting_second_approval' THEN 'second_approval' END AS queue,
                 count(*) AS n
          FROM cases WHERE status NOT IN ('approved', 'rejected') GROUP BY 1) AS t
    WHERE t.queue = dash_backlog.queue;
DELETE FROM dash_outcomes;
INSERT INTO dash_outcomes (day, outcome, n)
    SELECT at / 86400000, status_to, count(*) FROM case_decisions GROUP BY 1, 2;
DELETE FROM dash_actors;
INSERT INTO dash_actors (day, actor, n)
    SELECT at / 86400000, actor, count(*) FROM case_decisions GROUP BY 1, 2;
DELETE FROM dash_finals;
INSERT INTO dash_finals (day, decided, breached)
    SELECT d.at / 86400000, count(*), sum(d.at > c.sla_due)
    FROM case_decisions d JOIN cases c ON c.id = d.case_id
    WHERE d.status_to IN ('approved', 'rejected') GROUP BY 1;
DELETE FROM dash_durations;
INSERT INTO dash_durations (day, bucket, n)
    SELECT day, CASE WHEN dur < 86400000 THEN dur / 60000
                     WHEN dur < 2592000000 THEN 1440 + (dur - 86400000) / 3600000
                     ELSE 2136 END, count(*)
    FROM (SELECT d.at / 86400000 AS day, max(0, d.at - d.round_started_at - c.sla_paused_ms) AS dur
          FROM case_decisions d JOIN cases c ON c.id = d.case_id
          WHERE d.status_to IN ('approved', 'rejected'))
    GROUP BY 1, 2;
DELETE FROM dash_durations_coarse;
INSERT INTO dash_durations_coarse (day, cbucket, n)
    SELECT day, CASE WHEN bucket < 1440 THEN bucket / 60
                     WHEN bucket < 2136 THEN 24 + (bucket - 1440) / 24
                     ELSE 53 END, sum(n)
    FROM dash_durations GROUP BY 1, 2;
-- rebuild:end

-- +goose Down
DROP TRIGGER dash_decisions_final;
DROP TRIGGER dash_decisions_insert;
DROP TRIGGER dash_cases_delete;
DROP TRIGGER dash_cases_queue;
DROP TRIGGER dash_cases_insert;
DROP TABLE dash_backlog;
DROP TABLE dash_durations_coarse;
DROP TABLE dash_durations;
DROP TABLE dash_finals;
DROP TABLE dash_actors;
DROP TABLE dash_outcomes;
DROP TABLE dash_received;
