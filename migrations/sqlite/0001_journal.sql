-- 0001_journal: the importer's journal (embedded SQLite edition).
--
-- Same tables and meaning as migrations/postgres/0001_journal.sql; see the
-- COMMENT ON statements there for column documentation. Differences forced by
-- SQLite: timestamps are TEXT in UTC, RFC 3339 with microseconds
-- (2006-01-02T15:04:05.000000Z), so they sort as text; JSON is TEXT checked
-- with json_valid; booleans are 0/1. Tables are STRICT so a wrongly typed
-- value is refused instead of silently stored.
--
-- History tables (runs, calls, rejects) are append-only; triggers make the
-- database refuse to delete or rewrite them.
--
-- schema_migrations is created by the migration runner before this file runs.

-- One row per execution of an import job. Finished once, never rewritten.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job           TEXT    NOT NULL,
    corp_id       TEXT    NOT NULL,
    source        TEXT    NOT NULL DEFAULT '',
    source_digest TEXT    NOT NULL DEFAULT '',   -- sha256 of the source bytes when known
    mode          TEXT    NOT NULL DEFAULT 'run', -- run, dry_run, resume
    status        TEXT    NOT NULL DEFAULT 'running',
    resumed_from  INTEGER CONSTRAINT runs_resumed_from_fkey REFERENCES runs (id),
    host          TEXT    NOT NULL DEFAULT '',
    started_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at   TEXT,
    counts        TEXT    NOT NULL DEFAULT '{}',  -- {"user_create/ok": 12, "rejected": 2}
    CONSTRAINT runs_status_check CHECK (status IN
        ('running', 'done', 'partial', 'failed', 'refused', 'dry_run', 'canceled')),
    CONSTRAINT runs_finished_check CHECK ((status = 'running') = (finished_at IS NULL)),
    CONSTRAINT runs_counts_check CHECK (json_valid(counts) AND json_type(counts) = 'object')
) STRICT;

CREATE INDEX runs_started_at_idx ON runs (started_at DESC, id DESC);

-- One row per WeCom API call attempt, written before the request is sent
-- (outcome pending) and completed with WeCom's answer. A pending row after a
-- run ended means no answer was recorded; resume reconciles it against WeCom.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL CONSTRAINT calls_run_id_fkey REFERENCES runs (id),
    seq         INTEGER NOT NULL,               -- position in the run's plan
    phase       TEXT    NOT NULL DEFAULT '',    -- departments, members, leaders, leavers, cleanup
    operation   TEXT    NOT NULL,               -- e.g. user_create
    api         TEXT    NOT NULL DEFAULT '',    -- WeCom API path, e.g. user/update
    target      TEXT    NOT NULL DEFAULT '',    -- userid or HR department key
    source_ref  TEXT    NOT NULL DEFAULT '',    -- HR row that asked for it: file:line, sheet!row
    payload     TEXT,                           -- request body sent (no access token)
    attempt     INTEGER NOT NULL DEFAULT 1,
    outcome     TEXT    NOT NULL DEFAULT 'pending',
    errcode     INTEGER NOT NULL DEFAULT 0,     -- WeCom errcode, 0 = success
    errmsg      TEXT    NOT NULL DEFAULT '',
    started_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at TEXT,
    CONSTRAINT calls_outcome_check CHECK (outcome IN ('pending', 'ok', 'failed')),
    CONSTRAINT calls_finished_check CHECK ((outcome = 'pending') = (finished_at IS NULL)),
    CONSTRAINT calls_attempt_check CHECK (attempt >= 0),
    CONSTRAINT calls_payload_check CHECK (payload IS NULL OR json_valid(payload))
) STRICT;

CREATE INDEX calls_run_id_seq_idx ON calls (run_id, seq);
CREATE INDEX calls_target_idx ON calls (target);

-- HR source rows refused before any WeCom call, with the row, column and rule.
CREATE TABLE rejects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL CONSTRAINT rejects_run_id_fkey REFERENCES runs (id),
    source_ref  TEXT    NOT NULL DEFAULT '',
    column_name TEXT    NOT NULL DEFAULT '',
    rule        TEXT    NOT NULL DEFAULT '',
    message     TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

CREATE INDEX rejects_run_id_idx ON rejects (run_id, id);

