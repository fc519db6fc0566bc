-- +goose Up
-- The work queues (GET /queues, internal/cases/queue.go) read each page as a range of one
-- index, in the page's order, so a page costs the same on the first day and the thousandth.
-- 00001's cases_status_due (status, sla_due, id) serves the escalated, pending_info and
-- second_approval queues and the unassigned one; these serve the other two.

-- "mine": the viewer's open cases by SLA. Partial, so that the cases an analyst decided
-- long ago (which may keep their assignee) are not in the range at all.
CREATE INDEX cases_open_assignee_due ON cases(assignee_id, sla_due, id)
    WHERE status NOT IN ('approved', 'rejected');

-- "decided": newest decision first. A decided case without decided_at sorts by its last
-- update rather than disappearing from the list.
CREATE INDEX cases_decided ON cases(coalesce(decided_at, updated_at), id)
    WHERE status IN ('approved', 'rejected');

-- +goose Down
DROP INDEX cases_decided;
DROP INDEX cases_open_assignee_due;
