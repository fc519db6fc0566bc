-- +goose Up
-- Hardening (issue 13).

-- Sign-in attempts are pruned after 24 hours, oldest first, a bounded batch per sign-in
-- write (internal/auth pruneAttempts): this index finds them without a scan.
CREATE INDEX login_attempts_at ON login_attempts(at);

-- +goose Down
DROP INDEX login_attempts_at;
