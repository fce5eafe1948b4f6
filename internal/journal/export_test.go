package journal

// Hooks and keys for the PostgreSQL lock tests, which find the importer's
// advisory locks in pg_locks and pause a locker at chosen points.

var (
	LockClass  = lockClass
	LeaseClass = leaseClass
)

func JobKey(job string) int32 { return jobKey(job) }

func SetAfterTryLock(f func(job string)) { afterTryLock = f }

func SetBeforeRelock(f func(job string)) { beforeRelock = f }
