-- The officials who sign a result, in order: a JSON array of signer token labels. NULL (or
-- empty) for a result any signer of its agency may sign.
ALTER TABLE results ADD COLUMN signers TEXT;
-- The drafts of an agency, for the officials' lists of results waiting for them.
CREATE INDEX results_agency_status ON results (agency, status, created_at);
