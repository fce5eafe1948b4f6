-- 0001_journal: the importer's journal.
--
-- The journal is both the audit trail (who changed what in the WeCom
-- directory, when, with which answer) and the importer's memory of what it
-- last pushed, so an interrupted run can be resumed without repeating work.
-- History tables (runs, calls, rejects) are append-only; triggers below make
-- the database itself refuse to delete or rewrite them, so the guarantee does
-- not depend on every client being well behaved.
--
-- schema_migrations is created by the migration runner before this file runs
-- (it must exist to record this very file); it is only documented here.

COMMENT ON TABLE schema_migrations IS
    'Journal schema versions applied by the importer''s migration runner (files in migrations/postgres).';

CREATE TABLE runs (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    job           text        NOT NULL,
    corp_id       text        NOT NULL,
    source        text        NOT NULL DEFAULT '',
    source_digest text        NOT NULL DEFAULT '',
    mode          text        NOT NULL DEFAULT 'run',
    status        text        NOT NULL DEFAULT 'running',
    resumed_from  bigint,
    host          text        NOT NULL DEFAULT '',
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    counts        jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT runs_pkey PRIMARY KEY (id),
    CONSTRAINT runs_resumed_from_fkey FOREIGN KEY (resumed_from) REFERENCES runs (id),
    CONSTRAINT runs_status_check CHECK (status IN
        ('running', 'done', 'partial', 'failed', 'refused', 'dry_run', 'canceled')),
    -- A run is finished exactly when it has left 'running'; a row with one
    -- but not the other would make "is this run still going?" ambiguous.
    CONSTRAINT runs_finished_check CHECK ((status = 'running') = (finished_at IS NULL)),
    CONSTRAINT runs_counts_check CHECK (jsonb_typeof(counts) = 'object')
);

CREATE INDEX runs_started_at_idx ON runs (started_at DESC, id DESC);

COMMENT ON TABLE runs IS
    'One row per execution of an import job (scheduled, manual, dry run or resume). Append-only: a run is finished once and never rewritten afterwards.';
COMMENT ON COLUMN runs.job IS 'Job name from the importer configuration.';
COMMENT ON COLUMN runs.corp_id IS 'WeCom corp (企业) the run wrote to.';
COMMENT ON COLUMN runs.source IS 'Human description of the HR source, e.g. a file path or view name.';
COMMENT ON COLUMN runs.source_digest IS 'sha256 of the source bytes when known, to prove which export was applied.';
COMMENT ON COLUMN runs.mode IS 'run, dry_run or resume.';
COMMENT ON COLUMN runs.status IS 'running while in progress; then done, partial (some rows or calls failed), failed, refused (safety rule), dry_run or canceled.';
COMMENT ON COLUMN runs.resumed_from IS 'For a resume, the run whose unfinished work this run picked up.';
COMMENT ON COLUMN runs.host IS 'Host the importer ran on.';
COMMENT ON COLUMN runs.counts IS 'Summary counters, e.g. {"user_create/ok": 12, "rejected": 2}.';

CREATE TABLE calls (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    run_id      bigint      NOT NULL,
    seq         integer     NOT NULL,
    phase       text        NOT NULL DEFAULT '',
    operation   text        NOT NULL,
    api         text        NOT NULL DEFAULT '',
    target      text        NOT NULL DEFAULT '',
    source_ref  text        NOT NULL DEFAULT '',
    payload     jsonb,
    attempt     integer     NOT NULL DEFAULT 1,
    outcome     text        NOT NULL DEFAULT 'pending',
    errcode     integer     NOT NULL DEFAULT 0,
    errmsg      text        NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CONSTRAINT calls_pkey PRIMARY KEY (id),
    CONSTRAINT calls_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id),
    CONSTRAINT calls_outcome_check CHECK (outcome IN ('pending', 'ok', 'failed')),
    CONSTRAINT calls_finished_check CHECK ((outcome = 'pending') = (finished_at IS NULL)),
    CONSTRAINT calls_attempt_check CHECK (attempt >= 0)
);

