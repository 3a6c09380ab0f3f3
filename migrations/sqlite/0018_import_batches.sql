-- Back-file batches posted to the service (`POST /api/v1/imports`): the files are in the
-- archive, named with their digests in `spec` (JSON: files, sheet, options); the batch is
-- written once it is stored completely, and `running` until the replica holding the
-- `imports` lease has an outcome for every document (`done`, with `report`) or cannot run it
-- at all (`failed`, with `error`). A replica that takes the lease resumes what is running.
CREATE TABLE import_batches (
    id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    by_name TEXT NOT NULL,
    spec TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    report TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX import_batches_state ON import_batches (state, created_at);
