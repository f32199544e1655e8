package httpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
	"github.com/esphttpd/esphttpd/sess"
)

// ToHTTP returns an http.Handler that serves every request with fn, so
// that code written against this API can be embedded where net/http
// already runs (an http.Server, a ServeMux next to other handlers) or
// tested under an httptest.Server. It is FromHTTP's other direction.
//
// fn gets a Req as on a handle: Method, URI (the request target as sent),
// ContentLen, the header, query and cookie accessors, Recv (streaming the
// body, each call bounded by DefaultConfig's RecvWaitTimeout through the
// connection's read deadline, a timeout matching ErrSockTimeout), every
// Resp* call, raw Send (the HTTP/1.x response the handler writes is
// parsed and relayed through the ResponseWriter, as over HTTP/2 on a
// handle), AsyncHandlerBegin and AsyncHandlerComplete, QueueWork,
// Req.Context (cancelled when the client goes away, as net/http's request
// context is) and Req.Proto (net/http's Proto). Requests that one ToHTTP
// handler serves run one at a time, each with the work functions it
// queued, as on a handle's worker, so ported handlers that share state
// without locks stay correct; an async request's goroutine runs beside
// them, as on a handle.
//
// What a handle has and a net/http server does not, each a limit here:
//   - No sessions. Each request is served in a session of its own that
//     ends with the request: SessCtx and its FreeCtx live for one request
//     (FreeCtx runs when it ends), Sockfd is that session's id, and
//     SessTriggerClose, the transport overrides, SocketSend and SocketRecv
//     reach no connection. There is no LRU purge and no MaxOpenSockets:
//     the http.Server's own limits apply.
//   - r.Handle is a stand-in for the request's duration, not a started
//     server: its Port is 0, registering URI handlers on it serves
//     nothing, and QueueWork fails with ErrFail once the request ended.
//   - Response headers count against DefaultConfig's MaxRespHeaders as on
//     a handle. The status line's text is net/http's for the code
//     (RespSetStatus("299 Fine") is sent as "299 status code 299"), and
//     a 1xx status cannot be the final response.
//   - HdrAll yields the fields net/http kept in http.Request.Header,
//     sorted by name (the order they arrived in is lost), and Host first
//     over HTTP/1.x; net/http drops Transfer-Encoding.
//   - No WebSocket: URI.IsWebsocket and WebsocketResource need the
//     handle's frame reader. Req.Hijack works where the ResponseWriter
//     implements http.Hijacker (HTTP/1.x); over HTTP/2 it returns
//     ErrInvalidState, as on a handle.
//   - A handler that returns an error after its response started, or
//     fails before answering, aborts the response (net/http closes the
//     connection or resets the HTTP/2 stream), where a handle closes the
//     session. A handler that answers nothing gets net/http's empty 200.
//
// Routing is net/http's: register each handler on a ServeMux with a
// pattern (404 and 405 are then the mux's), or route inside fn.
func ToHTTP(fn HandlerFunc) http.Handler { return ToHTTPConfig(DefaultConfig(), fn) }

// ToHTTPConfig is ToHTTP under cfg instead of DefaultConfig. The fields
// that speak of a request apply as on a handle: Logger, AccessLog,
// EventHandler (with the stand-in session's id), MaxRespHeaders,
// RecvWaitTimeout and MaxReqBodySize (413 before the body is read when
// Content-Length exceeds it). Those of a listener, its sessions and
// transport (ports, MaxOpenSockets, LRU, keep-alive, HTTP2, open and close
// callbacks) have no meaning under net/http and are ignored.
func ToHTTPConfig(cfg Config, fn HandlerFunc) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &httpAdapter{fn: fn, cfg: cfg, log: log}
}

// httpAdapter is the http.Handler ToHTTP returns.
type httpAdapter struct {
	fn  HandlerFunc
	cfg Config
	log *slog.Logger
	// worker is held while user code runs (the handler, work functions,
	// free functions), as one goroutine runs all of it on a handle.
	worker sync.Mutex
}

// ServeHTTP serves req with the adapter's handler through the same
// request setup and teardown as a handle's (beginReq, endReq), on a
// one-request stand-in handle and session.
func (a *httpAdapter) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	h := a.standIn(req)
	rsp := newHTTPResponder(w, req, a.cfg.RecvWaitTimeout)
	c := newConn(h, newStandInConn(req))
	s, err := h.sessions.Open(c)
	if err != nil { // a fresh one-slot table always has room
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	c.s, c.fd = s, s.ID()
	rsp.c = c

	a.worker.Lock()
	unlocked := false
	defer func() {
		if !unlocked {
			a.worker.Unlock()
		}
	}()
	r := c.beginReq(&c.req, rsp)
	r.Method = methodOf(req.Method)
	r.URI = req.RequestURI
	if r.URI == "" { // a request made in-process rather than read from a client
		r.URI = req.URL.RequestURI()
	}
	r.ContentLen = max(req.ContentLength, 0)
	r.headOnly = req.Method == http.MethodHead
	r.bodyLimit = max(a.cfg.MaxReqBodySize, 0)
	h.endReq(r, a.run(h, r))
	// An async request ends when AsyncHandlerComplete's message comes
	// through the control queue; work functions queued meanwhile run in
	// order, under the worker lock, as the handle's worker runs them.
	for !rsp.finished && !c.hijacked && !c.closed {
		a.worker.Unlock()
		<-h.ready // only wake's wakeUp comes: the stand-in has no readers
		h.wakeQueued.Store(false)
		a.worker.Lock()
		h.runCtrl()
	}
	// Work the handler queued before returning still runs, after it.
	for h.ctrlPosted.Load() {
		h.runCtrl()
	}
	close(h.quit) // from here on QueueWork and AsyncHandlerComplete fail
	h.closeSession(c)
	h.cancelBase()
	a.worker.Unlock()
	unlocked = true
	rsp.closeUnreadBody()
	if rsp.abort {
		// The handler failed with its response unfinished: tell the
		// client, as a handle closing the session would.
		panic(http.ErrAbortHandler)
	}
}

