package httpd

import (
	"sync/atomic"
	"time"
)

// Each session's reader runs on a goroutine of its own. When a session ends,
// its goroutine waits a while to become the reader of the next session
// instead of exiting: a new goroutine starts with a small stack and a TLS
// handshake grows it several times over, each time by copying it (about 5%
// of the server's CPU per new HTTPS connection in a profile). fasthttp keeps
// its per-connection goroutines the same way.

// spareReaderIdle is how long an ended session's reader goroutine waits for
// a new session before it exits; a handle reads it once, at Start (tests
// shorten it).
var spareReaderIdle = 5 * time.Second

// readerPool hands new sessions to spare reader goroutines. Spare
// goroutines never outnumber Config.MaxOpenSockets, and Stop ends them.
type readerPool struct {
	idle    time.Duration // how long a spare goroutine waits: spareReaderIdle at Start
	handOff chan *conn    // unbuffered: a send succeeds only to a spare goroutine waiting for it
	spare   atomic.Int32  // goroutines waiting on handOff
	started atomic.Int64  // goroutines ever started, for tests
}

// startReader runs c's reader on a spare goroutine if one is waiting, or on
// a new one. Called on the worker.
func (h *Handle) startReader(c *conn) {
	select {
	case h.readers.handOff <- c:
		return
	default:
	}
	h.readers.started.Add(1)
	h.wg.Add(1)
	go h.runReaders(c)
}

// runReaders is a reader goroutine: it reads for session c until the
// session ends, then for each session handed to it while it is spare.
func (h *Handle) runReaders(c *conn) {
	defer h.wg.Done()
	var idle *time.Timer
	for {
		c.readLoop()
		c = nil // a spare goroutine keeps no ended session alive
		if int(h.readers.spare.Add(1)) > h.cfg.MaxOpenSockets {
			h.readers.spare.Add(-1)
			return
		}
		if idle == nil {
			idle = time.NewTimer(h.readers.idle)
		} else {
			idle.Reset(h.readers.idle)
		}
		select {
		case c = <-h.readers.handOff:
		case <-idle.C:
		case <-h.quit:
		}
		h.readers.spare.Add(-1)
		idle.Stop()
		if c == nil {
			return
		}
	}
}
