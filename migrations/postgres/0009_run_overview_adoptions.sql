-- run_overview counted a create that WeCom answered "exists" (60102,
-- 60008) as a failed call although the importer then adopted the member or
-- department: calls_failed now leaves those out and calls_adopted counts
-- them; the run's trigger and user come along. Columns are only appended,
-- as CREATE OR REPLACE VIEW requires.
CREATE OR REPLACE VIEW run_overview AS
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
       r.finished_at - r.started_at AS duration,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id) AS calls,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'ok') AS calls_ok,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'failed'
            AND NOT (c.errcode IN (60102, 60008) AND EXISTS (SELECT 1 FROM calls a WHERE a.run_id = c.run_id
                AND a.target = c.target AND a.operation LIKE '%\_adopt' AND a.outcome = 'ok'))) AS calls_failed,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'pending') AS calls_pending,
       (SELECT count(*) FROM rejects j WHERE j.run_id = r.id) AS rows_rejected,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.operation LIKE '%\_adopt' AND c.outcome = 'ok') AS calls_adopted,
       r.run_trigger,
       r.os_user
FROM runs r;

COMMENT ON VIEW run_overview IS
    'One row per run with its call and reject totals; calls_failed leaves out creates answered "exists" that were adopted (calls_adopted); calls_pending > 0 on a finished run means the process died with calls in flight (the next run settles them).';
