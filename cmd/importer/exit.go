package main

import (
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
)

// Exit codes, per the command-line contract (README, "Exit codes").
const (
	exitOK      = 0
	exitFatal   = 1
	exitUsage   = 2
	exitPartial = 3 // calls failed or the run was interrupted: resume it
	exitRefused = 4
	// exitRejects: every call succeeded, but rows were rejected and their
	// members held; fix the source (resume would not help).
	exitRejects = 5
)

// exitCode maps a run's report to the contract's exit codes.
func exitCode(r *runner.Report) int {
	switch r.Status {
	case journal.RunDone:
		return exitOK
	case journal.RunDryRun:
		// A plan exits the way the run would, as far as it can tell
		// without sending anything.
		switch {
		case r.Refusal != nil:
			return exitRefused
		case r.Unapplied():
			return exitRejects
		}
		return exitOK
	case journal.RunDoneWithRejects:
		return exitRejects
	case journal.RunPartial, journal.RunCanceled:
		// Interrupted runs are resumable like partial ones.
		return exitPartial
	case journal.RunRefused:
		return exitRefused
	default:
		return exitFatal
	}
}
