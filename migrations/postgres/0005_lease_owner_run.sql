-- 0005_lease_owner_run: which run belongs to the process holding a job's
-- lock now.
--
-- job_leases.run_id is kept when the lock changes hands (it points at a run
-- that may need resuming), so between taking the lock and starting its run
-- a new holder's lease still names its predecessor's run. A process told
-- "already running" must hear about the run going on now, so the holder's
-- own run gets a column of its own, cleared when the lock is taken.

ALTER TABLE job_leases ADD COLUMN owner_run_id bigint;
ALTER TABLE job_leases ADD CONSTRAINT job_leases_owner_run_id_fkey FOREIGN KEY (owner_run_id) REFERENCES runs (id);

COMMENT ON COLUMN job_leases.owner_run_id IS 'The run started by owner since acquired_at; NULL until it starts one. Unlike run_id it never names a previous holder''s run.';