CREATE INDEX calls_run_id_seq_idx ON calls (run_id, seq);
CREATE INDEX calls_target_idx ON calls (target);

COMMENT ON TABLE calls IS
    'One row per WeCom API call attempt, written before the request is sent (outcome pending) and completed with WeCom''s answer. A pending row after a run ended means the answer was never received: the importer reconciles it against WeCom on resume. Rows are never deleted, and never changed once completed.';
COMMENT ON COLUMN calls.seq IS 'Position of the operation in the run''s plan.';
COMMENT ON COLUMN calls.phase IS 'Plan phase: departments, members, leaders, leavers or cleanup.';
COMMENT ON COLUMN calls.operation IS 'What the importer meant to do, e.g. user_create, department_delete.';
COMMENT ON COLUMN calls.api IS 'WeCom API path called, e.g. user/update.';
COMMENT ON COLUMN calls.target IS 'userid or HR department key the call acted on.';
COMMENT ON COLUMN calls.source_ref IS 'HR source row that asked for the change (file:line, sheet!row or view key); empty when none.';
COMMENT ON COLUMN calls.payload IS 'Request body sent to WeCom (no access token). Stored as jsonb: key order and spacing are normalized.';
COMMENT ON COLUMN calls.attempt IS 'Attempt number for the same operation (retries are separate rows).';
COMMENT ON COLUMN calls.outcome IS 'pending (sent or about to be, no answer recorded), ok, or failed.';
COMMENT ON COLUMN calls.errcode IS 'WeCom errcode of the answer (0 = success); see the WeCom error code reference.';
COMMENT ON COLUMN calls.errmsg IS 'WeCom errmsg, or the transport error when no answer arrived.';

CREATE TABLE rejects (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    run_id      bigint      NOT NULL,
    source_ref  text        NOT NULL DEFAULT '',
    column_name text        NOT NULL DEFAULT '',
    rule        text        NOT NULL DEFAULT '',
    message     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rejects_pkey PRIMARY KEY (id),
    CONSTRAINT rejects_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id)
);

CREATE INDEX rejects_run_id_idx ON rejects (run_id, id);

COMMENT ON TABLE rejects IS
    'HR source rows the importer refused before calling WeCom (bad field, duplicate, feed-level rule), with the row, column and rule. Append-only.';
COMMENT ON COLUMN rejects.source_ref IS 'The refused row: file:line, sheet!row or view key.';
COMMENT ON COLUMN rejects.column_name IS 'Source column at fault; empty for whole-row or feed-level rules.';
COMMENT ON COLUMN rejects.rule IS 'Name of the validation rule that refused the row.';

CREATE TABLE applied_departments (
    corp_id    text        NOT NULL,
    dept_key   text        NOT NULL,
    wecom_id   bigint      NOT NULL,
    parent_id  bigint      NOT NULL,
    name       text        NOT NULL,
    sort_order bigint      NOT NULL DEFAULT 0,
    run_id     bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT applied_departments_pkey PRIMARY KEY (corp_id, dept_key),
    CONSTRAINT applied_departments_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id),
    CONSTRAINT applied_departments_key_check CHECK (dept_key <> ''),
    -- WeCom's department order is an unsigned 32-bit number.
    CONSTRAINT applied_departments_sort_order_check CHECK (sort_order BETWEEN 0 AND 4294967295)
);

COMMENT ON TABLE applied_departments IS
    'Current state, not history: for each HR department the importer manages, the WeCom department id it maps to and what was last pushed. Updated in the same transaction as the call that caused the change; the history of changes is in calls.';
COMMENT ON COLUMN applied_departments.dept_key IS 'Stable HR key of the department (full path or HR code).';
COMMENT ON COLUMN applied_departments.wecom_id IS 'WeCom department id assigned to this HR department.';
COMMENT ON COLUMN applied_departments.parent_id IS 'WeCom id of the parent department.';
COMMENT ON COLUMN applied_departments.run_id IS 'Run that last wrote this row.';

