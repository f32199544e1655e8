package httpd

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
	"github.com/esphttpd/esphttpd/sess"
)

// ErrHandlerFunc handles an HTTP error the server detected
// (httpd_err_handler_func_t). It answers through r (RespSendErr or any
// response) and returns nil to keep the session open, an error to close it.
// For Code500InternalServerError the session closes whatever it returns.
// r's URI, Method and headers are only valid for errors found after the
// request head was parsed (404, 405).
type ErrHandlerFunc func(r *Req, code ErrCode) error

// RegisterErrHandler sets the handler for code, or removes it when fn is nil
// (httpd_register_err_handler). Safe from any goroutine.
func (h *Handle) RegisterErrHandler(code ErrCode, fn ErrHandlerFunc) error {
	if !code.valid() {
		return ErrInvalidArg
	}
	h.errMu.Lock()
	h.errHandlers[code] = fn
	h.errMu.Unlock()
	return nil
}

// openSession turns an accepted connection into a session: LRU purge when
// full, the open callback, then the session's reader.
func (h *Handle) openSession(nc net.Conn) {
	if h.sessions.Len() >= h.sessions.Cap() {
		h.mu.Lock() // LRU stamps may be updated from other goroutines
		victim := h.sessions.LeastRecentlyUsed(func(s *sess.Session[*conn]) bool { return s.Data.async })
		h.mu.Unlock()
		if victim == nil {
			h.log.Warn("no free session slot", "remote", nc.RemoteAddr().String())
			nc.Close()
			h.releaseSlot()
			return
		}
		h.log.Debug("LRU purge", "fd", victim.ID())
		h.closeSession(victim.Data)
	}
	h.setSocketOptions(nc)
	c := newConn(h, nc)
	h.mu.Lock()
	s, err := h.sessions.Open(c)
	h.mu.Unlock()
	if err != nil {
		nc.Close()
		h.releaseSlot()
		return
	}
	c.s, c.fd = s, s.ID()
	h.log.Debug("new session", "fd", c.fd, "remote", nc.RemoteAddr().String())
	if fn := h.cfg.OpenFn; fn != nil {
		var oerr error
		if !h.guard("open callback", func() { oerr = fn(h, c.fd) }) || oerr != nil {
			h.log.Debug("open callback refused the session", "fd", c.fd, "err", oerr)
			h.closeSession(c)
			return
		}
	}
	h.emit(EventOnConnected, c.fd, 0)
	h.startReader(c)
}

func (h *Handle) setSocketOptions(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	cfg := &h.cfg
	tc.SetKeepAliveConfig(net.KeepAliveConfig{
		Enable:   cfg.KeepAliveEnable,
		Idle:     cfg.KeepAliveIdle,
		Interval: cfg.KeepAliveInterval,
		Count:    cfg.KeepAliveCount,
	})
	if cfg.EnableSoLinger {
		tc.SetLinger(int(cfg.LingerTimeout / time.Second))
	}
}

// closeSession ends a session: close callback, the contexts' free functions,
// then the socket. Each session is closed once.
func (h *Handle) closeSession(c *conn) {
	if c.closed {
		return
	}
	c.closed = true
	// A response left for the reader (deferOut) goes out first, whoever
	// closes (the handler's own SessTriggerClose, LRU purge, a failed
	// handler), while the transport and its contexts are still there.
	c.flushOut()
	c.active = nil
	if fn := h.cfg.CloseFn; fn != nil {
		h.guard("close callback", func() { fn(h, c.fd) })
	}
	h.mu.Lock()
	user, transport, _ := h.sessions.Close(c.s)
	h.mu.Unlock()
	h.guard("session context free function", user.Release)
	h.guard("transport context free function", transport.Release)
	close(c.done)
	select {
	case c.resume <- struct{}{}: // wakes a reader waiting to be handed the session
	default:
	}
	c.cancelContext()
	h.closeConn(c)
	h.log.Debug("session closed", "fd", c.fd)
	h.emit(EventDisconnected, c.fd, 0)
	h.releaseSlot()
}

// lingerTime bounds how long a closed session's socket keeps draining
// what the client still sends.
const lingerTime = 2 * time.Second

