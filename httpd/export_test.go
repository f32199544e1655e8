package httpd

import "time"

// Every test of this package runs with ownership checks on: a reader and
// the worker touching one session at once panics instead of racing.
func init() { ownershipChecks.Store(true) }

// QueuedForWorker reports how many sessions have a collected request
// waiting for the worker. Tests wait on it to know that a session's reader
// has read a request and handed it over (stamping the session as recently
// used), which no public call shows while the worker is busy.
func (h *Handle) QueuedForWorker() int { return len(h.ready) }

// ReaderGoroutines reports how many reader goroutines the handle has
// started, and how many of them are spare (waiting for a new session).
func (h *Handle) ReaderGoroutines() (started, spare int) {
	return int(h.readers.started.Load()), int(h.readers.spare.Load())
}

// SetSpareReaderIdle sets how long a spare reader goroutine waits for a new
// session, for handles started after it (Start reads it), and returns the
// previous value. Tests of this package do not run in parallel.
func SetSpareReaderIdle(d time.Duration) time.Duration {
	old := spareReaderIdle
	spareReaderIdle = d
	return old
}

// AcceptedWaiting reports whether the acceptor left a connection for the
// worker that the worker has not taken yet.
func (h *Handle) AcceptedWaiting() bool { return len(h.accepted) > 0 }
