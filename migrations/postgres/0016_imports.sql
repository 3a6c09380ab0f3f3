-- Back-file imports: each document of a batch, by the batch's id and the line of its
-- sheet, so that a batch stopped anywhere resumes without importing anything twice.
-- `started` names the record about to be stored; the index is the arbiter of whether it was.
CREATE TABLE import_items (
    batch TEXT NOT NULL,
    line BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('started', 'imported', 'duplicate', 'flagged', 'failed')),
    record TEXT,
    source_digest TEXT,
    reason TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (batch, line)
);
-- Duplicates: the same content in any batch, and the same type, number and issuing agency.
CREATE INDEX import_items_source ON import_items (source_digest, outcome);
CREATE INDEX records_number ON records (agency, doc_type, number);
