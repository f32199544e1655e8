package httpd

import (
	"net"
	"sync"
)

// Hijack takes the request's connection away from the server and hands it
// to the caller, as Zephyr's WebSocket resources hand the socket to the
// application. The server stops reading and answering the session but keeps
// it in its table, so it still counts toward MaxOpenSockets, takes part in
// LRU purge, and is closed by Stop. Reads and writes on the returned
// net.Conn still go through the session's recv and send functions (and so
// through TLS under httpd_ssl); bytes the server had already buffered come
// first. Closing it ends the session the usual way (close callback, free
// functions, socket). Call it from the handler before returning; the
// handler's return value is then ignored.
//
// Over HTTP/2 a stream cannot take the connection it shares with other
// streams: Hijack returns ErrInvalidState there.
func (r *Req) Hijack() (net.Conn, error) {
	if r == nil || !r.valid || r.c.async {
		return nil, ErrInvalidReq
	}
	conn, err := r.rsp.hijack(r)
	if err != nil {
		return nil, err
	}
	r.headersGone = true
	if r.resp == respNone {
		r.resp = respRaw
	}
	return conn, nil
}

// hijackedConn is a session's connection after Hijack.
type hijackedConn struct {
	net.Conn
	c         *conn
	mu        sync.Mutex // one reader at a time: recv functions keep state
	buffered  []byte
	closeOnce sync.Once
}

func (hc *hijackedConn) Read(p []byte) (int, error) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if len(hc.buffered) > 0 {
		n := copy(p, hc.buffered)
		hc.buffered = hc.buffered[n:]
		return n, nil
	}
	return hc.c.recv(p, 0)
}

func (hc *hijackedConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := hc.c.send(p[written:], 0)
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// Close ends the session through the worker; the socket is closed right
// away too, so a caller's pending Read returns.
func (hc *hijackedConn) Close() error {
	hc.closeOnce.Do(func() {
		h := hc.c.h
		fd := hc.c.fd
		c := hc.c
		if err := h.QueueWork(func() {
			if s := h.sessions.Get(fd); s != nil && s.Data == c {
				h.closeSession(c)
			}
		}); err != nil {
			hc.Conn.Close()
		}
		hc.Conn.SetDeadline(longAgo)
	})
	return nil
}
