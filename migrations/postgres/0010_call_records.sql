-- What each call changed, for auditors: the member (or department) as the
-- journal held it before the call, as the call makes it, and why the plan
-- made the call (new, feed_change, leaver, absent, adopt, release,
-- cleanup, …). Calls journaled before this migration keep NULL and ''.
ALTER TABLE calls ADD COLUMN before_record JSONB;
ALTER TABLE calls ADD COLUMN after_record JSONB;
ALTER TABLE calls ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- The new columns are part of a call's intent: fixed once written.
CREATE OR REPLACE FUNCTION journal_guard_calls() RETURNS trigger
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
        NEW.source_ref, NEW.payload, NEW.attempt, NEW.started_at,
        NEW.before_record, NEW.after_record, NEW.reason)
       IS DISTINCT FROM
       (OLD.id, OLD.run_id, OLD.seq, OLD.phase, OLD.operation, OLD.api, OLD.target,
        OLD.source_ref, OLD.payload, OLD.attempt, OLD.started_at,
        OLD.before_record, OLD.after_record, OLD.reason) THEN
        RAISE EXCEPTION 'journal: call % intent cannot change; only its answer is recorded', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

-- member_history gains the reason and the records; columns are appended,
-- as CREATE OR REPLACE VIEW requires.
CREATE OR REPLACE VIEW member_history AS
SELECT c.target AS userid,
       lower(c.target) AS userid_lower,
       c.started_at,
       c.finished_at,
       r.job,
       r.corp_id,
       c.run_id,
       c.operation,
       c.api,
       c.outcome,
       c.errcode,
       c.errmsg,
       c.source_ref,
       c.payload,
       c.reason,
       c.before_record,
       c.after_record
FROM calls c
JOIN runs r ON r.id = c.run_id
WHERE c.api LIKE 'user/%';

-- Each department the importer manages, named by its path of names from
-- the top (总部/研发中心/后端组), to read the WeCom ids in payloads and the
-- HR keys in records. A department whose parent the importer does not
-- manage starts a path.
CREATE VIEW department_paths AS
WITH RECURSIVE p AS (
    SELECT d.corp_id, d.dept_key, d.wecom_id, d.name::text AS path, 1 AS depth
    FROM applied_departments d
    WHERE NOT EXISTS (SELECT 1 FROM applied_departments q
                      WHERE q.corp_id = d.corp_id AND q.wecom_id = d.parent_id)
    UNION ALL
    SELECT d.corp_id, d.dept_key, d.wecom_id, p.path || '/' || d.name, p.depth + 1
    FROM applied_departments d
    JOIN p ON p.corp_id = d.corp_id AND d.parent_id = p.wecom_id
    WHERE p.depth < 16
)
SELECT corp_id, dept_key, wecom_id, path, depth FROM p;

COMMENT ON VIEW department_paths IS
    'Managed departments with their path of names: join on (corp_id, wecom_id) for the ids in payloads, on (corp_id, dept_key) for the keys in records.';