// closeConn closes a session's socket without losing the response: closing
// a TCP socket with unread bytes makes the kernel send a reset, and a reset
// makes the client's kernel drop the response it has not read yet. So the
// write side is shut first and the client's bytes are read and dropped,
// off the worker, until the client closes too or lingerTime passes (RFC
// 9112 section 9.6, net/http's closeWriteAndWait). A client still
// uploading a large body it will never be asked for thus reads its answer
// rather than a reset. Stop closes at once.
func (h *Handle) closeConn(c *conn) {
	tc, ok := c.nc.(*net.TCPConn)
	if !ok || c.closeNow || h.stopping.Load() {
		c.nc.Close()
		return
	}
	h.lingerMu.Lock()
	if h.stopping.Load() { // checked under lingerMu: Stop sweeps under it after setting stopping
		h.lingerMu.Unlock()
		c.nc.Close()
		return
	}
	h.lingering[tc] = struct{}{}
	h.lingerMu.Unlock()
	// Wake the session's reader if it waits for a request: it would hold
	// the socket's read lock, and the socket, until the client wrote or
	// closed. It sees the session ended and returns; the drain below sets
	// its own deadline.
	tc.SetReadDeadline(longAgo)
	tc.CloseWrite()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() {
			h.lingerMu.Lock()
			delete(h.lingering, tc)
			h.lingerMu.Unlock()
			tc.Close()
		}()
		tc.SetReadDeadline(time.Now().Add(lingerTime))
		buf := lingerPool.Get().(*[lingerBufSize]byte)
		defer lingerPool.Put(buf)
		for {
			if _, err := tc.Read(buf[:]); err != nil || h.stopping.Load() {
				return
			}
		}
	}()
}

const lingerBufSize = 32 << 10

var lingerPool = sync.Pool{New: func() any { return new([lingerBufSize]byte) }}

// serve runs on the worker when a session's reader has a request for it (or
// gave up on one).
func (h *Handle) serve(c *conn) {
	if c == wakeUp {
		h.wakeQueued.Store(false) // before the worker looks at what wake announced
		return
	}
	if c.closed {
		return
	}
	if s := c.h2.Load(); s != nil {
		if h.serveStream(c, s) {
			h.runq = append(h.runq, c) // its other streams wait their turn
		}
		return
	}
	c.checkOwner(ownerWorker)
	if f := c.readFail; f != nil {
		c.readFail = nil
		h.serveReadFailure(c, f)
		return
	}
	// The reader stamped the session (LRU) when it handed the request over.
	if w := c.ws.Load(); w != nil {
		h.serveFrame(c, w)
		return
	}
	h.serveH1(c)
}

// serveReadFailure answers what the reader could not collect.
func (h *Handle) serveReadFailure(c *conn, f *readFailure) {
	w := c.ws.Load()
	switch {
	case f.wsClose != 0 && w != nil:
		h.log.Debug("WebSocket protocol error", "fd", c.fd, "code", f.wsClose, "err", f.err)
		h.wsFail(c, w, f.wsClose)
		return
	case f.silent || w != nil:
		h.closeSession(c)
		return
	}
	h.log.Debug("bad request", "fd", c.fd, "status", f.code.Status(), "err", f.err)
	c.h1.head = h1.Request{ProtoMinor: 1, ContentLength: -1}
	c.h1.body = h1Body{}
	r := c.beginReq(&c.req, &c.h1)
	keep := h.handleErr(r, f.code)
	if keep && !f.resumable {
		// Whatever followed the bad head cannot be trusted.
		c.end = c.start
	}
	h.endReq(r, !keep)
}

// serveH1 serves the HTTP/1.1 request the reader collected.
func (h *Handle) serveH1(c *conn) {
	head := &c.h1.head
	r := c.beginReq(&c.req, &c.h1)
	r.Method = Method(head.Method)
	r.URI = c.h1.uriString(originForm(head.URI))
	r.ContentLen = max(head.ContentLength, 0)
	r.headOnly = head.Method == h1.MethodHead
	c.h1.sent100 = false
	if h.cfg.EventHandler != nil {
		for range head.Headers {
			h.emit(EventOnHeader, c.fd, 0)
		}
	}
	if up := head.Upgrade; up != nil && !bytes.EqualFold(up, []byte("websocket")) {
		switch {
		case bytes.EqualFold(up, []byte("h2c")) && h.cfg.HTTP2:
			if h.h2cUpgrade(c, r) {
				h.endReq(r, false) // the reader goes on in HTTP/2
				return
			}
			// Upgrade declined: the request is served over HTTP/1.1.
		default:
			h.endReq(r, !h.handleErr(r, Code400BadRequest))
			return
		}
	}
	h.endReq(r, h.route(r))
}

