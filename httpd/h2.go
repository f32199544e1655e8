package httpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"golang.org/x/net/http2/hpack"
)

// HTTP/2 on the handle. A session speaks HTTP/2 from its first byte (prior
// knowledge, or TLS with ALPN "h2": both open with the client preface) or
// after an h2c upgrade. Its reader goroutine then runs the h2 engine's
// ReadFrame loop and queues each complete request; the worker serves the
// queued streams one at a time, round robin with the other sessions, with
// the same handlers and the same Req API as on HTTP/1.1.

// h2Session is the HTTP/2 state of one session.
type h2Session struct {
	conn *h2.Conn

	mu       sync.Mutex
	queue    []h2.Event // requests waiting for the worker, in arrival order
	signaled bool       // the session is in Handle.ready or Handle.runq

	// spare holds the streams whose request ended, for the next ones: a
	// stream struct (with its Req) per request would be the session's
	// only allocation per GET. Worker only: streams begin and finish there.
	spare []*h2Stream
}

// h2Stream is one request of an HTTP/2 session: its Req, and the
// responder that answers the Req on the stream.
type h2Stream struct {
	req   Req
	s     *h2Session
	c     *conn
	ev    h2.Event
	ended bool   // END_STREAM went out
	raw   *rawH2 // the HTTP/1.x response a handler writes with Send, being relayed

	// fieldsBuf holds a typical response's header fields (content type,
	// length, a few of the handler's), so building them allocates nothing;
	// the stream's goroutine alone uses it.
	fieldsBuf [6]hpack.HeaderField

	// lengthText is the content-length value last sent by this struct
	// (kept when it is recycled), formatted from length: a session
	// answering many requests of one size formats it once.
	length     int64
	lengthText string
}

// maxSpareStreams bounds the stream structs an HTTP/2 session keeps for
// reuse; more are only in use while their handlers run asynchronously.
const maxSpareStreams = 4

// newStream returns a stream struct for ev, recycled when one is spare.
// Worker only.
func (s *h2Session) newStream(c *conn, ev h2.Event) *h2Stream {
	n := len(s.spare)
	if n == 0 {
		return &h2Stream{s: s, c: c, ev: ev, length: -1}
	}
	st := s.spare[n-1]
	s.spare[n-1] = nil
	s.spare = s.spare[:n-1]
	*st = h2Stream{s: s, c: c, ev: ev, length: st.length, lengthText: st.lengthText}
	return st
}

// release keeps st for a later request of the session once its own has
// ended. Nothing of the old request survives in it: newStream rewrites
// every field but the content-length cache, and beginReq the whole Req.
// Worker only.
func (s *h2Session) release(st *h2Stream) {
	if len(s.spare) < maxSpareStreams {
		st.ev = h2.Event{} // the engine reuses the header list's array
		st.raw = nil
		s.spare = append(s.spare, st)
	}
}

// contentLength returns n as a content-length value.
func (st *h2Stream) contentLength(n int64) string {
	if n != st.length {
		st.length, st.lengthText = n, strconv.FormatInt(n, 10)
	}
	return st.lengthText
}

func (h *Handle) h2Config() *h2.Config {
	return &h2.Config{
		MaxConcurrentStreams: uint32(h.cfg.HTTP2MaxConcurrentStreams),
		MaxFrameSize:         uint32(h.cfg.HTTP2MaxFrameSize),
		MaxHeaderListSize:    uint32(h.cfg.HTTP2MaxHeaderListSize),
	}
}

// isPrefacePrefix reports whether b could be the start of the HTTP/2 client
// preface, and whether it is all of it.
func isPrefacePrefix(b []byte) (prefix, whole bool) {
	n := min(len(b), len(h2.ClientPreface))
	if string(b[:n]) != h2.ClientPreface[:n] {
		return false, false
	}
	return true, n == len(h2.ClientPreface)
}

// notHTTP reports whether the first line of b has three fields and the
// third, the protocol, is not HTTP/: a failed HTTP/2 preface rather than a
// malformed HTTP/1.1 request, which gets its 400.
func notHTTP(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := bytes.Fields(line)
	return len(fields) == 3 && !bytes.HasPrefix(fields[2], []byte("HTTP/"))
}

// h2Reader feeds the engine: the bytes the session had buffered first, then
// the session's recv function.
type h2Reader struct{ c *conn }

func (r h2Reader) Read(p []byte) (int, error) {
	c := r.c
	if c.end > c.start {
		n := copy(p, c.buf[c.start:c.end])
		c.start += n
		return n, nil
	}
	n, err := c.recv(p, 0)
	if n == 0 && err == nil {
		err = io.ErrNoProgress
	}
	return n, err
}

// h2Writer sends a frame whole under the send timeout; the engine
// serialises frames.
type h2Writer struct{ c *conn }

