package httpd

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"github.com/esphttpd/esphttpd/httpd/internal/ws"
	"github.com/esphttpd/esphttpd/sess"
)

// Shutdown stops the server gracefully, as net/http's Server.Shutdown
// does; ESP-IDF has only httpd_stop. It stops accepting at once, then lets
// what is in flight finish: requests being collected or served get their
// responses (with Connection: close), HTTP/2 sessions get GOAWAY and
// finish the streams they opened, WebSocket sessions get a close frame
// (1001, going away) and end with the peer's answer, and idle sessions are
// closed. It returns when no session is left, then stops the server as
// Stop does. If ctx ends first, it stops the server at once (in-flight
// requests are cut off, their contexts cancelled) and returns ctx's error.
// Like Stop, it must not be called from the worker.
func (h *Handle) Shutdown(ctx context.Context) error {
	if h.onWorker() {
		return fmt.Errorf("%w: Shutdown called from the server's own worker goroutine", ErrInvalidArg)
	}
	if !h.draining.Swap(true) {
		h.closing.Store(true)
		h.ln.Close()
		for _, s := range h.http2Sessions() {
			s.conn.GoAway(h2.ErrCode(0), nil)
		}
	}
	// Sessions become idle (an HTTP/2 session: without streams) as their
	// requests finish: look again on every tick, one sweep at a time.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for h.openSessions() > 0 {
		if h.sweepQueued.CompareAndSwap(false, true) {
			if err := h.QueueWork(h.closeIdle); err != nil {
				break // the worker is gone: Stop finishes the job
			}
		}
		select {
		case <-ctx.Done():
			h.Stop()
			return ctx.Err()
		case <-tick.C:
		}
	}
	return h.Stop()
}

// closeIdle runs on the worker while Shutdown waits: it closes the
// sessions that wait for a request (HTTP/2 ones: that have no stream
// left) and starts the close handshake of WebSocket sessions. Sessions in
// the middle of a request are left to finish; their responders close
// them afterwards.
func (h *Handle) closeIdle() {
	defer h.sweepQueued.Store(false)
	h.sessions.All(func(s *sess.Session[*conn]) bool {
		c := s.Data
		switch {
		case c.h2.Load() != nil:
			// GOAWAY went out: the session ends once its streams are done.
			if c.h2.Load().conn.Streams() == 0 {
				h.closeSession(c)
			}
		case c.ws.Load() != nil:
			w := c.ws.Load()
			c.sendFrame(w, true, ws.OpClose, binary.BigEndian.AppendUint16(nil, ws.CloseGoingAway))
		case c.idle.Load() && !c.async && !c.hijacked:
			h.closeSession(c)
		}
		return true
	})
}

func (h *Handle) openSessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions.Len()
}

// http2Sessions lists the HTTP/2 sessions open now.
func (h *Handle) http2Sessions() []*h2Session {
	var list []*h2Session
	h.mu.Lock()
	h.sessions.All(func(s *sess.Session[*conn]) bool {
		if hs := s.Data.h2.Load(); hs != nil {
			list = append(list, hs)
		}
		return true
	})
	h.mu.Unlock()
	return list
}

// Context returns a context that is cancelled when the request's session
// closes or the server stops (Stop, or a Shutdown whose own context
// ended), so that a handler or an async goroutine can give up on work
// nobody will receive. Over HTTP/2 it is cancelled as soon as the
// connection ends; over HTTP/1.1 the server notices a client that left
// when it next reads or writes the session (it does not watch the socket
// while a handler runs). Shutdown itself does not cancel it: in-flight
// requests are meant to finish. The copy AsyncHandlerBegin returns has the
// same context. Safe from any goroutine.
func (r *Req) Context() context.Context {
	if r == nil || r.c == nil {
		return context.Background()
	}
	return r.c.context()
}

// sessCtx is a session's context, made on first use.
type sessCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *conn) context() context.Context {
	if sc := c.ctx.Load(); sc != nil {
		return sc.ctx
	}
	sc := new(sessCtx)
	sc.ctx, sc.cancel = context.WithCancel(c.h.baseCtx)
	if !c.ctx.CompareAndSwap(nil, sc) {
		sc.cancel()
		return c.ctx.Load().ctx
	}
	if c.ended.Load() {
		sc.cancel() // the session closed while this context was being made
	}
	return sc.ctx
}

// cancelContext cancels the session's context, if one was made; it runs
// when the session closes.
func (c *conn) cancelContext() {
	c.ended.Store(true)
	if sc := c.ctx.Load(); sc != nil {
		sc.cancel()
	}
}
