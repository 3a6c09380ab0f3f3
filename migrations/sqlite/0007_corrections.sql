-- Corrections of a scan's type or fields by the desk: the labelled data that classification
-- and extraction are evaluated against. The corrected record supersedes the sealed one.

CREATE TABLE corrections (
    id          INTEGER PRIMARY KEY,
    agency      TEXT    NOT NULL,
    scan        INTEGER NOT NULL REFERENCES scans (id),
    old_record  TEXT    NOT NULL REFERENCES records (id),
    new_record  TEXT    NOT NULL REFERENCES records (id),
    -- {"doc_type": ..., "fields": {...}}: the label as the desk gave it.
    label       TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX corrections_agency ON corrections (agency, id);
