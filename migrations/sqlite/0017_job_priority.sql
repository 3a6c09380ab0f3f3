-- Desk jobs first: a job's priority, the lower claimed first whatever its age. A desk scan
-- (0) is claimed before the pages of a back-file import (1) queued earlier, so that an
-- import of thousands of pages never keeps a citizen waiting at the desk.
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_ready_priority ON jobs (state, priority, run_after);
