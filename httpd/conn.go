package httpd

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"github.com/esphttpd/esphttpd/sess"
)

// conn is a session: its transport, its receive buffer and the hand-offs
// between the session's reader goroutine and the worker. It knows no
// protocol: the protocol state hangs off it (h1, or ws, or h2 once the
// session switched) and does the parsing and the framing.
//
// Ownership moves between two goroutines and never overlaps. The reader
// owns the buffer and the protocol state while it collects a request or
// frame; toWorker hands them to the worker (through Handle.ready), which
// serves the request and hands them back with toReader. On an HTTP/2
// session the reader keeps the buffer for good and the engine guards its
// own state. checkOwner asserts this where it matters when ownership
// checks are on (in tests).
type conn struct {
	// Set when the session opens, then read-only.
	h    *Handle
	s    *sess.Session[*conn]
	fd   int
	nc   net.Conn
	rc   syscall.RawConn       // nil when nc has no descriptor to wait on
	peek func(fd uintptr) bool // c.peekReadable, bound once so waiting allocates nothing
	// tryRead is c.tryRecvFD, likewise; tryN and tryErr are its results
	// (reader-owned).
	tryRead func(fd uintptr) bool
	tryN    int
	tryErr  error
	// idleRead is c.readIdleFD, likewise; idleN and idleErr are its
	// results (reader-owned).
	idleRead func(fd uintptr) bool
	idleN    int
	idleErr  error
	peekByte [1]byte

	// Any goroutine that sends.
	writeDeadline atomic.Int64 // unix nanoseconds of the last write deadline sendAll set

	// The transport overrides: set from the open callback or a handler of
	// the session, read by whoever reads or writes.
	sendFn    SendFunc
	recvFn    RecvFunc
	pendingFn PendingFunc
	tryRecvFn TryRecvFunc

	// The buffer, and what the reader found: owned as described above.
	buf        []byte // buf[start:end] holds received bytes not yet used
	start, end int
	pinned     bool   // parsed data (a head, a frame) lives in buf: no in-place compaction
	retired    []byte // a pooled array a pinned head outgrew, pooled again after the request
	scratch    []byte // working space for checks and discards
	readFail   *readFailure
	h2start    *h2Start // the reader continues in HTTP/2 (preface found, or h2c upgrade taken)

	// The protocol state. h1 is the session's until a WebSocket handshake
	// (ws) or HTTP/2 (h2) takes over; ws and h2 are atomic because
	// asynchronous senders and Stop look at them from other goroutines.
	h1 h1State
	ws atomic.Pointer[wsConn]
	h2 atomic.Pointer[h2Session]

	resume chan struct{} // toReader: the worker is done, collect the next request
	done   chan struct{} // closed when the session ends
	owner  atomic.Int32  // ownerReader or ownerWorker, for checkOwner
	idle   atomic.Bool   // the reader waits for a request with nothing buffered (Shutdown closes such sessions)

	// Req.Context, made on first use from any goroutine; ended is set when
	// the session closes, so a context made after that is cancelled too.
	ctx   atomic.Pointer[sessCtx]
	ended atomic.Bool

	// A finished small response left in wbuf for the reader to write
	// after toReader, so that the worker does not spend its time in
	// write(2) (see h1State.send); outMu orders that write with any other
	// send on the session.
	outMu      sync.Mutex
	outPending int

	// Worker-owned.
	req      Req
	active   *Req // the request a handler is running for, or nil
	closed   bool
	async    bool // a handler handed the request to another goroutine
	hijacked bool // Req.Hijack took the connection: never served again
	wantStop bool // close after the current request
	closeNow bool // the client has nothing more to send: close without lingering (closeConn)
	wbuf     []byte
	fields   []h1.Field // response headers of the request being served
}

// h2Start is the reader's cue to continue the session in HTTP/2.
type h2Start struct {
	up *h2.Upgrade // the h2c upgrade request, or nil after a client preface
}

// Who owns a session's buffer and protocol state.
const (
	ownerReader int32 = iota
	ownerWorker
)

// ownershipChecks turns checkOwner on; tests set it.
var ownershipChecks atomic.Bool

// checkOwner panics when ownership checks are on and want is not the
// session's owner: the reader and the worker must never work on one
// session at once (x/net's http2 serveG.check does the same for its
// serve goroutine).
func (c *conn) checkOwner(want int32) {
	if ownershipChecks.Load() && c.owner.Load() != want {
		panic("httpd: session state used by a goroutine that does not own it")
	}
}

// toWorker hands the session to the worker (reader to worker). It reports
// false when the session ended meanwhile.
func (c *conn) toWorker() bool {
	c.owner.Store(ownerWorker)
	// ready has room for every session, so the send nearly always goes
	// through at once; a plain send costs less than a two-way select.
	select {
	case c.h.ready <- c:
		return true
	default:
	}
	select {
	case c.h.ready <- c:
		return true
	case <-c.done:
		return false
	}
}

