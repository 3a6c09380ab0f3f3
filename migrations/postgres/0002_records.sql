-- Records: sealed digitized copies and signed results that later procedures and other
-- systems reuse. The archive holds the bytes and the manifest; this table finds them.

CREATE TABLE records (
    id               TEXT    PRIMARY KEY,
    kind             TEXT    NOT NULL,
    agency           TEXT    NOT NULL,
    dossier          TEXT,
    component        TEXT,
    scan             BIGINT  UNIQUE REFERENCES scans (id),
    owner_id         TEXT,
    doc_type         TEXT    NOT NULL,
    number           TEXT,
    issue_date       TEXT,
    valid_from       TEXT,
    valid_until      TEXT,
    digest           TEXT    NOT NULL,
    size             BIGINT  NOT NULL,
    manifest_digest  TEXT    NOT NULL,
    summary          TEXT    NOT NULL,
    log_index        BIGINT  UNIQUE,
    status           TEXT    NOT NULL DEFAULT 'active',
    status_reason    TEXT,
    status_by        TEXT,
    status_at        BIGINT,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX records_owner ON records (owner_id, doc_type);
CREATE INDEX records_agency ON records (agency, created_at);

-- Flags a check raised on a component (wrong_type, wrong_owner, low_confidence), as JSON.
ALTER TABLE components ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE components ADD COLUMN record TEXT REFERENCES records (id);
-- True when the record came from an earlier procedure instead of a new scan (indicator 4.3).
ALTER TABLE components ADD COLUMN reused BOOLEAN NOT NULL DEFAULT FALSE;