// beginReq prepares r, a request of session c answered through rsp, with
// the session's context: the one request setup of every protocol.
func (c *conn) beginReq(r *Req, rsp responder) *Req {
	*r = Req{Handle: c.h, c: c, rsp: rsp, valid: true, Method: methodUnknown}
	ctx, free := c.s.Ctx()
	r.SessCtx, r.FreeCtx, r.IgnoreSessCtxChanges = ctx, free, c.s.IgnoreCtxChanges
	c.active = r
	c.wantStop = false
	if c.h.cfg.AccessLog != nil {
		r.started = time.Now()
	}
	return r
}

// route finds r's URI handler and runs it, answering 404, 405 or a failed
// WebSocket handshake through the error handlers. It reports whether the
// request failed, so that the session (or the HTTP/2 stream) ends.
func (h *Handle) route(r *Req) (failed bool) {
	u, code := h.findURI(*h.uris.Load(), r.path(), r.Method)
	if u == nil {
		return !h.handleErr(r, code)
	}
	r.UserCtx = u.UserCtx
	if r.bodyLimit = h.cfg.MaxReqBodySize; u.MaxBodySize != 0 {
		r.bodyLimit = max(u.MaxBodySize, 0)
	}
	if r.bodyLimit > 0 && r.ContentLen > r.bodyLimit {
		// Answered before the handler runs and before any of the body is
		// read: the session closes, so the body need not be.
		h.handleErr(r, Code413ContentTooLarge)
		r.forceClose = true
		return true
	}
	if u.IsWebsocket && r.Method == GET {
		return h.serveWSHandshake(r, u)
	}
	var herr error
	if !h.guard("URI handler", func() { herr = u.Handler(r) }) {
		if r.valid && r.resp == respNone {
			r.forceClose = true
			r.RespSend500()
		}
		return true
	}
	if herr != nil {
		h.log.Debug("handler failed", "fd", r.c.fd, "uri", r.URI, "err", herr)
	}
	return herr != nil
}

// handleErr answers code through its registered handler or the default
// response (httpd_req_handle_err) and reports whether the session may stay
// open.
func (h *Handle) handleErr(r *Req, code ErrCode) (keep bool) {
	h.errMu.Lock()
	fn := h.errHandlers[code]
	h.errMu.Unlock()
	if fn == nil {
		r.forceClose = true
		r.RespSendErr(code, "")
		return false
	}
	var err error
	if !h.guard("error handler", func() { err = fn(r, code) }) {
		if r.valid && r.resp == respNone {
			r.forceClose = true
			r.RespSend500()
		}
		return false
	}
	return err == nil && code != Code500InternalServerError
}

// endReq finishes a request on the worker, whatever its protocol: the one
// teardown path. The request's session context goes back to the session;
// then the protocol ends the response and either serves on or closes.
func (h *Handle) endReq(r *Req, failed bool) {
	c := r.c
	if c.active == r {
		c.active = nil
	}
	if cp := r.asyncCopy; cp != nil {
		if !cp.completed.Load() {
			// AsyncHandlerBegin took the request: AsyncHandlerComplete
			// ends it. A failing handler still closes the session.
			r.valid = false
			if failed {
				h.closeSession(c)
			}
			return
		}
		// The copy was completed while the handler ran, and the handler
		// went on to answer on the original (ESP-IDF's "503 Busy" idiom):
		// the original ends the request; the completion does nothing.
		cp.abandoned = true
		c.async = false
	}
	h.mu.Lock()
	old := c.s.AdoptCtx(r.SessCtx, r.FreeCtx, r.IgnoreSessCtxChanges)
	h.mu.Unlock()
	h.guard("session context free function", old.Release)
	if c.hijacked {
		// The connection belongs to the hijacker; its Close ends the session.
		r.valid = false
		return
	}
	if c.closed {
		r.valid = false
		return
	}
	if r.tooLarge && r.resp == respNone {
		r.RespSendErr(Code413ContentTooLarge, "")
	}
	if h.cfg.AccessLog != nil && !r.wsFrame {
		h.logAccess(r)
	}
	r.rsp.finish(r, failed)
}

