-- 0011_tags: the tags the importer manages and their members, and the
-- auditor views taught about tag calls; see the PostgreSQL migration of
-- the same number for the meaning of each column.

CREATE TABLE applied_tags (
    corp_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    wecom_id   INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    run_id     INTEGER NOT NULL CONSTRAINT applied_tags_run_id_fkey REFERENCES runs (id),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT applied_tags_pkey PRIMARY KEY (corp_id, name),
    CONSTRAINT applied_tags_name_check CHECK (name <> ''),
    CONSTRAINT applied_tags_created_check CHECK (created IN (0, 1))
) STRICT;

CREATE TABLE applied_tag_members (
    corp_id      TEXT    NOT NULL,
    tag          TEXT    NOT NULL,
    userid_lower TEXT    NOT NULL,
    userid       TEXT    NOT NULL,
    run_id       INTEGER NOT NULL CONSTRAINT applied_tag_members_run_id_fkey REFERENCES runs (id),
    updated_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT applied_tag_members_pkey PRIMARY KEY (corp_id, tag, userid_lower),
    CONSTRAINT applied_tag_members_tag_fkey FOREIGN KEY (corp_id, tag) REFERENCES applied_tags (corp_id, name) ON DELETE CASCADE,
    CONSTRAINT applied_tag_members_userid_check CHECK (userid <> '' AND userid_lower <> '')
) STRICT;

CREATE INDEX applied_tag_members_userid_idx ON applied_tag_members (corp_id, userid_lower);

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
            AND NOT (c.errcode IN (60102, 60008, 40071) AND EXISTS (SELECT 1 FROM calls a WHERE a.run_id = c.run_id
                AND a.target = c.target AND a.operation LIKE '%\_adopt' ESCAPE '\' AND a.outcome = 'ok'))) AS calls_failed,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'pending') AS calls_pending,
       (SELECT count(*) FROM rejects j WHERE j.run_id = r.id) AS rows_rejected,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.operation LIKE '%\_adopt' ESCAPE '\' AND c.outcome = 'ok') AS calls_adopted,
       r.run_trigger,
       r.os_user
FROM runs r;

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
       c.after_record,
       NULL AS tag
FROM calls c
JOIN runs r ON r.id = c.run_id
WHERE c.api LIKE 'user/%'
UNION ALL
SELECT u.value,
       lower(u.value),
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
       c.after_record,
       c.target
FROM calls c
JOIN runs r ON r.id = c.run_id,
     json_each(c.payload, '$.userlist') u
WHERE c.api IN ('tag/addtagusers', 'tag/deltagusers');

CREATE VIEW tag_history AS
SELECT c.target AS tag,
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
       c.payload
FROM calls c
JOIN runs r ON r.id = c.run_id
WHERE c.api LIKE 'tag/%';
