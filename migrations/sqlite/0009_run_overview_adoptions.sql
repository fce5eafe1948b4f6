-- run_overview counts adopted creates honestly; see the PostgreSQL
-- migration of the same number.
DROP VIEW run_overview;
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
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'failed'
            AND NOT (c.errcode IN (60102, 60008) AND EXISTS (SELECT 1 FROM calls a WHERE a.run_id = c.run_id
                AND a.target = c.target AND a.operation LIKE '%\_adopt' ESCAPE '\' AND a.outcome = 'ok'))) AS calls_failed,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'pending') AS calls_pending,
       (SELECT count(*) FROM rejects j WHERE j.run_id = r.id) AS rows_rejected,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.operation LIKE '%\_adopt' ESCAPE '\' AND c.outcome = 'ok') AS calls_adopted,
       r.run_trigger,
       r.os_user
FROM runs r;
