-- What each call changed, for auditors; see the PostgreSQL migration of
-- the same number.
ALTER TABLE calls ADD COLUMN before_record TEXT;
ALTER TABLE calls ADD COLUMN after_record TEXT;
ALTER TABLE calls ADD COLUMN reason TEXT NOT NULL DEFAULT '';

CREATE TRIGGER calls_records_fixed BEFORE UPDATE ON calls
WHEN NEW.before_record IS NOT OLD.before_record OR NEW.after_record IS NOT OLD.after_record
  OR NEW.reason IS NOT OLD.reason
BEGIN
    SELECT RAISE(ABORT, 'journal: call intent cannot change; only its answer is recorded');
END;

DROP VIEW member_history;
CREATE VIEW member_history AS
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

CREATE VIEW department_paths AS
WITH RECURSIVE p(corp_id, dept_key, wecom_id, path, depth) AS (
    SELECT d.corp_id, d.dept_key, d.wecom_id, d.name, 1
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
