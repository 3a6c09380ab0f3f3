-- What the scan quality gate found when the scan was uploaded (JSON: rescan_advised,
-- findings with a Vietnamese reason each, and the measures of each page); NULL for scans
-- uploaded before the gate.
ALTER TABLE scans ADD COLUMN quality TEXT;