// logAccess writes r's record to Config.AccessLog.
func (h *Handle) logAccess(r *Req) {
	status := 0
	if r.resp != respRaw && r.resp != respNone {
		status = r.head.code
	}
	h.cfg.AccessLog.Info("request",
		slog.String("method", r.Method.String()),
		slog.String("uri", r.URI),
		slog.Int("status", status),
		slog.Int64("bytes", r.sent),
		slog.Duration("duration", time.Since(r.started)),
		slog.String("proto", r.Proto()),
		slog.Int("fd", r.c.fd))
}

// AsyncHandlerBegin hands the request to another goroutine
// (httpd_req_async_handler_begin). It returns a copy that stays valid until
// AsyncHandlerComplete; the session is not served again until then, so
// other sessions keep being served while the copy is answered (an HTTP/2
// session serves its other streams meanwhile). r stays valid until the
// handler returns, as on ESP-IDF: a handler that finds no goroutine to
// take the copy completes it and answers on r. Call it from the handler,
// then return nil.
func (r *Req) AsyncHandlerBegin() (*Req, error) {
	if r == nil || !r.valid || r.async || r.asyncCopy != nil {
		return nil, ErrInvalidReq
	}
	if r.holdsSession() && r.c.async {
		return nil, ErrInvalidReq
	}
	cp := new(Req)
	*cp = *r
	cp.async = true
	cp.completed = new(atomic.Bool)
	r.asyncCopy = cp
	if r.holdsSession() {
		r.c.async = true
	}
	return cp, nil
}

// holdsSession reports whether r's session waits while r is answered
// asynchronously: an HTTP/1.1 session has one request at a time, an
// HTTP/2 one serves its other streams meanwhile.
func (r *Req) holdsSession() bool {
	_, ok := r.rsp.(*h1State)
	return ok
}

// AsyncHandlerComplete ends an async request (httpd_req_async_handler_complete):
// the worker finishes it as if its handler had returned nil and serves the
// session's next request. Safe from any goroutine; call it once.
func (r *Req) AsyncHandlerComplete() error { return r.endAsync(false) }

// AsyncHandlerFail ends an async request as a handler returning an error
// ends one, instead of AsyncHandlerComplete: over HTTP/1.1 the session
// closes after what was sent; over HTTP/2 a response left unfinished is
// reset (INTERNAL_ERROR) and the connection's other streams go on. ESP-IDF
// has no such call (its handler would close the socket). Safe from any
// goroutine; call it once.
func (r *Req) AsyncHandlerFail() error { return r.endAsync(true) }

// endAsync hands an async request back to the worker, once.
func (r *Req) endAsync(failed bool) error {
	if r == nil || !r.valid || !r.async || !r.completed.CompareAndSwap(false, true) {
		return ErrInvalidReq
	}
	return r.c.h.post(ctrlMsg{asyncDone: r, asyncFail: failed})
}

// finishAsync runs on the worker when an async request completes (or, with
// failed, fails).
func (h *Handle) finishAsync(r *Req, failed bool) {
	c := r.c
	if r.abandoned || c.closed {
		return
	}
	if r.holdsSession() {
		if !c.async {
			return
		}
		c.async = false
	}
	r.asyncCopy = nil
	r.async = false // the copy is the request now: end it as such
	h.endReq(r, failed)
}

// HandleErr answers code as the server answers the errors it detects
// itself (httpd_req_handle_err): through the error handler registered for
// it, or with its default response. It returns nil when the session may
// stay open and ErrFail when it must close (always for 500, and after a
// default response); a handler passes that on as its own result.
func (r *Req) HandleErr(code ErrCode) error {
	if r == nil || !r.valid {
		return ErrInvalidReq
	}
	if !code.valid() {
		return ErrInvalidArg
	}
	if !r.Handle.handleErr(r, code) {
		return ErrFail
	}
	return nil
}
