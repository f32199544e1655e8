package httpd

// HandlerFunc handles a request (the handler of httpd_uri_t). Returning a
// non-nil error closes the session after whatever response was sent, as
// returning anything but ESP_OK does on ESP-IDF.
type HandlerFunc func(r *Req) error

// URI is a URI handler registration (httpd_uri_t).
type URI struct {
	URI     string      // the template the configured matcher compares request paths with
	Method  Method      // the method served, or ANY
	Handler HandlerFunc // called on the worker
	UserCtx any         // handed to the handler as Req.UserCtx

	// IsWebsocket makes the server answer a WebSocket handshake on this
	// GET handler, then call Handler once for the handshake (Method GET,
	// unless WSHandshakeWithoutHandler) and once for every frame received
	// (is_websocket).
	IsWebsocket bool
	// HandleWSControlFrames passes ping, pong and close frames to Handler
	// instead of having the server answer them (handle_ws_control_frames).
	HandleWSControlFrames bool
	// SupportedSubprotocol is echoed in Sec-WebSocket-Protocol when the
	// client offers it (supported_subprotocol).
	SupportedSubprotocol string

	// MaxBodySize bounds this handler's request bodies as
	// Config.MaxReqBodySize does for all: 0 takes the Config's value, a
	// negative value means no limit.
	MaxBodySize int64
	// WSPreHandshake runs on the worker for a valid WebSocket handshake
	// before any 101 is written, with the upgrade request's headers
	// (ws_pre_handshake_cb). Returning an error refuses the handshake:
	// what it sent (say 401 with WWW-Authenticate) is the answer, or 403
	// when it sent nothing; the session closes after it.
	WSPreHandshake HandlerFunc
	// WSPostHandshake runs on the worker right after the 101 is written
	// (ws_post_handshake_cb); the session is a WebSocket by then, so it
	// may send frames. Returning an error closes the session.
	WSPostHandshake HandlerFunc
	// WSHandshakeWithoutHandler answers the handshake without calling
	// Handler, which then sees frames only, as ESP-IDF 6.x does; by
	// default Handler is also called once for the handshake (Method GET),
	// as older ESP-IDF releases do and their ports expect.
	WSHandshakeWithoutHandler bool
}

// RegisterURIHandler adds a URI handler (httpd_register_uri_handler). The
// registration is copied. It fails with ErrHandlersFull when
// Config.MaxURIHandlers are registered, and with ErrHandlerExists when an
// existing template matches this one's URI with the configured matcher for
// the same method (or ANY), exactly the duplicate check ESP-IDF makes.
// Safe from any goroutine, including handlers.
func (h *Handle) RegisterURIHandler(u *URI) error {
	if u == nil || u.URI == "" || u.Handler == nil || !u.Method.valid() {
		return ErrInvalidArg
	}
	h.uriMu.Lock()
	defer h.uriMu.Unlock()
	cur := *h.uris.Load()
	// Duplicates first, as ESP-IDF checks them: re-registering on a full
	// table says "exists", not "full".
	if found, _ := h.findURI(cur, u.URI, u.Method); found != nil {
		h.log.Warn("handler already registered", "uri", u.URI, "method", u.Method.String())
		return ErrHandlerExists // unwrapped: ported code compares with ==
	}
	if len(cur) >= h.cfg.MaxURIHandlers {
		h.log.Warn("no slots left for registering handler", "uri", u.URI, "method", u.Method.String())
		return ErrHandlersFull
	}
	next := make([]URI, len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, *u)
	h.uris.Store(&next)
	h.log.Debug("registered URI handler", "uri", u.URI, "method", u.Method.String())
	return nil
}

// UnregisterURIHandler removes the handler registered with exactly this
// template string and method (httpd_unregister_uri_handler).
func (h *Handle) UnregisterURIHandler(uri string, m Method) error {
	if uri == "" {
		return ErrInvalidArg
	}
	return h.unregister(func(u *URI) bool { return u.URI == uri && u.Method == m })
}

// UnregisterURI removes every handler registered with exactly this template
// string (httpd_unregister_uri).
func (h *Handle) UnregisterURI(uri string) error {
	if uri == "" {
		return ErrInvalidArg
	}
	return h.unregister(func(u *URI) bool { return u.URI == uri })
}

func (h *Handle) unregister(drop func(*URI) bool) error {
	h.uriMu.Lock()
	defer h.uriMu.Unlock()
	cur := *h.uris.Load()
	next := make([]URI, 0, len(cur))
	for i := range cur {
		if !drop(&cur[i]) {
			next = append(next, cur[i])
		}
	}
	if len(next) == len(cur) {
		h.log.Warn("handler not found")
		return ErrNotFound
	}
	h.uris.Store(&next)
	return nil
}

// findURI returns the first handler, in registration order, whose template
// matches path and whose method is m or ANY. When templates match but none
// for this method, it reports Code405MethodNotAllowed; when none match,
// Code404NotFound.
func (h *Handle) findURI(list []URI, path string, m Method) (*URI, ErrCode) {
	code := Code404NotFound
	for i := range list {
		u := &list[i]
		if !h.matches(u.URI, path) {
			continue
		}
		if u.Method == m || u.Method == ANY {
			return u, 0
		}
		code = Code405MethodNotAllowed
	}
	return nil, code
}

func (h *Handle) matches(template, path string) bool {
	if h.match == nil {
		return template == path
	}
	return h.match(template, path)
}
