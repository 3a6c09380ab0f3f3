-- When a worker token last claimed a job or renewed a lease: the operator's list of workers.
ALTER TABLE tokens ADD COLUMN last_seen_at INTEGER;
