package executor

// InFlight is how many calls of api the executor would keep in flight now.
func (e *Executor) InFlight(api string) int { return e.pace.inFlight(api) }
