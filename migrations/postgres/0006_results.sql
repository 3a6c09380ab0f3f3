-- Result documents of a dossier (the certificate or licence the procedure issues): attached
-- as a PDF, signed by officials (each signature an incremental update, a new version), then
-- issued as a record.

CREATE TABLE results (
    id          TEXT    PRIMARY KEY,
    agency      TEXT    NOT NULL,
    dossier     TEXT    NOT NULL REFERENCES dossiers (code),
    doc_type    TEXT    NOT NULL,
    number      TEXT,
    -- The current version: the latest signed bytes.
    digest      TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    signatures  BIGINT  NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'draft',
    record      TEXT    REFERENCES records (id),
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX results_dossier ON results (dossier);

-- Every version of a result, oldest first: what was attached and each signature after it.
CREATE TABLE result_versions (
    result      TEXT    NOT NULL REFERENCES results (id),
    seq         BIGINT  NOT NULL,
    digest      TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    -- `attached`, `signed` (server-held key) or `signed_deferred` (the official's token).
    event       TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    signer      TEXT,
    at          BIGINT  NOT NULL,
    PRIMARY KEY (result, seq)
);

-- Deferred signing: the signed attributes handed to the official's token, bound to the
-- version they sign, until the signature comes back or the session expires.
CREATE TABLE signing_sessions (
    id                 TEXT    PRIMARY KEY,
    result             TEXT    NOT NULL REFERENCES results (id),
    base_digest        TEXT    NOT NULL,
    certificate        BYTEA   NOT NULL,
    -- Everything needed to prepare the same signature field again, as JSON.
    spec               TEXT    NOT NULL,
    signed_attributes  BYTEA   NOT NULL,
    actor              TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    expires_at         BIGINT  NOT NULL,
    used_at            BIGINT
);
