-- Who started a run and with what, for auditors: what triggered it (manual,
-- schedule, resume), the operating-system user, the importer's version
-- and the digest of the config file it ran with. Older runs keep ''.
ALTER TABLE runs ADD COLUMN run_trigger TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN os_user TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN importer_version TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN config_digest TEXT NOT NULL DEFAULT '';
