-- 0005_lease_owner_run (embedded SQLite edition); see
-- migrations/postgres/0005_lease_owner_run.sql. The embedded journal uses
-- job_leases from this version on: its job lock (a file lock beside the
-- journal) records its holder here.

ALTER TABLE job_leases ADD COLUMN owner_run_id INTEGER CONSTRAINT job_leases_owner_run_id_fkey REFERENCES runs (id);
