-- +goose Up
-- The integration health page and /metrics read, per integration: pending depth, the oldest
-- pending row, dead letters and the last delivery. Each is a range of this index.
CREATE INDEX inbox_integration_state ON inbox(integration_id, state, received_at);

-- +goose Down
DROP INDEX inbox_integration_state;
