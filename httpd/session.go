package httpd

import (
	"net"

	"github.com/esphttpd/esphttpd/sess"
)

// The session API. Like ESP-IDF's, it is meant for the worker: URI and error
// handlers, work functions and the open/close callbacks; from other
// goroutines use QueueWork. SessGetTransportCtx, SessSetTransportCtx,
// SessUpdateLRUCounter, GetClientList, SessConn and SessTriggerClose are
// also safe from other goroutines (transport overrides call them from a
// session's reader).

// session returns the open session with that id, or nil.
func (h *Handle) session(sockfd int) *sess.Session[*conn] {
	h.mu.Lock()
	s := h.sessions.Get(sockfd)
	h.mu.Unlock()
	return s
}

// SessGetCtx returns the session's user context (httpd_sess_get_ctx). Inside
// a handler of that session it returns the request's SessCtx, which the
// handler may have changed.
func (h *Handle) SessGetCtx(sockfd int) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions.Get(sockfd)
	if s == nil {
		return nil
	}
	if r := s.Data.active; r != nil {
		return r.SessCtx
	}
	ctx, _ := s.Ctx()
	return ctx
}

// SessSetCtx sets the session's user context and its free function
// (httpd_sess_set_ctx). A different previous context is freed first. Inside a
// handler of that session it sets the request's SessCtx and FreeCtx.
func (h *Handle) SessSetCtx(sockfd int, ctx any, free FreeCtxFunc) {
	h.mu.Lock()
	s := h.sessions.Get(sockfd)
	if s == nil {
		h.mu.Unlock()
		return
	}
	var old sess.Freeable
	if r := s.Data.active; r != nil {
		if !sess.Same(r.SessCtx, ctx) {
			old = sess.Freeable{Ctx: r.SessCtx, Free: r.FreeCtx}
		}
		r.SessCtx, r.FreeCtx = ctx, free
	} else {
		old = s.SetCtx(ctx, free)
	}
	h.mu.Unlock()
	h.guard("session context free function", old.Release)
}

// SessGetTransportCtx returns the session's transport context
// (httpd_sess_get_transport_ctx).
func (h *Handle) SessGetTransportCtx(sockfd int) any {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.sessions.Get(sockfd); s != nil {
		return s.TransportCtx()
	}
	return nil
}

// SessSetTransportCtx sets the session's transport context and its free
// function (httpd_sess_set_transport_ctx).
func (h *Handle) SessSetTransportCtx(sockfd int, ctx any, free FreeCtxFunc) {
	h.mu.Lock()
	s := h.sessions.Get(sockfd)
	var old sess.Freeable
	if s != nil {
		old = s.SetTransportCtx(ctx, free)
	}
	h.mu.Unlock()
	h.guard("transport context free function", old.Release)
}

// SessUpdateLRUCounter marks the session as just used, protecting it from
// the next LRU purge (httpd_sess_update_lru_counter).
func (h *Handle) SessUpdateLRUCounter(sockfd int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions.Get(sockfd)
	if s == nil {
		return ErrNotFound
	}
	h.sessions.Touch(s)
	return nil
}

// GetClientList returns the ids of the open sessions, lowest first
// (httpd_get_client_list).
func (h *Handle) GetClientList() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions.AppendIDs(make([]int, 0, h.sessions.Len()))
}

// SessConn returns the session's network connection, for the open callback
// of a transport such as httpd_ssl that wraps it. Reads and writes must
// still go through the session's recv and send functions.
func (h *Handle) SessConn(sockfd int) net.Conn {
	if s := h.session(sockfd); s != nil {
		return s.Data.nc
	}
	return nil
}
