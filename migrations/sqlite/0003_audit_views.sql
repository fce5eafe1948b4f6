-- Views for auditors; see migrations/postgres/0003_audit_views.sql for the
-- meaning of each column. SQLite has no COMMENT ON, so docs/journal.md
-- carries the descriptions.

CREATE VIEW run_overview AS
SELECT r.id AS run_id,
       r.job,
       r.corp_id,
       r.mode,
       r.status,
       r.resumed_from,
       r.host,
       r.source,
       r.source_digest,
       r.started_at,
       r.finished_at,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id) AS calls,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'ok') AS calls_ok,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'failed') AS calls_failed,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'pending') AS calls_pending,
       (SELECT count(*) FROM rejects j WHERE j.run_id = r.id) AS rows_rejected
FROM runs r;

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
       c.payload
FROM calls c
JOIN runs r ON r.id = c.run_id
WHERE c.api LIKE 'user/%';

CREATE VIEW errcode_totals AS
SELECT c.run_id,
       c.api,
       c.errcode,
       c.outcome,
       count(*) AS calls
FROM calls c
WHERE c.errcode <> 0
GROUP BY c.run_id, c.api, c.errcode, c.outcome;
