-- Statuses that tell a run's outcome more exactly (see the PostgreSQL
-- migration of the same number). SQLite cannot alter a CHECK constraint;
-- its documented way to change one without rebuilding the table (and every
-- table whose foreign keys name it) is to edit the stored schema text and
-- bump the schema version, which is safe because a CHECK constraint does
-- not change how rows are stored.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql,
    '(''running'', ''done'', ''partial'', ''failed'', ''refused'', ''dry_run'', ''canceled'')',
    '(''running'', ''done'', ''done_with_rejects'', ''partial'', ''failed'', ''refused'', ''dry_run'', ''canceled'', ''superseded'', ''interrupted'')')
WHERE type = 'table' AND name = 'runs';
-- RESET also reloads this connection's schema; the DDL below bumps the
-- schema cookie, so any other open connection reloads it too.
PRAGMA writable_schema = RESET;
CREATE TABLE schema_cookie_bump (x INTEGER);
DROP TABLE schema_cookie_bump;
