-- A dossier's records (export, listing by dossier) without scanning every record.
CREATE INDEX records_dossier ON records (dossier) WHERE dossier IS NOT NULL;
