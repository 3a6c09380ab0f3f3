-- A job belongs to the agency of the dossier whose scan it processes: workers claim and
-- finish, and admins list and requeue, only their agency's jobs.
ALTER TABLE jobs ADD COLUMN agency TEXT NOT NULL DEFAULT '';
UPDATE jobs SET agency = COALESCE(
    (SELECT d.agency FROM scans s JOIN dossiers d ON d.code = s.dossier WHERE s.id = (jobs.payload::jsonb ->> 'scan')::bigint),
    '');
CREATE INDEX jobs_agency_ready ON jobs (agency, state, run_after);
