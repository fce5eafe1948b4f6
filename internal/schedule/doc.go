// Package schedule runs the configured jobs on their cron specs for
// `importer serve`, and makes every process that runs jobs against one
// journal keep out of the others' way, through the journal's
// journal.Coordinator, so that a job never runs twice at once and an
// occurrence runs once.
//
// Each scheduled occurrence is claimed in the journal by its job and
// nominal time: the process whose claim wins runs it, the others skip it.
// The run itself happens under the job's lock, which manual runs take too
// (WithJobLock), so nothing overlaps a job. The holder records its run in
// the job's lease; a run still marked running whose holder is gone was
// abandoned by a dead process, and one that can take the lock resumes it
// (runner.Params.ResumedFrom), as it does a run handed off on shutdown.
//
// On PostgreSQL any number of serve replicas may share the journal; a
// holder is gone when its heartbeat is stale. On the embedded journal the
// processes share one host, and a holder is gone when its file lock is
// free.
package schedule
