-- 0011_tags: the WeCom tags (标签) the importer manages and the members it
-- put in them, current state like applied_departments and applied_members;
-- and the auditor views taught about tag calls.

CREATE TABLE applied_tags (
    corp_id    text        NOT NULL,
    name       text        NOT NULL,
    wecom_id   bigint      NOT NULL,
    created    boolean     NOT NULL,
    run_id     bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT applied_tags_pkey PRIMARY KEY (corp_id, name),
    CONSTRAINT applied_tags_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id),
    CONSTRAINT applied_tags_name_check CHECK (name <> '')
);

COMMENT ON TABLE applied_tags IS
    'Current state, not history: each WeCom tag the importer manages, by name, with its WeCom tag id. Updated in the same transaction as the call that caused the change; the history is in calls.';
COMMENT ON COLUMN applied_tags.name IS 'Tag name as the mapping gives it (the tag''s key).';
COMMENT ON COLUMN applied_tags.wecom_id IS 'WeCom tagid.';
COMMENT ON COLUMN applied_tags.created IS 'true: the importer created the tag and deletes it once no row needs it; false: adopted (policy tags_scope authoritative), never deleted.';
COMMENT ON COLUMN applied_tags.run_id IS 'Run that last wrote this row.';

-- A member's row goes with its tag: deleting a tag in WeCom drops its members.
CREATE TABLE applied_tag_members (
    corp_id      text        NOT NULL,
    tag          text        NOT NULL,
    userid_lower text        NOT NULL,
    userid       text        NOT NULL,
    run_id       bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT applied_tag_members_pkey PRIMARY KEY (corp_id, tag, userid_lower),
    CONSTRAINT applied_tag_members_tag_fkey FOREIGN KEY (corp_id, tag) REFERENCES applied_tags (corp_id, name) ON DELETE CASCADE,
    CONSTRAINT applied_tag_members_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id),
    CONSTRAINT applied_tag_members_userid_check CHECK (userid <> '' AND userid_lower <> '')
);

-- Deleting a member drops them from every tag.
CREATE INDEX applied_tag_members_userid_idx ON applied_tag_members (corp_id, userid_lower);

COMMENT ON TABLE applied_tag_members IS
    'Current state, not history: the members WeCom accepted into each managed tag (addtagusers less its invalidlist), removed when deltagusers accepts them, when the member is deleted or when the tag is. The history is in calls.';
COMMENT ON COLUMN applied_tag_members.tag IS 'applied_tags.name of the tag.';
COMMENT ON COLUMN applied_tag_members.userid IS 'userid as sent to WeCom.';

-- A tag create answered "name taken" (40071) and then adopted is, like a
-- member or department create answered "exists", not a failure.
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
            AND NOT (c.errcode IN (60102, 60008, 40071) AND EXISTS (SELECT 1 FROM calls a WHERE a.run_id = c.run_id
                AND a.target = c.target AND a.operation LIKE '%\_adopt' AND a.outcome = 'ok'))) AS calls_failed,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.outcome = 'pending') AS calls_pending,
       (SELECT count(*) FROM rejects j WHERE j.run_id = r.id) AS rows_rejected,
       (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.operation LIKE '%\_adopt' AND c.outcome = 'ok') AS calls_adopted,
       r.run_trigger,
       r.os_user
FROM runs r;

-- A member's history includes the tag calls that name them, one row per
-- member of the call's userlist, with the tag in the new column.
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
       c.after_record,
       NULL::text AS tag
FROM calls c
JOIN runs r ON r.id = c.run_id
WHERE c.api LIKE 'user/%'
UNION ALL
SELECT u.userid,
       lower(u.userid),
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
JOIN runs r ON r.id = c.run_id
CROSS JOIN LATERAL jsonb_array_elements_text(
    CASE WHEN jsonb_typeof(c.payload -> 'userlist') = 'array' THEN c.payload -> 'userlist' ELSE '[]'::jsonb END) AS u(userid)
WHERE c.api IN ('tag/addtagusers', 'tag/deltagusers');

COMMENT ON VIEW member_history IS
    'Every WeCom call about one member, oldest first when ordered by started_at: filter on userid_lower = lower(''zhangsan''). Tag calls naming the member are included, with the tag''s name in tag.';

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

COMMENT ON VIEW tag_history IS
    'Every WeCom call about one tag, by its name (tag), oldest first when ordered by started_at. A partial answer (some members invalid) is ok with the invalid userids in errmsg.';
