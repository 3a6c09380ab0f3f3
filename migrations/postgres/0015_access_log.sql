-- The access log: one row per read of a record (its metadata, content, manifest or proof, a
-- lookup that returned it, a reuse that accepted it), numbered without gaps from 0. Each row
-- is a leaf of a second Merkle tree (`access_nodes`, laid out as `tlog_nodes`), so a row
-- changed after a signed checkpoint no longer hashes to its leaf. Rows are never changed.

CREATE TABLE access_log (
    seq           BIGINT PRIMARY KEY,
    at            BIGINT NOT NULL,
    token_id      BIGINT NOT NULL,
    token_label   TEXT   NOT NULL,
    role          TEXT   NOT NULL,
    agency        TEXT   NOT NULL,
    record_id     TEXT   NOT NULL,
    record_agency TEXT   NOT NULL,
    owner_id      TEXT,
    read          TEXT   NOT NULL,
    purpose       TEXT,
    request_id    TEXT   NOT NULL
);
-- An owner's reads, newest first, of one agency's records.
CREATE INDEX access_log_owner ON access_log (owner_id, record_agency, seq);

CREATE TABLE access_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA  NOT NULL,
    PRIMARY KEY (level, idx)
);
