package httpd

// serveWSHandshake serves a GET on WebSocket URI u: the opening handshake
// with its callbacks, then, unless u.WSHandshakeWithoutHandler, the URI
// handler for the handshake as ESP-IDF before 6.0 does. It reports whether
// the request failed, so that the session ends.
//
// Order: a request that is not a valid handshake is refused (400, 426)
// before anything of u runs; then WSPreHandshake, which may refuse with a
// response of its own; then the 101; then WSPostHandshake; then Handler.
func (h *Handle) serveWSHandshake(r *Req, u *URI) (failed bool) {
	if pre := u.WSPreHandshake; pre != nil {
		if _, code, ok := wsUpgradeKey(r); !ok {
			h.refuseWSUpgrade(r, code)
			return true
		}
		if !h.wsPreHandshake(r, pre) {
			return true
		}
	}
	if h.wsHandshake(r, u) {
		return true // refused before the handler ran; the session closes
	}
	if r.c.wantStop {
		return true // the 101 could not be sent
	}
	if post := u.WSPostHandshake; post != nil {
		var err error
		if !h.guard("WebSocket post-handshake callback", func() { err = post(r) }) || err != nil {
			h.log.Debug("ws_post_handshake_cb failed", "fd", r.c.fd, "err", err)
			return true
		}
	}
	if u.WSHandshakeWithoutHandler {
		return false
	}
	var herr error
	if !h.guard("URI handler", func() { herr = u.Handler(r) }) {
		return true
	}
	if herr != nil {
		h.log.Debug("handler failed", "fd", r.c.fd, "uri", r.URI, "err", herr)
	}
	return herr != nil
}

// wsPreHandshake runs the pre-handshake callback and reports whether the
// handshake may go on. A refusal is answered with the response the
// callback sent, or 403 through the error handlers when it sent none (500
// when it panicked); the
// session closes after it, as ESP-IDF's does when the callback fails. A
// callback that responds yet returns nil has refused too: a 101 cannot
// follow a response.
func (h *Handle) wsPreHandshake(r *Req, pre HandlerFunc) bool {
	r.forceClose = true // a refusal's response says Connection: close
	var err error
	ok := h.guard("WebSocket pre-handshake callback", func() { err = pre(r) })
	if ok && err == nil && r.resp == respNone {
		r.forceClose = false
		return true
	}
	h.log.Debug("ws_pre_handshake_cb refused the handshake", "fd", r.c.fd, "uri", r.URI, "err", err)
	switch {
	case !r.valid || r.resp != respNone:
	case !ok:
		r.RespSend500()
	default:
		h.handleErr(r, Code403Forbidden)
	}
	return false
}
