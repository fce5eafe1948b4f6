// Package schedule runs the configured jobs on their cron specs for
// `importer serve`, and coordinates every process that runs jobs against
// one journal so that a job never runs twice at once.
//
// On a PostgreSQL journal any number of serve replicas may run side by
// side. Each scheduled occurrence is claimed by inserting a row keyed by
// (job, scheduled time): the replica whose insert wins runs it, the others
// skip it. The run itself happens under a per-job session advisory lock,
// which manual runs take too (WithJobLock), so nothing overlaps a job, and
// PostgreSQL frees the lock when the holder's session ends. The holder
// records its run in job_leases and heartbeats it; a run still marked
// running whose heartbeat went stale was abandoned by a dead process, and
// an idle replica that can take the lock resumes it (runner.Params.ResumedFrom).
//
// On the embedded SQLite journal serve is a single replica: locks and
// claims live in memory, and nothing detects a run abandoned by another
// process.
package schedule
