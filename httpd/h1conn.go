package httpd

import (
	"errors"
	"io"
	"net"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
)

// h1State is a session's HTTP/1.1 state: the parser, the request head and
// body framing, and the responder its requests answer through. It lives in
// the session (conn.h1) and follows the session buffer's ownership: the
// reader's while it collects a request, the worker's while it serves one.
type h1State struct {
	c      *conn
	parser h1.Parser
	head   h1.Request
	body   h1Body
	nreq   int // requests collected: the HTTP/2 preface can only come first

	// Worker-owned, per response.
	sent100 bool       // 100 Continue went out
	framing h1.Framing // of the response under way
	lastURI string     // reused when the next request has the same target
	sendv   sendVec    // a large body's gathered send
}

// h1Body tracks a request body as handlers and the reader consume it:
// Content-Length or chunked coding.
type h1Body struct {
	left       int64 // Content-Length bytes not yet consumed
	chunked    bool
	dec        h1.ChunkedDecoder
	decOff     int // decoded chunked payload waiting in buf[decOff:decOff+decLen]
	decLen     int
	broken     bool // the body's framing failed: the session cannot go on
	badFraming bool // broken by malformed chunked framing (answered 400), not by the peer
	tooSlow    bool // the client fell below Config.MinBodyRate: failed, never retried

	// Streaming past the buffered part: when it started and how much came,
	// for Config.MinBodyRate.
	streamStart time.Time
	streamed    int64
}

func (b *h1Body) reset(head *h1.Request) {
	*b = h1Body{chunked: head.Chunked}
	if head.ContentLength > 0 {
		b.left = head.ContentLength
	}
	if b.chunked {
		b.dec.Reset()
	}
}

func (b *h1Body) finished() bool {
	if b.chunked {
		return b.decLen == 0 && b.dec.Done()
	}
	return b.left == 0
}

