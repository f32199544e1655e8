package httpd

// Every test of this package runs with ownership checks on: a reader and
// the worker touching one session at once panics instead of racing.
func init() { ownershipChecks.Store(true) }

// QueuedForWorker reports how many sessions have a collected request
// waiting for the worker. Tests wait on it to know that a session's reader
// has read a request and handed it over (stamping the session as recently
// used), which no public call shows while the worker is busy.
func (h *Handle) QueuedForWorker() int { return len(h.ready) }