func (w h2Writer) Write(p []byte) (int, error) {
	if err := w.c.sendAll(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// serveH2 runs on the session's reader goroutine for the rest of the
// session: it starts the engine (up is the h2c upgrade, or nil), queues
// requests for the worker, and when the connection ends has the worker close
// the session.
func (c *conn) serveH2(up *h2.Upgrade) {
	h := c.h
	defer h.post(ctrlMsg{closeConn: c})
	// The connection is gone: handlers still running for its streams
	// (or their async goroutines) learn it from Req.Context now, not when
	// the worker gets round to closing the session.
	defer c.cancelContext()
	br := bufio.NewReaderSize(h2Reader{c}, 16<<10)
	c.armReadDeadline() // the preface
	var conn *h2.Conn
	var err error
	if up != nil {
		conn, err = h2.NewUpgradedConn(br, h2Writer{c}, h.h2Config(), up)
	} else {
		conn, err = h2.NewServerConn(br, h2Writer{c}, h.h2Config())
	}
	if err != nil {
		h.log.Debug("HTTP/2 preface failed", "fd", c.fd, "err", err)
		return
	}
	s := &h2Session{conn: conn}
	c.h2.Store(s)
	defer conn.Close()
	c.nc.SetReadDeadline(time.Time{}) // idle HTTP/2 sessions wait, as HTTP/1.1 ones do
	for {
		ev, err := conn.ReadFrame()
		if err != nil {
			var ce *h2.ConnError
			if errors.As(err, &ce) {
				h.log.Debug("HTTP/2 connection error", "fd", c.fd, "code", ce.Code.String(), "reason", ce.Reason)
				lingerAfterGoAway(c)
			}
			return
		}
		switch ev.Kind {
		case h2.EventRequest, h2.EventHeaderTooLarge:
			if !s.push(ev) {
				continue
			}
			select {
			case h.ready <- c:
			case <-c.done:
				return
			}
		}
	}
}

// push queues a request and reports whether the session must be signalled
// to the worker (it was not already waiting there).
func (s *h2Session) push(ev h2.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, ev)
	if s.signaled {
		return false
	}
	s.signaled = true
	return true
}

// pop takes the next request; more reports whether others wait behind it.
func (s *h2Session) pop() (ev h2.Event, ok, more bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		s.signaled = false
		return ev, false, false
	}
	ev = s.queue[0]
	// Shift down rather than reslice, so the array is reused and pushing
	// allocates nothing (the queue holds at most MaxConcurrentStreams).
	n := copy(s.queue, s.queue[1:])
	s.queue[n] = h2.Event{}
	s.queue = s.queue[:n]
	more = n > 0
	if !more {
		s.signaled = false
	}
	return ev, true, more
}

// lingerAfterGoAway half-closes a TCP connection and reads what the peer
// still sends for a moment, so that it sees our GOAWAY rather than a reset.
func lingerAfterGoAway(c *conn) {
	tc, ok := c.nc.(*net.TCPConn)
	if !ok || c.recvFn != nil {
		return // under TLS the close_notify does the job
	}
	tc.CloseWrite()
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(c.nc, 1<<20))
}

// serveStream serves the next queued request of an HTTP/2 session on the
// worker. It reports whether more requests of the session are waiting.
func (h *Handle) serveStream(c *conn, s *h2Session) (more bool) {
	ev, ok, more := s.pop()
	if !ok || c.closed {
		return false
	}
	if !s.conn.Alive(ev.Stream) {
		s.conn.StreamDone(ev.Stream)
		return more
	}
	h.sessions.Touch(c.s)
	st := s.newStream(c, ev)
	r := c.beginReq(&st.req, st)
	if ev.Kind == h2.EventHeaderTooLarge {
		h.handleErr(r, Code431ReqHdrFieldsTooLarge)
		h.endReq(r, false)
		return more
	}
	m, known := h1.LookupMethod([]byte(ev.Method))
	r.URI = ev.Path
	r.ContentLen = max(ev.ContentLength, 0)
	if !known {
		h.handleErr(r, Code501MethodNotImplemented)
		h.endReq(r, false)
		return more
	}
	r.Method = Method(m)
	r.headOnly = r.Method == HEAD
	if h.cfg.EventHandler != nil {
		for range st.fields() {
			h.emit(EventOnHeader, c.fd, 0)
		}
	}
	h.endReq(r, h.route(r))
	return more
}

// finish ends a stream's request: an open response is ended (or, when the
// handler failed before ending it, the stream reset: a failing handler on
// HTTP/1.1 closes its session, but here the session carries other
// streams), and the engine releases the stream.
func (st *h2Stream) finish(r *Req, failed bool) {
	conn := st.s.conn
	switch {
	case failed && !st.ended:
		st.c.h.log.Debug("handler failed, resetting the stream", "fd", st.c.fd, "stream", st.ev.Stream)
		conn.ResetStream(st.ev.Stream, h2.ErrCode(0x2)) // INTERNAL_ERROR
	case r.resp == respStreaming:
		r.RespSendChunk(nil)
	case st.raw != nil:
		st.raw.finish(r, st)
	}
	r.valid = false
	conn.StreamDone(st.ev.Stream)
	st.s.release(st)
}

