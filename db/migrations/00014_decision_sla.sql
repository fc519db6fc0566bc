-- +goose Up
-- One set of definitions for the CSV reports and the dashboard (issue 12): each decision step
-- keeps the case's SLA due time and paused time as they were when it was taken, so that
--   time to decision = at - round_started_at - paused_ms (not below 0): paused time excluded
--   breached         = a final decision (status_to approved or rejected) with at > sla_due
-- come out the same whenever they are computed (the dashboard's triggers, its Rebuild, the
-- decisions and sla reports), even for a case reopened or updated since. sla_due already
-- includes the round's finished pauses (a new result after request_info pushes it by the
-- pause), so it is never added twice. Rows written before this migration (or by hand) have
-- NULL here: every reader falls back to the case's current values, as before.
ALTER TABLE case_decisions ADD COLUMN sla_due INTEGER;
ALTER TABLE case_decisions ADD COLUMN paused_ms INTEGER;

DROP TRIGGER dash_decisions_final;
-- +goose StatementBegin
CREATE TRIGGER dash_decisions_final AFTER INSERT ON case_decisions
WHEN NEW.status_to IN ('approved', 'rejected')
BEGIN
    INSERT INTO dash_finals (day, decided, breached)
        SELECT NEW.at / 86400000, 1, NEW.at > coalesce(NEW.sla_due, c.sla_due) FROM cases c WHERE c.id = NEW.case_id
        ON CONFLICT (day) DO UPDATE SET decided = decided + 1, breached = breached + excluded.breached;
    INSERT INTO dash_durations (day, bucket, n)
        SELECT NEW.at / 86400000,
               CASE WHEN d < 86400000 THEN d / 60000
                    WHEN d < 2592000000 THEN 1440 + (d - 86400000) / 3600000
                    ELSE 2136 END,
               1
        FROM (SELECT max(0, NEW.at - NEW.round_started_at - coalesce(NEW.paused_ms, c.sla_paused_ms)) AS d
              FROM cases c WHERE c.id = NEW.case_id)
        WHERE true
        ON CONFLICT (day, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO dash_durations_coarse (day, cbucket, n)
        SELECT NEW.at / 86400000,
               CASE WHEN d < 86400000 THEN d / 3600000
                    WHEN d < 2592000000 THEN 23 + d / 86400000
                    ELSE 53 END,
               1
        FROM (SELECT max(0, NEW.at - NEW.round_started_at - coalesce(NEW.paused_ms, c.sla_paused_ms)) AS d
              FROM cases c WHERE c.id = NEW.case_id)
        WHERE true
        ON CONFLICT (day, cbucket) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- rebuild:begin
-- internal/dashboard.Rebuild runs 00011's rebuild section, then this one, which recomputes
-- the tallies of final decisions with the values each step kept.
DELETE FROM dash_finals;
INSERT INTO dash_finals (day, decided, breached)
    SELECT d.at / 86400000, count(*), sum(d.at > coalesce(d.sla_due, c.sla_due))
    FROM case_decisions d JOIN cases c ON c.id = d.case_id
    WHERE d.status_to IN ('approved', 'rejected') GROUP BY 1;
DELETE FROM dash_durations;
INSERT INTO dash_durations (day, bucket, n)
    SELECT day, CASE WHEN dur < 86400000 THEN dur / 60000
                     WHEN dur < 2592000000 THEN 1440 + (dur - 86400000) / 3600000
                     ELSE 2136 END, count(*)
    FROM (SELECT d.at / 86400000 AS day,
                 max(0, d.at - d.round_started_at - coalesce(d.paused_ms, c.sla_paused_ms)) AS dur
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
ALTER TABLE case_decisions DROP COLUMN paused_ms;
ALTER TABLE case_decisions DROP COLUMN sla_due;
