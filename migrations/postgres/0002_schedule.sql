-- 0002_schedule: coordination between `importer serve` replicas.
--
-- Several replicas may serve the same jobs against one journal. Two
-- mechanisms keep a job from running twice:
--   * schedule_occurrences: the first replica to insert the row for a
--     (job, scheduled time) owns that occurrence; the others see the
--     conflict and stand down. This is what makes "each occurrence runs
--     once" hold even when one replica finishes a short run before another,
--     whose clock is a little behind, wakes up for the same occurrence.
--   * a session-level advisory lock per job (key: class 0x68726665, object =
--     FNV-32a of the job name), held for the whole run by whoever runs the
--     job, scheduled or manual. PostgreSQL drops it when the holder's
--     session ends, so a replica that dies cannot keep a job locked.
-- job_leases records who holds that lock and proves, by a heartbeat, that
-- the holder is alive; a run whose lease stopped beating is abandoned and
-- another replica resumes it.

CREATE TABLE schedule_occurrences (
    job          text        NOT NULL,
    scheduled_at timestamptz NOT NULL,
    claimed_by   text        NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    outcome      text        NOT NULL DEFAULT 'claimed',
    run_id       bigint,
    CONSTRAINT schedule_occurrences_pkey PRIMARY KEY (job, scheduled_at),
    CONSTRAINT schedule_occurrences_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id),
    CONSTRAINT schedule_occurrences_outcome_check CHECK (outcome IN ('claimed', 'ran', 'busy', 'error'))
);

COMMENT ON TABLE schedule_occurrences IS
    'One row per scheduled occurrence of a job that some serve replica claimed. The primary key is the claim: the replica whose INSERT succeeded runs the occurrence, the others skip it. Rows are small (one per job per occurrence); prune old ones at will.';
COMMENT ON COLUMN schedule_occurrences.scheduled_at IS 'The time the cron spec named (not when a replica woke up), so every replica computes the same key.';
COMMENT ON COLUMN schedule_occurrences.claimed_by IS 'Replica that claimed it: host:pid.';
COMMENT ON COLUMN schedule_occurrences.outcome IS 'claimed (in progress or the replica died before starting), ran (run_id set), busy (the job was already running: skipped), error (the run could not start).';
COMMENT ON COLUMN schedule_occurrences.run_id IS 'The run the occurrence started.';

CREATE TABLE job_leases (
    job         text        NOT NULL,
    owner       text        NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now(),
    beat_at     timestamptz NOT NULL DEFAULT now(),
    run_id      bigint,
    handoff     boolean     NOT NULL DEFAULT false,
    CONSTRAINT job_leases_pkey PRIMARY KEY (job),
    CONSTRAINT job_leases_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id)
);

COMMENT ON TABLE job_leases IS
    'Who last held each job''s advisory lock, and their heartbeat. Written only by the lock holder. Current state, not history: the runs table is the history.';
COMMENT ON COLUMN job_leases.owner IS 'Process holding (or that last held) the lock: host:pid.';
COMMENT ON COLUMN job_leases.beat_at IS 'Last heartbeat, by the database clock so replicas'' clocks do not matter. A lease whose run is still running but whose beat_at is older than serve.stale_after belongs to a dead process.';
COMMENT ON COLUMN job_leases.run_id IS 'The last run started under the lock; kept after release so an abandoned run can be found.';
COMMENT ON COLUMN job_leases.handoff IS 'true when the holder interrupted run_id on shutdown and asks another replica to resume it.';