// toReader hands the session back to its reader (worker to reader) to
// collect the next request.
func (c *conn) toReader() {
	c.owner.Store(ownerReader)
	// resume holds one token and the reader takes each before the next
	// hand-off; only closeSession's wake-up can be there already, and
	// then the reader is leaving anyway.
	select {
	case c.resume <- struct{}{}:
	default:
	}
}

// readFailure is why a reader gave up on a request: an HTTP error to answer
// (code), or a connection to drop silently.
type readFailure struct {
	silent bool
	code   ErrCode
	// resumable: the head was cut by a receive timeout; an error handler
	// that keeps the session resumes reading the same request, as
	// ESP-IDF's read_block does.
	resumable bool
	wsClose   uint16 // on a WebSocket: the close code to fail the connection with
	err       error
}

const (
	defaultBufSize = 4096
	// maxDiscard is how much of a body a handler left unread the server
	// will read and drop to keep the connection; more closes it, as
	// net/http does.
	maxDiscard = 256 << 10
)

var errDiscardLimit = errors.New("httpd: unread request body too large to discard")

var bufPool = sync.Pool{New: func() any { return new([defaultBufSize]byte) }}

// bigBufSize arrays hold a head and a buffered body: the default limits
// (a head of about 1 KiB, MaxBufferedBody 16 KiB) fit, with room for
// MaxReqHdrLen up to 8 KiB.
const bigBufSize = 32 << 10

var bigPool = sync.Pool{New: func() any { return new([bigBufSize]byte) }}

func newConn(h *Handle, nc net.Conn) *conn {
	c := &conn{
		h:      h,
		nc:     nc,
		resume: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	c.h1.c = c
	c.h1.parser.Limits = h1.Limits{MaxURILen: h.cfg.MaxURILen, MaxHeaderBytes: h.cfg.MaxReqHdrLen}
	if sc, ok := nc.(syscall.Conn); ok && canWaitReadable {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.peek = c.peekReadable
			c.tryRead = c.tryRecvFD
			c.idleRead = c.readIdleFD
		}
	}
	c.resume <- struct{}{}
	return c
}

// readLoop is the session's reader: it runs on a reader goroutine
// (runReaders) until the session ends.
func (c *conn) readLoop() {
	for {
		// A plain receive, cheaper than a select with done: closeSession
		// also leaves a token, after closing done.
		<-c.resume
		select {
		case <-c.done:
			return
		default:
		}
		if st := c.h2start; st != nil {
			c.h2start = nil
			c.serveH2(st.up)
			return
		}
		c.checkOwner(ownerReader)
		if err := c.flushOut(); err != nil {
			c.readFail = &readFailure{silent: true, err: err}
		} else if w := c.ws.Load(); w != nil {
			c.readFail = w.collect(c)
		} else {
			c.readFail = c.h1.collect()
		}
		if st := c.h2start; st != nil && st.up == nil {
			c.h2start = nil
			c.serveH2(nil)
			return
		}
		// A session with a request waiting for the worker is the most
		// recently used one: LRU purge must not pick it (ESP-IDF stamps a
		// session whenever data arrives).
		c.h.sessions.Touch(c.s)
		if !c.toWorker() {
			return
		}
	}
}

// scratchBuf returns the session's working buffer for checks and discards.
func (c *conn) scratchBuf() []byte {
	if c.scratch == nil {
		c.scratch = make([]byte, 4096)
	}
	return c.scratch
}

