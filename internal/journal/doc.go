// Package journal is the importer's audit trail and state store.
//
// Every WeCom call is written here before it is sent and completed with
// WeCom's answer, so an interrupted run can be resumed and an auditor can see
// who changed what in the directory, when, and with which result. The same
// schema lives in PostgreSQL (for scheduled jobs) or in one SQLite file (for
// one-off runs); Open picks by the form of its argument and migrates.
//
// Tables, for auditors (column comments are in the PostgreSQL schema,
// migrations/postgres; COMMENT ON TABLE shows them in psql with \d+):
//
//   - runs: one row per execution of a job: job, corp, source and its
//     sha256, mode (run, dry_run, resume), the run it resumed, host, start
//     and end times, final status and summary counts.
//   - calls: one row per WeCom API call attempt, in plan order (seq): the
//     operation, API, target userid or department, the HR row that asked for
//     it (source_ref), the request payload, attempt number, outcome (pending,
//     ok, failed), WeCom errcode and errmsg, start and end times. A row stays
//     pending until the answer is recorded; pending after its run ended means
//     the answer was lost (crash) and resume reconciles it with WeCom.
//   - rejects: HR rows refused before any call, with column and rule.
//   - applied_departments, applied_members: current state, not history: what
//     the importer last pushed for each HR department (and the WeCom id it
//     maps to) and each member. They change in the same transaction as the
//     call that caused the change, so they never disagree with calls.
//   - job_leases, schedule_occurrences: coordination (Coordinator), current
//     state rather than history: who holds or last held each job's lock,
//     its heartbeat and its run; each scheduled occurrence a serve process
//     claimed, when it started it and what became of it, kept for
//     serve.keep_occurrences.
//   - call_failures (view): calls that failed or are pending, with the job.
//   - schema_migrations: schema versions applied.
//
// runs, calls and rejects are append-only: the database refuses (by trigger)
// to delete them, to change a finished run or a completed call, or to alter
// what a call was meant to do. The Store methods enforce the same rules and
// report violations as ErrCompleted.
//
// Timestamps are UTC with microsecond precision. In PostgreSQL the call
// payload is jsonb (semantically equal, key order normalized); the member
// payload keeps its exact bytes because its hash is computed over them.
package journal