// ResourceHandler returns the handler that RegisterResource would
// register for detail, a *StaticResource or *DynamicResource, so that a
// Zephyr resource can be served by ToHTTP (a *WebsocketResource cannot:
// see ToHTTP).
func ResourceHandler(detail any) (HandlerFunc, error) {
	serve, isWS, err := resourceHandler(detail)
	if err != nil {
		return nil, err
	}
	if isWS {
		return nil, fmt.Errorf("%w: a WebsocketResource needs a handle's session", ErrInvalidArg)
	}
	return serve, nil
}

// run calls the handler under recover, answering 500 when it panics
// before answering, as route does on a handle. It reports failure.
func (a *httpAdapter) run(h *Handle, r *Req) (failed bool) {
	if a.fn == nil {
		r.RespSend404()
		return false
	}
	if r.bodyLimit > 0 && r.ContentLen > r.bodyLimit {
		// As route answers on a handle: before any of the body is read.
		h.handleErr(r, Code413ContentTooLarge)
		return true
	}
	var err error
	if !h.guard("URI handler", func() { err = a.fn(r) }) {
		if r.valid && r.resp == respNone {
			r.RespSend500()
		}
		return true
	}
	if err != nil {
		h.log.Debug("handler failed", "fd", r.c.fd, "uri", r.URI, "err", err)
	}
	return err != nil
}

// standIn is the handle a request of the adapter sees: the adapter's
// config and logger, a one-session table, a control queue, and the
// request's context as the parent of Req.Context. It is never started.
func (a *httpAdapter) standIn(req *http.Request) *Handle {
	h := &Handle{
		cfg:       a.cfg,
		log:       a.log,
		sessions:  sess.NewTable[*conn](1),
		lingering: make(map[*net.TCPConn]struct{}),
		ready:     make(chan *conn, 1),
		quit:      make(chan struct{}),
		ln:        noListener{},
	}
	h.baseCtx, h.cancelBase = context.WithCancel(req.Context())
	h.uris.Store(&[]URI{})
	// Stop on the stand-in must not wait for a worker that never ran.
	h.stopping.Store(true)
	h.stopOnce.Do(func() {})
	return h
}

// methodOf maps a method token to its Method; Unsupported when the
// handle's parser would not know it.
func methodOf(token string) Method {
	for i, name := range h1.MethodNames[:h1.NumMethods] {
		if name == token {
			return Method(i)
		}
	}
	return Unsupported
}

// noListener is the stand-in handle's listener: it accepts nothing.
type noListener struct{}

var errNoListener = errors.New("httpd: the stand-in handle of a ToHTTP request does not listen")

func (noListener) Accept() (net.Conn, error) { return nil, errNoListener }
func (noListener) Close() error              { return nil }
func (noListener) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4zero} }

// standInConn is the stand-in session's connection: it carries the
// request's addresses for SessConn and refuses reads and writes, which go
// through the ResponseWriter and the request body instead.
type standInConn struct {
	local, remote net.Addr
}

var errStandInConn = errors.New("httpd: a ToHTTP request has no connection of its own: use the Req API")

func newStandInConn(req *http.Request) *standInConn {
	c := &standInConn{local: &net.TCPAddr{}, remote: &net.TCPAddr{}}
	if a, ok := req.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		c.local = a
	}
	if a, err := net.ResolveTCPAddr("tcp", req.RemoteAddr); err == nil {
		c.remote = a
	}
	return c
}

func (c *standInConn) Read([]byte) (int, error)         { return 0, errStandInConn }
func (c *standInConn) Write([]byte) (int, error)        { return 0, errStandInConn }
func (c *standInConn) Close() error                     { return nil }
func (c *standInConn) LocalAddr() net.Addr              { return c.local }
func (c *standInConn) RemoteAddr() net.Addr             { return c.remote }
func (c *standInConn) SetDeadline(time.Time) error      { return nil }
func (c *standInConn) SetReadDeadline(time.Time) error  { return nil }
func (c *standInConn) SetWriteDeadline(time.Time) error { return nil }