CREATE TABLE applied_members (
    corp_id      text        NOT NULL,
    userid_lower text        NOT NULL,
    userid       text        NOT NULL,
    -- json, not jsonb: the hash column is a digest of exactly these bytes, and
    -- jsonb would re-order keys and drop spacing on the way in.
    payload      json,
    hash         text        NOT NULL DEFAULT '',
    enabled      boolean     NOT NULL,
    run_id       bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT applied_members_pkey PRIMARY KEY (corp_id, userid_lower),
    CONSTRAINT applied_members_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id),
    CONSTRAINT applied_members_userid_check CHECK (userid <> '' AND userid_lower <> '')
);

COMMENT ON TABLE applied_members IS
    'Current state, not history: the member payload the importer last pushed to WeCom for each userid (WeCom userids compare case-insensitively, hence userid_lower). Needed because WeCom may refuse to return member details (errcode 48009). Updated in the same transaction as the call that caused the change; the history is in calls.';
COMMENT ON COLUMN applied_members.userid IS 'userid as last sent to WeCom.';
COMMENT ON COLUMN applied_members.payload IS 'Full member payload last pushed.';
COMMENT ON COLUMN applied_members.hash IS 'Digest of the canonical form of payload, to detect changes cheaply.';
COMMENT ON COLUMN applied_members.enabled IS 'false when the importer disabled the member (leaver policy "disable").';
COMMENT ON COLUMN applied_members.run_id IS 'Run that last wrote this row.';

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

COMMENT ON VIEW call_failures IS
    'WeCom calls that failed or never got an answer (pending), with their run''s job and corp. Pending rows of a run that is still running are in flight, not lost.';

-- History guards. They raise restrict_violation (SQLSTATE 23001). An operator
-- who must purge old history (retention policy) does so deliberately with
-- ALTER TABLE ... DISABLE TRIGGER, which is itself visible in the server log.

CREATE FUNCTION journal_guard_runs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'journal: run % cannot be deleted: the journal is append-only', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status <> 'running' THEN
        RAISE EXCEPTION 'journal: run % is already finished (%) and cannot be rewritten', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.job, NEW.corp_id, NEW.source, NEW.source_digest, NEW.mode,
        NEW.resumed_from, NEW.host, NEW.started_at)
       IS DISTINCT FROM
       (OLD.id, OLD.job, OLD.corp_id, OLD.source, OLD.source_digest, OLD.mode,
        OLD.resumed_from, OLD.host, OLD.started_at) THEN
        RAISE EXCEPTION 'journal: run % identity cannot change; only its end is recorded', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER runs_append_only
    BEFORE UPDATE OR DELETE ON runs
    FOR EACH ROW EXECUTE FUNCTION journal_guard_runs();

CREATE FUNCTION journal_guard_calls() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'journal: call % cannot be deleted: the journal is append-only', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.outcome <> 'pending' THEN
        RAISE EXCEPTION 'journal: call % is already completed (%) and cannot be rewritten', OLD.id, OLD.outcome
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.run_id, NEW.seq, NEW.phase, NEW.operation, NEW.api, NEW.target,
        NEW.source_ref, NEW.payload, NEW.attempt, NEW.started_at)
       IS DISTINCT FROM
       (OLD.id, OLD.run_id, OLD.seq, OLD.phase, OLD.operation, OLD.api, OLD.target,
        OLD.source_ref, OLD.payload, OLD.attempt, OLD.started_at) THEN
        RAISE EXCEPTION 'journal: call % intent cannot change; only its answer is recorded', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER calls_append_only
    BEFORE UPDATE OR DELETE ON calls
    FOR EACH ROW EXECUTE FUNCTION journal_guard_calls();

CREATE FUNCTION journal_guard_rejects() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal: reject % cannot be changed or deleted: the journal is append-only', OLD.id
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER rejects_append_only
    BEFORE UPDATE OR DELETE ON rejects
    FOR EACH ROW EXECUTE FUNCTION journal_guard_rejects();
