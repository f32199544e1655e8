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

// conn is one session's connection state. Ownership moves between two
// goroutines and never overlaps: the session's reader owns the buffer and
// parser while it collects a request; it hands the session to the worker
// through Handle.ready and waits on resume until the worker has served it.
type conn struct {
	h        *Handle
	s        *sess.Session[*conn]
	fd       int
	nc       net.Conn
	rc       syscall.RawConn       // nil when nc has no descriptor to wait on
	peek     func(fd uintptr) bool // c.peekReadable, bound once so waiting allocates nothing
	peekByte [1]byte
	idleRead func(fd uintptr) bool // c.readIdleFD, likewise
	idleN    int
	idleErr  error

	writeDeadline atomic.Int64 // unix nanoseconds of the last write deadline sendAll set

	sendFn    SendFunc
	recvFn    RecvFunc
	pendingFn PendingFunc

	// Reader-owned while collecting, worker-owned while serving.
	buf        []byte // buf[start:end] holds received bytes not yet used
	start, end int
	pinned     bool   // a parsed head lives in buf: no in-place compaction
	retired    []byte // a pooled array a pinned head outgrew, pooled again after the request
	parser     h1.Parser
	head       h1.Request
	ws         atomic.Pointer[wsConn]    // set by a WebSocket handshake; read by async senders
	h2         atomic.Pointer[h2Session] // set when the session speaks HTTP/2; read by Stop
	h2up       *h2.Upgrade               // an accepted h2c upgrade, for the reader to continue with
	h2preface  bool                      // collect found the HTTP/2 client preface
	nreq       int                       // requests served: the preface can only come first
	readFail   *readFailure
	body       bodyState // of the request being served, then its leftovers

	resume chan struct{} // worker to reader: collect the next request
	done   chan struct{} // closed when the session ends

	// Worker-owned.
	req      Req
	active   *Req // the request a handler is running for, or nil
	closed   bool
	async    bool   // a handler handed the request to another goroutine
	hijacked bool   // Req.Hijack took the connection: never served again
	lastURI  string // reused when the next request has the same target
	wbuf     []byte
	fields   []h1.Field
	scratch  []byte
	sent100  bool
	wantStop bool // close after the current request
}

// readFailure is why a reader gave up on a request: an HTTP error to answer
// (code), or a connection to drop silently.
type readFailure struct {
	silent  bool
	code    ErrCode
	wsClose uint16 // on a WebSocket: the close code to fail the connection with
	err     error
}

// bodyState tracks the request body as handlers and the reader consume it.
type bodyState struct {
	left       int64 // Content-Length bytes not yet consumed
	chunked    bool
	dec        h1.ChunkedDecoder
	decOff     int // decoded chunked payload waiting in buf[decOff:decOff+decLen]
	decLen     int
	broken     bool // the body's framing failed: the session cannot go on
	badFraming bool // broken by malformed chunked framing (answered 400), not by the peer

	// Streaming past the buffered part: when it started and how much came,
	// for Config.MinBodyRate.
	streamStart time.Time
	streamed    int64

	// A WebSocket frame's payload: unmasked and, for text, checked as it
	// is read.
	masked  bool
	key     [4]byte
	maskPos int
	text    bool
	fin     bool
}

func (b *bodyState) reset(head *h1.Request) {
	*b = bodyState{chunked: head.Chunked}
	if head.ContentLength > 0 {
		b.left = head.ContentLength
	}
	if b.chunked {
		b.dec.Reset()
	}
}

func (b *bodyState) finished() bool {
	if b.chunked {
		return b.decLen == 0 && b.dec.Done()
	}
	return b.left == 0
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
	c.parser.Limits = h1.Limits{MaxURILen: h.cfg.MaxURILen, MaxHeaderBytes: h.cfg.MaxReqHdrLen}
	if sc, ok := nc.(syscall.Conn); ok && canWaitReadable {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.peek = c.peekReadable
			c.idleRead = c.readIdleFD
		}
	}
	c.resume <- struct{}{}
	return c
}

