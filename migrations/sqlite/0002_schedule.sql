-- 0002_schedule: coordination between `importer serve` replicas (embedded
-- SQLite edition).
--
-- Same tables and meaning as migrations/postgres/0002_schedule.sql. With the
-- embedded journal `serve` runs as a single replica and coordinates in
-- memory, so these tables stay empty; they exist so that a schema version
-- means the same tables on both engines.

CREATE TABLE schedule_occurrences (
    job          TEXT    NOT NULL,
    scheduled_at TEXT    NOT NULL,
    claimed_by   TEXT    NOT NULL,
    claimed_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    outcome      TEXT    NOT NULL DEFAULT 'claimed',
    run_id       INTEGER CONSTRAINT schedule_occurrences_run_id_fkey REFERENCES runs (id),
    CONSTRAINT schedule_occurrences_pkey PRIMARY KEY (job, scheduled_at),
    CONSTRAINT schedule_occurrences_outcome_check CHECK (outcome IN ('claimed', 'ran', 'busy', 'error'))
) STRICT;

CREATE TABLE job_leases (
    job         TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    acquired_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    beat_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    run_id      INTEGER CONSTRAINT job_leases_run_id_fkey REFERENCES runs (id),
    handoff     INTEGER NOT NULL DEFAULT 0 CHECK (handoff IN (0, 1)),
    CONSTRAINT job_leases_pkey PRIMARY KEY (job)
) STRICT;