-- Current state, not history: per HR department key, the WeCom department id
-- and what was last pushed. Changed in the same transaction as the call that
-- caused the change.
CREATE TABLE applied_departments (
    corp_id    TEXT    NOT NULL,
    dept_key   TEXT    NOT NULL,
    wecom_id   INTEGER NOT NULL,
    parent_id  INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    run_id     INTEGER NOT NULL CONSTRAINT applied_departments_run_id_fkey REFERENCES runs (id),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT applied_departments_pkey PRIMARY KEY (corp_id, dept_key),
    CONSTRAINT applied_departments_key_check CHECK (dept_key <> ''),
    CONSTRAINT applied_departments_sort_order_check CHECK (sort_order BETWEEN 0 AND 4294967295)
) STRICT;

-- Current state, not history: the member payload last pushed per userid
-- (userids compare case-insensitively, hence userid_lower).
CREATE TABLE applied_members (
    corp_id      TEXT    NOT NULL,
    userid_lower TEXT    NOT NULL,
    userid       TEXT    NOT NULL,
    payload      TEXT,
    hash         TEXT    NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL,
    run_id       INTEGER NOT NULL CONSTRAINT applied_members_run_id_fkey REFERENCES runs (id),
    updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT applied_members_pkey PRIMARY KEY (corp_id, userid_lower),
    CONSTRAINT applied_members_userid_check CHECK (userid <> '' AND userid_lower <> ''),
    CONSTRAINT applied_members_enabled_check CHECK (enabled IN (0, 1)),
    CONSTRAINT applied_members_payload_check CHECK (payload IS NULL OR json_valid(payload))
) STRICT;

-- WeCom calls that failed or never got an answer, with their run's job and corp.
CREATE VIEW call_failures AS
SELECT c.id AS call_id,
       c.run_id,
       r.job,
       r.corp_id,
       c.seq,
       c.phase,
       c.operation,
       c.api,
       c.target,
       c.source_ref,
       c.attempt,
       c.outcome,
       c.errcode,
       c.errmsg,
       c.payload,
       c.started_at,
       c.finished_at
FROM calls c
JOIN runs r ON r.id = c.run_id
WHERE c.outcome IN ('failed', 'pending');

-- History guards.
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN
    SELECT RAISE(ABORT, 'journal: runs cannot be deleted: the journal is append-only');
END;

CREATE TRIGGER runs_no_rewrite BEFORE UPDATE ON runs
WHEN OLD.status <> 'running'
BEGIN
    SELECT RAISE(ABORT, 'journal: run is already finished and cannot be rewritten');
END;

CREATE TRIGGER runs_identity_fixed BEFORE UPDATE ON runs
WHEN NEW.id IS NOT OLD.id OR NEW.job IS NOT OLD.job OR NEW.corp_id IS NOT OLD.corp_id
  OR NEW.source IS NOT OLD.source OR NEW.source_digest IS NOT OLD.source_digest
  OR NEW.mode IS NOT OLD.mode OR NEW.resumed_from IS NOT OLD.resumed_from
  OR NEW.host IS NOT OLD.host OR NEW.started_at IS NOT OLD.started_at
BEGIN
    SELECT RAISE(ABORT, 'journal: run identity cannot change; only its end is recorded');
END;

CREATE TRIGGER calls_no_delete BEFORE DELETE ON calls
BEGIN
    SELECT RAISE(ABORT, 'journal: calls cannot be deleted: the journal is append-only');
END;

CREATE TRIGGER calls_no_rewrite BEFORE UPDATE ON calls
WHEN OLD.outcome <> 'pending'
BEGIN
    SELECT RAISE(ABORT, 'journal: call is already completed and cannot be rewritten');
END;

CREATE TRIGGER calls_intent_fixed BEFORE UPDATE ON calls
WHEN NEW.id IS NOT OLD.id OR NEW.run_id IS NOT OLD.run_id OR NEW.seq IS NOT OLD.seq
  OR NEW.phase IS NOT OLD.phase OR NEW.operation IS NOT OLD.operation
  OR NEW.api IS NOT OLD.api OR NEW.target IS NOT OLD.target
  OR NEW.source_ref IS NOT OLD.source_ref OR NEW.payload IS NOT OLD.payload
  OR NEW.attempt IS NOT OLD.attempt OR NEW.started_at IS NOT OLD.started_at
BEGIN
    SELECT RAISE(ABORT, 'journal: call intent cannot change; only its answer is recorded');
END;

CREATE TRIGGER rejects_no_update BEFORE UPDATE ON rejects
BEGIN
    SELECT RAISE(ABORT, 'journal: rejects cannot be changed: the journal is append-only');
END;

CREATE TRIGGER rejects_no_delete BEFORE DELETE ON rejects
BEGIN
    SELECT RAISE(ABORT, 'journal: rejects cannot be deleted: the journal is append-only');
END;