// readLoop is the session's reader goroutine.
func (c *conn) readLoop() {
	defer c.h.wg.Done()
	for {
		select {
		case <-c.resume:
		case <-c.done:
			return
		}
		if up := c.h2up; up != nil {
			c.h2up = nil
			c.serveH2(up)
			return
		}
		c.readFail = c.collect()
		if c.h2preface {
			c.serveH2(nil)
			return
		}
		// A session with a request waiting for the worker is the most
		// recently used one: LRU purge must not pick it (ESP-IDF stamps a
		// session whenever data arrives).
		c.h.sessions.Touch(c.s)
		select {
		case c.h.ready <- c:
		case <-c.done:
			return
		}
	}
}

// collect reads until buf holds a complete request head (and a small
// announced body), or fails.
func (c *conn) collect() *readFailure {
	if w := c.ws.Load(); w != nil {
		return c.collectFrame(w)
	}
	if c.body.broken {
		return &readFailure{silent: true}
	}
	if err := c.skipBody(); err != nil {
		return &readFailure{silent: true, err: err}
	}
	c.pinned = false
	c.putRetired()
	c.parser.Reset()
	var deadline time.Time
	for {
		if c.end > c.start && c.nreq == 0 && c.h.cfg.HTTP2 {
			if prefix, whole := isPrefacePrefix(c.buf[c.start:c.end]); whole {
				c.h2preface = true
				return nil
			} else if prefix {
				if deadline.IsZero() {
					deadline = time.Now().Add(c.h.cfg.RecvWaitTimeout)
					c.nc.SetReadDeadline(deadline)
				}
				if f := c.fill(c.end - c.start + 1); f != nil {
					return f
				}
				continue
			}
		}
		if c.end > c.start {
			n, err := c.parser.Parse(c.buf[c.start:c.end], &c.head)
			if err == nil {
				c.start += n
				c.pinned = true
				break
			}
			if err != h1.ErrIncomplete {
				if c.nreq == 0 && c.h.cfg.HTTP2 && notHTTP(c.buf[c.start:c.end]) {
					// RFC 9113 3.4: an invalid connection preface ends the
					// connection. On a port that speaks both, a first line
					// that names a protocol other than HTTP is taken for one.
					return &readFailure{silent: true, err: err}
				}
				var pe *h1.Error
				if errors.As(err, &pe) {
					return &readFailure{code: codeForStatus(pe.Status), err: err}
				}
				return &readFailure{code: Code400BadRequest, err: err}
			}
		}
		if deadline.IsZero() && c.end == c.start {
			if f := c.awaitFirstBytes(1); f != nil {
				return f
			}
			if c.end > c.start {
				continue // a whole head may have come: no timeout to arm then
			}
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.h.cfg.RecvWaitTimeout)
			c.nc.SetReadDeadline(deadline)
			continue
		}
		// Room for one more byte is enough: the parser's limits bound the
		// head, and asking for a whole maximal head would outgrow the pool
		// buffer on every request.
		if f := c.fill(c.end - c.start + 1); f != nil {
			if c.end == c.start && !f.silent {
				// Not a byte of a request arrived: nothing to answer.
				f.silent = true
			}
			return f
		}
	}
	c.body.reset(&c.head)
	cl := c.head.ContentLength
	if c.head.Expect100 || (!c.head.Chunked && (cl <= 0 || cl > int64(c.h.cfg.MaxBufferedBody))) {
		return nil // no body to buffer, or the handler asks for it
	}
	if deadline.IsZero() {
		deadline = time.Now().Add(c.h.cfg.RecvWaitTimeout)
		c.nc.SetReadDeadline(deadline)
	}
	if c.head.Chunked {
		return c.bufferChunked()
	}
	for int64(c.end-c.start) < cl {
		if f := c.fill(int(cl)); f != nil {
			return f
		}
	}
	return nil
}

