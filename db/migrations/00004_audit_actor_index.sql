-- +goose Up
-- GET /audit filters by actor ("what did ana do?"), newest first: without this index that
-- filter walks the whole trail when the actor is rare. 00001's audit_log_subject serves the
-- subject filter the same way.
CREATE INDEX audit_log_actor ON audit_log(actor, seq);

-- +goose Down
DROP INDEX audit_log_actor;
