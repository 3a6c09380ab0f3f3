-- Fixity passes over the archive: counts for queries, the whole report as JSON.
-- Numbered 0005 to leave 0003 and 0004 to migrations developed alongside; sqlx applies the
-- migrations it finds in version order and does not require the numbers to be contiguous.

CREATE TABLE fixity_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    checked      INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    missing      INTEGER NOT NULL,
    corrupt      INTEGER NOT NULL,
    restored     INTEGER NOT NULL,
    report       TEXT    NOT NULL
);
CREATE INDEX fixity_runs_finished ON fixity_runs (finished_at);