// bufferChunked reads a chunked body up to MaxBufferedBody raw bytes ahead
// of the handler and checks its framing on a copy, so that a malformed body
// is answered 400 before any handler runs, read by it or not. A longer body
// streams through Recv, which checks the rest.
func (c *conn) bufferChunked() *readFailure {
	var dec h1.ChunkedDecoder
	if c.scratch == nil {
		c.scratch = make([]byte, 4096)
	}
	checked := 0 // raw bytes after c.start already run through dec
	for !dec.Done() {
		if c.start+checked < c.end {
			n := copy(c.scratch, c.buf[c.start+checked:c.end])
			_, used, err := dec.Decode(c.scratch[:n])
			if err != nil {
				var pe *h1.Error
				if errors.As(err, &pe) {
					return &readFailure{code: codeForStatus(pe.Status), err: err}
				}
				return &readFailure{code: Code400BadRequest, err: err}
			}
			checked += used
			continue
		}
		if checked >= c.h.cfg.MaxBufferedBody {
			return nil
		}
		if f := c.fill(checked + 512); f != nil {
			return f
		}
	}
	return nil
}

// awaitFirstBytes waits, without a timeout, for an idle session to have
// something to read, as ESP-IDF's select() does, and without holding a
// buffer meanwhile. Where the connection has no descriptor to wait on, it
// reads the first bytes itself (need as for fill).
func (c *conn) awaitFirstBytes(need int) *readFailure {
	if c.pending() > 0 {
		return nil
	}
	if c.rc != nil && c.recvFn == nil {
		return c.readIdle()
	}
	if c.rc != nil {
		c.releaseBuf()
		if err := c.waitReadable(); err != nil {
			return &readFailure{silent: true, err: err}
		}
		return nil
	}
	c.nc.SetReadDeadline(time.Time{})
	return c.fill(need)
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
		clear(c.head.Headers)
		c.head.URI, c.head.Upgrade = nil, nil
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

// skipBody drops what the last handler left of its request body.
func (c *conn) skipBody() error {
	b := &c.body
	if b.finished() {
		return nil
	}
	c.nc.SetReadDeadline(time.Now().Add(c.h.cfg.RecvWaitTimeout))
	if c.scratch == nil {
		c.scratch = make([]byte, 4096)
	}
	for skipped := 0; !b.finished(); {
		n, err := c.readBody(c.scratch)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if skipped += n; skipped > maxDiscard {
			return errDiscardLimit
		}
	}
	return nil
}

// readBody reads request body bytes into p: buffered ones first, then from
// the transport, decoding chunked framing. It returns io.EOF at the end of
// the body and io.ErrUnexpectedEOF when the peer closes before it.
func (c *conn) readBody(p []byte) (int, error) {
	b := &c.body
	if len(p) == 0 {
		return 0, nil
	}
	if !b.chunked {
		if b.left == 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		var n int
		if c.end > c.start {
			n = copy(p, c.buf[c.start:c.end])
			c.start += n
		} else {
			var err error
			n, err = c.recv(p, 0)
			if n == 0 {
				if err == io.EOF || err == nil {
					err = io.ErrUnexpectedEOF
				}
				return 0, err
			}
		}
		b.left -= int64(n)
		if b.masked {
			if err := c.readWSPayload(p[:n]); err != nil {
				return n, err
			}
		}
		return n, nil
	}
	for {
		if b.decLen > 0 {
			n := copy(p, c.buf[b.decOff:b.decOff+b.decLen])
			b.decOff += n
			b.decLen -= n
			return n, nil
		}
		if b.dec.Done() {
			return 0, io.EOF
		}
		if c.end > c.start {
			data, used, err := b.dec.Decode(c.buf[c.start:c.end])
			if err != nil {
				b.broken, b.badFraming = true, true
				return 0, err
			}
			b.decOff, b.decLen = c.start, data
			c.start += used
			continue
		}
		n, err := c.recv(p, 0)
		if n == 0 {
			if err == io.EOF || err == nil {
				err = io.ErrUnexpectedEOF
			}
			b.broken = true
			return 0, err
		}
		data, used, derr := b.dec.Decode(p[:n])
		if used < n {
			c.appendBuffered(p[used:n])
		}
		if derr != nil {
			b.broken, b.badFraming = true, true
			return 0, derr
		}
		if data > 0 {
			return data, nil
		}
	}
}
