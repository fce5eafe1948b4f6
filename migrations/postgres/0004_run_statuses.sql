-- Statuses that tell a run's outcome more exactly:
--   done_with_rejects  every call succeeded, but rows were rejected and their members held
--   superseded         a later run of the job finished after this one stopped, so it is never resumed
--   interrupted        the process died mid-run; closed by the next run of the job
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check CHECK (status IN
    ('running', 'done', 'done_with_rejects', 'partial', 'failed', 'refused', 'dry_run', 'canceled',
     'superseded', 'interrupted'));

COMMENT ON COLUMN runs.status IS 'running while in progress; then done, done_with_rejects (calls all succeeded, some rows rejected and held), partial (some calls failed), failed, refused (safety rule), dry_run, canceled (interrupted by a signal), interrupted (the process died; closed by a later run) or superseded (a later run finished; not resumable).';
