-- The transparency log: one leaf per record, in `records.log_index` order. Every perfect
-- subtree's hash is kept (level 0 holds the leaves), so the root and the proofs of any tree
-- size read O(log n) rows. The tree size is the number of leaves. Rows are never changed.

CREATE TABLE tlog_nodes (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA  NOT NULL,
    PRIMARY KEY (level, idx)
);
