-- Leases on the service's singleton duties (the scheduled fixity pass, signature renewal):
-- one holder (a replica) at a time, until `expires_at` (Unix milliseconds); an expired lease
-- may be taken by another holder.
CREATE TABLE leases (
    name         TEXT    PRIMARY KEY,
    holder       TEXT    NOT NULL,
    acquired_at  INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