// readBuffered reads into p: buffered bytes first, else one read through
// the recv function. A peer that closed is io.ErrUnexpectedEOF: callers
// read something that has not ended.
func (c *conn) readBuffered(p []byte) (int, error) {
	if c.end > c.start {
		n := copy(p, c.buf[c.start:c.end])
		c.start += n
		return n, nil
	}
	n, err := c.recv(p, 0)
	if n == 0 && (err == io.EOF || err == nil) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// awaitFirstBytes waits, without a timeout, for an idle session to have
// something to read, as ESP-IDF's select() does, and without holding a
// buffer meanwhile. Where the connection has no descriptor to wait on, it
// reads the first bytes itself (need as for fill).
func (c *conn) awaitFirstBytes(need int) *readFailure {
	if c.pending() > 0 {
		return nil
	}
	c.idle.Store(true)
	defer c.idle.Store(false)
	idleUntil := c.armIdle()
	if c.rc != nil && c.recvFn == nil {
		return c.readIdle(idleUntil)
	}
	if c.rc != nil {
		if c.tryRecvFn != nil {
			if f, done := c.tryRecvIdle(idleUntil); done {
				return f
			}
			if c.pending() > 0 {
				return nil // part of a record came: the rest is due within RecvWaitTimeout
			}
		}
		c.releaseBuf()
		if err := c.waitReadable(idleUntil); err != nil {
			return &readFailure{silent: true, err: err}
		}
		return nil
	}
	c.nc.SetReadDeadline(idleUntil)
	f := c.fill(need)
	if f != nil && c.end == c.start {
		f.silent = true // nothing of a request came: nothing to answer
	}
	return f
}

// armIdle sets the read deadline for a session about to wait for a
// request, Config.IdleTimeout from now, and returns it. Without an
// IdleTimeout it returns zero and leaves the deadline alone: one left over
// from the last request is cleared if it fires (idleExpired), which is
// cheaper than clearing it before every wait.
func (c *conn) armIdle() time.Time {
	t := c.h.cfg.IdleTimeout
	if t <= 0 {
		return time.Time{}
	}
	until := time.Now().Add(t)
	c.nc.SetReadDeadline(until)
	return until
}

// errIdleTimeout ends a session that waited Config.IdleTimeout for a request.
var errIdleTimeout = errors.New("httpd: session idle for longer than IdleTimeout")

// idleExpired reports whether an idle wait that hit its deadline is over:
// the server is stopping, the session was closed (closeConn wakes its
// reader with a deadline), or IdleTimeout has passed. A deadline that
// fires early (set for the previous request, and not yet replaced) is not.
func (c *conn) idleExpired(until time.Time) bool {
	if c.h.stopping.Load() || c.ended.Load() {
		return true // the server stops, or closed the session (closeConn woke us)
	}
	if !until.IsZero() && !time.Now().Before(until) {
		c.h.log.Debug("idle session timed out", "fd", c.fd)
		return true
	}
	c.nc.SetReadDeadline(until)
	return false
}

// fill reads more bytes into buf, making room first. need is how many bytes
// from c.start the buffer must be able to hold.
func (c *conn) fill(need int) *readFailure {
	c.makeRoom(need)
	n, err := c.recv(c.buf[c.end:], 0)
	c.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	if errors.Is(err, ErrSockTimeout) {
		return &readFailure{code: Code408ReqTimeout, err: err}
	}
	return &readFailure{silent: true, err: err}
}

// makeRoom makes sure buf has free space after end and can hold need bytes
// from start. While a parsed head is pinned in buf, bytes never move within
// the array: a bigger array is allocated instead, so the head's slices stay
// valid.
func (c *conn) makeRoom(need int) {
	if c.buf == nil {
		c.buf = bufPool.Get().(*[defaultBufSize]byte)[:]
		c.start, c.end = 0, 0
	}
	if c.end < len(c.buf) && len(c.buf)-c.start >= need {
		return
	}
	used := c.end - c.start
	if !c.pinned && c.start > 0 && len(c.buf) >= need && used < len(c.buf) {
		copy(c.buf, c.buf[c.start:c.end])
		c.start, c.end = 0, used
		return
	}
	size := max(2*len(c.buf), need+used/4, used+512)
	if c.pinned {
		size = max(size, c.start+need)
	}
	var nb []byte
	if size <= bigBufSize {
		nb = bigPool.Get().(*[bigBufSize]byte)[:]
	} else {
		nb = make([]byte, size)
	}
	if c.pinned {
		// Keep offsets: the parsed head points into the old array.
		copy(nb, c.buf[:c.end])
	} else {
		copy(nb, c.buf[c.start:c.end])
		c.start, c.end = 0, used
	}
	c.putBuf()
	c.buf = nb
}

// releaseBuf gives an empty buffer back to the pool while the session idles.
func (c *conn) releaseBuf() {
	if c.start == c.end {
		// The last request's header slices point into the buffer: drop
		// them, so a pooled array is not kept alive (or read) through them.
		clear(c.h1.head.Headers)
		c.h1.head.URI, c.h1.head.Upgrade = nil, nil
		c.putBuf()
		c.buf = nil
		c.start, c.end = 0, 0
	}
}

// putBuf gives the buffer back to its pool. While a parsed head is pinned
// in it, it is kept aside until the request is over (putRetired).
func (c *conn) putBuf() {
	if c.pinned {
		if c.retired == nil {
			c.retired = c.buf
		}
		return
	}
	poolPut(c.buf)
}

// putRetired returns the array a pinned head outgrew to its pool.
func (c *conn) putRetired() {
	if c.retired != nil {
		poolPut(c.retired)
		c.retired = nil
	}
}

func poolPut(b []byte) {
	switch len(b) {
	case defaultBufSize:
		bufPool.Put((*[defaultBufSize]byte)(b))
	case bigBufSize:
		bigPool.Put((*[bigBufSize]byte)(b))
	}
}

// appendBuffered keeps bytes read past the end of a body for the next request.
func (c *conn) appendBuffered(p []byte) {
	c.makeRoom(c.end - c.start + len(p))
	c.end += copy(c.buf[c.end:], p)
}

// deferOut leaves the first n bytes of wbuf, a complete response, for the
// reader to write (flushOut).
func (c *conn) deferOut(n int) {
	c.outMu.Lock()
	c.outPending = n
	c.outMu.Unlock()
}

// flushOut writes the response deferOut left, if any. Every send that
// could follow it on the session calls it first, so bytes keep their
// order on the wire.
func (c *conn) flushOut() error {
	if w := c.ws.Load(); w != nil {
		return c.flushFrame(w)
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.outPending == 0 {
		return nil
	}
	n := c.outPending
	c.outPending = 0
	return c.sendAll(c.wbuf[:n])
}