// fields yields the request's regular header fields (not pseudo-headers).
func (st *h2Stream) fields() []hpack.HeaderField {
	hf := st.ev.Header
	for len(hf) > 0 && strings.HasPrefix(hf[0].Name, ":") {
		hf = hf[1:]
	}
	return hf
}

// header looks a request header up by name; Host is :authority, and
// repeated cookie fields are joined as one Cookie header (RFC 9113 8.2.3).
func (st *h2Stream) header(name string) ([]byte, bool) {
	if strings.EqualFold(name, "host") {
		return []byte(st.ev.Authority), st.ev.Authority != ""
	}
	var joined []byte
	found := false
	for _, f := range st.fields() {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		if !strings.EqualFold(name, "cookie") {
			return []byte(f.Value), true
		}
		if found {
			joined = append(joined, "; "...)
		}
		joined = append(joined, f.Value...)
		found = true
	}
	return joined, found
}

func (st *h2Stream) eachHeader(yield func(name, value string) bool) {
	for _, f := range st.fields() {
		if !yield(f.Name, f.Value) {
			return
		}
	}
}

// writeHead sends the response HEADERS: status, content type, length when
// known, the handler's fields. endStream when no body follows.
func (st *h2Stream) writeHead(code int, fields []hpack.HeaderField, endStream bool) error {
	err := st.s.conn.WriteHeaders(st.ev.Stream, code, fields, endStream)
	if err == nil && endStream {
		st.ended = true
	}
	return err
}

// send writes a response on the stream: HEADERS, then the body in DATA
// frames; the last piece ends the stream.
func (st *h2Stream) send(r *Req, hd *respHead, body []byte, str string, last bool) error {
	if hd != nil {
		fields := append(st.fieldsBuf[:0], hpack.HeaderField{Name: "content-type", Value: hd.ctype})
		if hd.framing == h1.FramingLength {
			fields = append(fields, hpack.HeaderField{Name: "content-length", Value: st.contentLength(hd.length)})
		}
		for _, f := range hd.fields {
			fields = append(fields, hpack.HeaderField{Name: f.Name, Value: f.Value})
		}
		if err := st.writeHead(hd.code, fields, !hd.hasBody(r.headOnly)); err != nil {
			return err
		}
	}
	if st.ended {
		return nil
	}
	if body == nil && str != "" {
		body = []byte(str)
	}
	return st.writeData(body, last)
}

func (st *h2Stream) writeData(p []byte, last bool) error {
	if err := st.s.conn.WriteData(st.ev.Stream, p, last, st.c.sendDeadline()); err != nil {
		return sockErr(err)
	}
	if last {
		st.ended = true
	}
	return nil
}

func (c *conn) sendDeadline() time.Time { return time.Now().Add(c.h.cfg.SendWaitTimeout) }

// recv is Req.Recv on a stream.
func (st *h2Stream) recv(r *Req, buf []byte) (int, error) {
	n, err := st.s.conn.ReadData(st.ev.Stream, buf, time.Now().Add(st.c.h.cfg.RecvWaitTimeout))
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case errors.Is(err, h2.ErrConnClosed):
		return n, io.ErrUnexpectedEOF
	}
	var se *h2.StreamResetError
	if errors.As(err, &se) {
		return n, &sockError{kind: ErrSockFail, cause: err}
	}
	return n, sockErr(err)
}

func (st *h2Stream) proto() string { return "HTTP/2.0" }

// hijack: one stream cannot take the connection its session shares.
func (st *h2Stream) hijack(*Req) (net.Conn, error) { return nil, ErrInvalidState }

// h2cUpgrade answers an HTTP/1.1 request asking for h2c (RFC 7540 3.2): it
// reads the body, sends 101 and prepares the session's reader to continue
// in HTTP/2 with the request as stream 1. It reports false when the upgrade
// is not taken (the request is then served over HTTP/1.1).
func (h *Handle) h2cUpgrade(c *conn, r *Req) bool {
	head := &c.h1.head
	settings, ok := head.Header("HTTP2-Settings")
	connection, _ := head.Header("Connection")
	if !ok || !hasToken(connection, "http2-settings") {
		return false
	}
	payload, err := h2.DecodeSettingsHeader(string(settings))
	if err != nil {
		return false
	}
	if head.ContentLength > int64(h.cfg.MaxBufferedBody) || head.Chunked || head.Expect100 {
		return false // RFC 7540: a server may ignore the upgrade; the body would hold the worker
	}
	up := &h2.Upgrade{Settings: payload, Method: h1.MethodNames[head.Method], Path: string(head.URI)}
	host, _ := head.Header("Host")
	up.Authority = string(host)
	for _, f := range head.Headers {
		up.Header = append(up.Header, hpack.HeaderField{Name: strings.ToLower(string(f.Name)), Value: string(f.Value)})
	}
	var body bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := c.h1.readBody(buf)
		body.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
	}
	up.Body = body.Bytes()
	if err := c.sendAll(switchToH2c); err != nil {
		c.wantStop = true
		return true
	}
	r.headersGone = true
	r.resp = respDone
	c.h2start = &h2Start{up: up}
	return true
}

var switchToH2c = []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