// collect reads until the buffer holds a complete request head (and a
// small announced body), or fails. It runs on the session's reader.
func (s *h1State) collect() *readFailure {
	c := s.c
	if s.body.broken {
		return &readFailure{silent: true}
	}
	if err := s.skipBody(); err != nil {
		return &readFailure{silent: true, err: err}
	}
	c.pinned = false
	c.putRetired()
	s.parser.Reset()
	var deadline time.Time
	for {
		if c.end > c.start && s.nreq == 0 && c.h.cfg.HTTP2 {
			if prefix, whole := isPrefacePrefix(c.buf[c.start:c.end]); whole {
				c.h2start = &h2Start{}
				return nil
			} else if prefix {
				if deadline.IsZero() {
					deadline = c.armReadDeadline()
				}
				if f := c.fill(c.end - c.start + 1); f != nil {
					return f
				}
				continue
			}
		}
		if c.end > c.start {
			n, err := s.parser.Parse(c.buf[c.start:c.end], &s.head)
			if err == nil {
				c.start += n
				c.pinned = true
				break
			}
			if err != h1.ErrIncomplete {
				if s.nreq == 0 && c.h.cfg.HTTP2 && notHTTP(c.buf[c.start:c.end]) {
					// RFC 9113 3.4: an invalid connection preface ends the
					// connection. On a port that speaks both, a first line
					// that names a protocol other than HTTP is taken for one.
					return &readFailure{silent: true, err: err}
				}
				return badRequest(err)
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
			deadline = c.armReadDeadline()
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
			f.resumable = f.code == Code408ReqTimeout
			return f
		}
	}
	s.nreq++
	s.body.reset(&s.head)
	cl := s.head.ContentLength
	if s.head.Expect100 || (!s.head.Chunked && (cl <= 0 || cl > int64(c.h.cfg.MaxBufferedBody))) {
		return nil // no body to buffer, or the handler asks for it
	}
	if deadline.IsZero() {
		c.armReadDeadline()
	}
	if s.head.Chunked {
		return s.bufferChunked()
	}
	for int64(c.end-c.start) < cl {
		if f := c.fill(int(cl)); f != nil {
			return f
		}
	}
	return nil
}

// badRequest is the failure for a head or body the parser refused: its
// status, 400 when it names none.
func badRequest(err error) *readFailure {
	var pe *h1.Error
	if errors.As(err, &pe) {
		return &readFailure{code: codeForStatus(pe.Status), err: err}
	}
	return &readFailure{code: Code400BadRequest, err: err}
}

// bufferChunked reads a chunked body up to MaxBufferedBody raw bytes ahead
// of the handler and checks its framing on a copy, so that a malformed body
// is answered 400 before any handler runs, read by it or not. A longer body
// streams through Recv, which checks the rest.
func (s *h1State) bufferChunked() *readFailure {
	c := s.c
	var dec h1.ChunkedDecoder
	scratch := c.scratchBuf()
	checked := 0 // raw bytes after c.start already run through dec
	for !dec.Done() {
		if c.start+checked < c.end {
			n := copy(scratch, c.buf[c.start+checked:c.end])
			_, used, err := dec.Decode(scratch[:n])
			if err != nil {
				return badRequest(err)
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

// skipBody drops what the last handler left of its request body.
func (s *h1State) skipBody() error {
	c := s.c
	if s.body.finished() {
		return nil
	}
	c.armReadDeadline()
	scratch := c.scratchBuf()
	for skipped := 0; !s.body.finished(); {
		n, err := s.readBody(scratch)
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
func (s *h1State) readBody(p []byte) (int, error) {
	c, b := s.c, &s.body
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
		n, err := c.readBuffered(p)
		if n == 0 {
			return 0, err
		}
		b.left -= int64(n)
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
			if !errors.Is(err, ErrSockTimeout) {
				b.broken = true
			}
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

var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// errBodyTooSlow fails a body that arrives slower than Config.MinBodyRate.
// It is not a timeout, so a handler's retry loop (ESP-IDF's "continue on
// HTTPD_SOCK_ERR_TIMEOUT") ends.
var errBodyTooSlow = &sockError{kind: ErrSockFail, cause: errors.New("request body slower than MinBodyRate")}

// recv is Req.Recv on HTTP/1.1: 100 Continue on the first call when the
// client asked for it, then body bytes under a fresh RecvWaitTimeout that
// MinBodyRate may shorten.
func (s *h1State) recv(r *Req, p []byte) (int, error) {
	c, b := s.c, &s.body
	switch {
	case b.tooSlow:
		return 0, errBodyTooSlow
	case b.finished():
		return 0, io.EOF
	case b.broken:
		return 0, ErrSockFail
	case len(p) == 0:
		return 0, nil
	}
	if s.head.Expect100 && !s.sent100 && r.resp == respNone {
		s.sent100 = true
		if err := c.sendAll(continue100); err != nil {
			return 0, err
		}
	}
	deadline, byRate := s.bodyDeadline()
	c.nc.SetReadDeadline(deadline)
	n, err := s.readBody(p)
	b.streamed += int64(n)
	if n == 0 && byRate && errors.Is(err, ErrSockTimeout) {
		// Waiting again would fail at once: the rate is already missed.
		b.tooSlow, b.broken = true, true
		c.h.log.Warn("request body too slow, closing the session", "fd", c.fd,
			"received", b.streamed, "min_rate", c.h.cfg.MinBodyRate)
		return 0, errBodyTooSlow
	}
	return n, err
}

// bodyDeadline is RecvWaitTimeout from now, as ESP-IDF gives every recv,
// but no later than Config.MinBodyRate allows (byRate then): a handler
// reading a body holds the worker, so a client trickling bytes just fast
// enough to beat each timeout must not hold it for ever.
func (s *h1State) bodyDeadline() (deadline time.Time, byRate bool) {
	cfg := &s.c.h.cfg
	now := time.Now()
	deadline = now.Add(cfg.RecvWaitTimeout)
	if cfg.MinBodyRate <= 0 {
		return deadline, false
	}
	b := &s.body
	if b.streamStart.IsZero() {
		b.streamStart = now
	}
	allowed := cfg.RecvWaitTimeout + time.Duration(float64(b.streamed)/float64(cfg.MinBodyRate)*float64(time.Second))
	if limit := b.streamStart.Add(allowed); limit.Before(deadline) {
		return limit, true
	}
	return deadline, false
}

func (s *h1State) header(name string) ([]byte, bool) { return s.head.Header(name) }

func (s *h1State) eachHeader(yield func(name, value string) bool) {
	for _, f := range s.head.Headers {
		if !yield(string(f.Name), string(f.Value)) {
			return
		}
	}
}

// connHeader decides what the head says about the connection, and whether
// the session closes after the response.
func (s *h1State) connHeader(r *Req, hd *respHead) h1.ConnHeader {
	if hd.framing == h1.FramingChunked && s.head.ProtoMinor == 0 {
		// No chunked coding for HTTP/1.0: the close ends the body.
		hd.framing = h1.FramingClose
		r.forceClose = true
	}
	if b := &s.body; !b.chunked && b.left == s.head.ContentLength && b.left-int64(s.c.end-s.c.start) > maxDiscard {
		// The handler answers without having read any of a body too large
		// to discard: the session will close, and the client must know it
		// before it reuses the connection (net/http does the same). A
		// handler that has started reading (a streaming echo) is trusted
		// to read on.
		r.forceClose = true
	}
	if r.forceClose || s.head.Close || s.c.h.draining.Load() {
		r.forceClose = true
		return h1.ConnClose
	}
	if s.head.ProtoMinor == 0 {
		for _, f := range hd.fields {
			if equalFold(f.Name, "Connection") {
				return h1.ConnUnsaid // the handler said it
			}
		}
		// An HTTP/1.0 client that asked for keep-alive needs to hear it.
		return h1.ConnKeepAlive
	}
	return h1.ConnUnsaid
}

// send writes a response on HTTP/1.1. Small bodies leave in one send with
// the head; a chunk leaves before send returns, so a handler's chunks are
// seen by the client as it sends them.
func (s *h1State) send(r *Req, hd *respHead, body []byte, str string, last bool) error {
	c := s.c
	w := c.wbuf[:0]
	var withBody bool
	if hd != nil {
		conn := s.connHeader(r, hd)
		s.framing = hd.framing
		w = h1.AppendResponseHead(w, &h1.ResponseHead{Status: hd.status, ContentType: hd.ctype,
			Framing: hd.framing, ContentLength: hd.length, Fields: hd.fields, Connection: conn})
		withBody = hd.hasBody(r.headOnly)
	} else {
		withBody = !r.headOnly && s.framing != h1.FramingNone
	}
	n := len(body) + len(str)
	chunked := s.framing == h1.FramingChunked
	sendBody := withBody && n > 0
	whole := !sendBody || n <= smallBody // everything to send fits in w
	if sendBody {
		if chunked {
			w = h1.AppendChunkHeader(w, n)
		}
		if whole {
			w = append(w, body...)
			w = append(w, str...)
			if chunked {
				w = append(w, crlf...)
			}
		}
	}
	if withBody && last && chunked && whole {
		w = append(w, "0\r\n\r\n"...)
	}
	c.wbuf = w
	if last && whole {
		// The end of a response in one buffer (RespSend of a small body,
		// the common case, or the last chunk): the session's reader
		// writes it after the handler, before it reads the next request,
		// so the one worker never waits in write(2) and the sends of many
		// sessions run in parallel. A failed write closes the session, as
		// a failed send would.
		c.deferOut(len(w))
		return nil
	}
	if whole {
		if len(w) == 0 {
			return nil
		}
		return c.sendAll(w)
	}
	// A large piece goes out from the caller's memory, without a copy.
	var tail []byte
	if chunked {
		tail = crlf
		if last {
			tail = crlfLastChunk
		}
	}
	if body != nil {
		c.armWriteDeadline()
		return c.sendv(&s.sendv, w, body, tail)
	}
	if err := c.sendAll(w); err != nil {
		return err
	}
	if err := c.sendString(str); err != nil {
		return err
	}
	return c.sendAll(tail)
}

var (
	crlf          = []byte("\r\n")
	crlfLastChunk = []byte("\r\n0\r\n\r\n")
)

// sendRaw is httpd_send: the handler's bytes go out as they are.
func (s *h1State) sendRaw(r *Req, p []byte) (int, error) {
	if err := s.c.flushOut(); err != nil {
		return 0, err
	}
	s.c.armWriteDeadline()
	return s.c.send(p, 0)
}

// hijack hands the connection over: bytes already buffered come first.
func (s *h1State) hijack(r *Req) (net.Conn, error) {
	c := s.c
	if err := c.flushOut(); err != nil {
		return nil, err
	}
	c.hijacked = true
	// The request's receive and send timeouts end with it: the new owner
	// sets its own deadlines on the returned net.Conn (a Zephyr WebSocket
	// callback owns its socket without any).
	c.nc.SetDeadline(time.Time{})
	c.writeDeadline.Store(0)
	hc := &hijackedConn{Conn: c.nc, c: c}
	if c.end > c.start {
		hc.buffered = append([]byte(nil), c.buf[c.start:c.end]...)
		c.start = c.end
	}
	return hc, nil
}

// finish ends an HTTP/1.1 request on the worker: it answers what the
// handler left unanswered, then closes the session or hands it back to the
// reader for the next request.
func (s *h1State) finish(r *Req, failed bool) {
	c, b := s.c, &s.body
	if r.resp == respNone && (b.badFraming || b.tooSlow) {
		// The handler met a malformed chunked body, or a client too slow
		// for MinBodyRate, and gave up: the client hears why.
		r.forceClose = true
		if b.badFraming {
			r.RespSendErr(Code400BadRequest, "")
		} else {
			r.RespSendErr(Code408ReqTimeout, "")
		}
	}
	if r.resp == respStreaming && !failed {
		// The handler forgot the terminating empty chunk: end the body so
		// the client is not left waiting.
		r.RespSendChunk(nil)
	}
	r.valid = false
	stop := failed || c.wantStop || r.forceClose || s.head.Close || b.broken || c.h.draining.Load()
	if !stop && !b.finished() {
		unbuffered := b.left - int64(c.end-c.start)
		switch {
		case s.head.Expect100 && !s.sent100:
			// The client may be waiting for 100 Continue and never send the
			// body: the connection cannot be reused reliably.
			stop = true
		case !b.chunked && unbuffered > maxDiscard:
			stop = true
		}
	}
	if stop {
		// A client that asked for the close, whose request was read to
		// its end, sends nothing more: its socket closes at once, without
		// the lingering half-close that keeps a client still sending
		// from a reset (and costs a goroutine, a shutdown and a read).
		c.closeNow = s.head.Close && !failed && b.finished() && c.end == c.start
		c.h.closeSession(c)
		return
	}
	c.toReader()
}

// uriString turns the parsed target into a string, reusing the previous
// request's string when the bytes are the same, so a keep-alive client
// polling one URI costs no allocation.
func (s *h1State) uriString(b []byte) string {
	if string(b) == s.lastURI { // compiled without allocating
		return s.lastURI
	}
	if u := s.c.h.exactTemplate(b); u != "" {
		s.lastURI = u
		return u
	}
	s.lastURI = string(b)
	return s.lastURI
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// originForm turns an absolute-form request target ("http://host/p?q",
// RFC 9112 3.2.2, which servers must accept) into the path and query that
// handlers see and URIs are matched on; other targets are returned as
// they are.
func originForm(target []byte) []byte {
	if len(target) == 0 || target[0] == '/' || target[0] == '*' {
		return target // origin-form and asterisk-form: nearly every request
	}
	rest, ok := cutSchemeFold(target, "http://")
	if !ok {
		if rest, ok = cutSchemeFold(target, "https://"); !ok {
			return target
		}
	}
	for i, b := range rest {
		switch b {
		case '/':
			return rest[i:]
		case '?':
			return append([]byte{'/'}, rest[i:]...)
		}
	}
	return []byte{'/'}
}

func cutSchemeFold(b []byte, scheme string) ([]byte, bool) {
	if len(b) < len(scheme) {
		return b, false
	}
	for i := range len(scheme) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != scheme[i] {
			return b, false
		}
	}
	return b[len(scheme):], true
}

func (s *h1State) proto() string {
	if s.head.ProtoMinor == 0 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}
