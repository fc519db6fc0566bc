-- +goose Up
-- Duplicates: other cases with the same ID number, whatever provider or integration sent
-- them. The number itself stays sealed in applicant_sealed; id_number_hash is its keyed hash
-- (HMAC-SHA256 under a key derived from the master key: crypto.Sealer.LookupHash), written
-- with the applicant, so the case page finds duplicates through this index, never a scan.
-- NULL: not computed yet (cases stored before this migration; cases.Store.BackfillIDNumberHashes
-- fills them at start); an empty blob: the case has no ID number.
ALTER TABLE cases ADD COLUMN id_number_hash BLOB;
CREATE INDEX cases_id_number_hash ON cases(id_number_hash, created_at);

-- +goose Down
DROP INDEX cases_id_number_hash;
ALTER TABLE cases DROP COLUMN id_number_hash;
