-- 0007_occurrence_start: occurrences whose claimer died before running them.
--
-- A replica claims an occurrence (0002), then takes the job's lock and runs
-- it. One that dies in between used to take the occurrence with it: the
-- row said 'claimed' for ever and no one ran it. The claimer now marks the
-- row started as soon as it holds the lock, and only if the row is still
-- its own. A claim neither started nor finished within serve.stale_after
-- belongs to a dead replica: another one, holding the job's lock, takes
-- the claim over (claimed_by becomes its own, reclaimed_from keeps the dead
-- one) and runs the occurrence, if it is still the job's latest. A claimer
-- that was only slow finds the row no longer its own and stands down.
--
-- serve also deletes occurrences older than serve.keep_occurrences, each
-- job's latest excepted.

ALTER TABLE schedule_occurrences ADD COLUMN started_at timestamptz;
ALTER TABLE schedule_occurrences ADD COLUMN reclaimed_from text;

COMMENT ON COLUMN schedule_occurrences.started_at IS 'When the claimer, holding the job''s lock, began the occurrence; NULL before. A claim left unstarted past serve.stale_after is taken over.';
COMMENT ON COLUMN schedule_occurrences.reclaimed_from IS 'The replica that claimed the occurrence first and died before starting it, when another took the claim over.';
COMMENT ON COLUMN schedule_occurrences.outcome IS 'claimed (in progress, or its claimer died; see started_at), ran (run_id set), busy (the job was already running: skipped), error (the run could not start).';
COMMENT ON TABLE schedule_occurrences IS
    'One row per scheduled occurrence of a job that some serve replica claimed. The primary key is the claim: the replica whose INSERT succeeded runs the occurrence, the others skip it. serve deletes rows older than serve.keep_occurrences (default 30 days), keeping each job''s latest.';
