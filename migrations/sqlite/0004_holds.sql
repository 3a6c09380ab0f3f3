-- Legal holds: while one is in force on a record or on its dossier, the record cannot be
-- disposed of. Released holds stay, with who released them and when.

CREATE TABLE holds (
    id           INTEGER PRIMARY KEY,
    agency       TEXT    NOT NULL,
    -- `record:<id>` or `dossier:<code>`.
    target       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    placed_by    TEXT    NOT NULL,
    placed_at    INTEGER NOT NULL,
    released_by  TEXT,
    released_at  INTEGER
);
CREATE INDEX holds_target ON holds (target) WHERE released_at IS NULL;
CREATE INDEX holds_agency ON holds (agency, placed_at);

-- The newer record that replaced a superseded one.
ALTER TABLE records ADD COLUMN superseded_by TEXT REFERENCES records (id);
