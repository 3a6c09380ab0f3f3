-- Times are milliseconds since the Unix epoch, UTC.

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hash        TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL,
    agency      TEXT    NOT NULL,
    label       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE dossier_counters (
    agency TEXT    NOT NULL,
    day    TEXT    NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (agency, day)
);

CREATE TABLE dossiers (
    code            TEXT    PRIMARY KEY,
    agency          TEXT    NOT NULL,
    procedure       TEXT    NOT NULL,
    applicant_kind  TEXT    NOT NULL,
    applicant_id    TEXT    NOT NULL,
    applicant_name  TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    received_at     INTEGER NOT NULL,
    due_at          INTEGER NOT NULL
);
CREATE INDEX dossiers_agency_received ON dossiers (agency, received_at);
CREATE INDEX dossiers_applicant ON dossiers (applicant_id);

CREATE TABLE components (
    dossier    TEXT    NOT NULL REFERENCES dossiers (code),
    component  TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    required   INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    PRIMARY KEY (dossier, component)
);

CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    run_after        INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_until      INTEGER,
    last_error       TEXT,
    result           TEXT,
    idempotency_key  TEXT    NOT NULL UNIQUE,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_after);

CREATE TABLE scans (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier          TEXT    NOT NULL REFERENCES dossiers (code),
    component        TEXT    NOT NULL,
    digest           TEXT    NOT NULL,
    media_type       TEXT    NOT NULL,
    size             INTEGER NOT NULL,
    pages            INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    error_code       TEXT,
    error            TEXT,
    result           TEXT,
    job              INTEGER NOT NULL REFERENCES jobs (id),
    idempotency_key  TEXT    UNIQUE,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX scans_dossier ON scans (dossier, component);
CREATE INDEX scans_job ON scans (job);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    agency      TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_target ON audit (target);
