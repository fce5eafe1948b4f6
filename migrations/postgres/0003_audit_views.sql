-- Views for auditors: who changed what, when, with which result, in plain SQL.
-- They read the append-only tables only; nothing here stores data.

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
       r.finished_at - r.started_at AS duration,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id) AS calls,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'ok') AS calls_ok,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'failed') AS calls_failed,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'pending') AS calls_pending,
       (SELECT count(*) FROM rejects j WHERE j.run_id = r.id) AS rows_rejected
FROM runs r;

COMMENT ON VIEW run_overview IS
    'One row per run with its call and reject totals; calls_pending > 0 on a finished run means the process died with calls in flight (a resume reconciles them).';

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

COMMENT ON VIEW member_history IS
    'Every WeCom call about one member, oldest first when ordered by started_at: filter on userid_lower = lower(''zhangsan'').';

CREATE VIEW errcode_totals AS
SELECT c.run_id,
       c.api,
       c.errcode,
       c.outcome,
       count(*) AS calls
FROM calls c
WHERE c.errcode <> 0
GROUP BY c.run_id, c.api, c.errcode, c.outcome;

COMMENT ON VIEW errcode_totals IS
    'Non-zero WeCom errcodes per run and API. outcome ok with an errcode means the intent held anyway (deleting what was already gone).';
