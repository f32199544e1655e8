package httpd

// Every test of this package runs with ownership checks on: a reader and
// the worker touching one session at once panics instead of racing.
func init() { ownershipChecks.Store(true) }
