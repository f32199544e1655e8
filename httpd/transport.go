package httpd

import (
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// SendFunc is a session's low-level send function (httpd_send_func_t). It
// returns how many bytes it sent. A timeout should be reported as an error
// matching ErrSockTimeout (a net.Conn deadline error also counts). It must
// not modify buf.
type SendFunc func(h *Handle, sockfd int, buf []byte, flags int) (int, error)

// RecvFunc is a session's low-level receive function (httpd_recv_func_t).
// It returns (0, io.EOF) when the peer closed the connection.
type RecvFunc func(h *Handle, sockfd int, buf []byte, flags int) (int, error)

// PendingFunc reports how many received bytes the session's transport holds
// that the socket no longer shows as readable, for example decrypted TLS
// records (httpd_pending_func_t).
type PendingFunc func(h *Handle, sockfd int) (int, error)

// TryRecvFunc reads what a session's transport can hand out without
// waiting, for a transport under a recv override (no ESP-IDF counterpart;
// see Handle.SessSetTryRecvOverride). It returns n > 0 bytes; or 0 and an
// error matching ErrSockWouldBlock when nothing has arrived and the
// transport holds nothing of a request; or 0 and nil when it cannot tell
// without waiting (a handshake not yet run, part of a record held: its
// pending function should then report the held bytes). Other errors end
// the session; io.EOF means the peer closed.
//
// The server calls it from inside the socket's syscall.RawConn Read, the
// way a read(2) is made there, so that no wake-up is lost between finding
// nothing and waiting: it must read the socket without waiting and
// without the connection's Read (whose lock the server holds), through
// SyscallConn's Control and a read(2) on the non-blocking descriptor.
type TryRecvFunc func(h *Handle, sockfd int, buf []byte) (int, error)

// Where overrides run: send on the goroutine that sends (the worker, or an
// async request's goroutine); recv and pending on the session's reader
// goroutine while it collects a request, and on the worker while a handler
// reads the body. Never on two goroutines at once for one session. Deadlines
// (RecvWaitTimeout, SendWaitTimeout) are set on the session's net.Conn
// before each call, so an override that reads or writes through that
// connection inherits them.

// SessSetRecvOverride makes every read of the session go through fn
// (httpd_sess_set_recv_override). Call it from the open callback or from a
// handler of that session.
func (h *Handle) SessSetRecvOverride(sockfd int, fn RecvFunc) error {
	s := h.session(sockfd)
	if s == nil || fn == nil {
		return ErrInvalidArg
	}
	s.Data.recvFn = fn
	return nil
}

// SessSetSendOverride makes every write of the session go through fn
// (httpd_sess_set_send_override).
func (h *Handle) SessSetSendOverride(sockfd int, fn SendFunc) error {
	s := h.session(sockfd)
	if s == nil || fn == nil {
		return ErrInvalidArg
	}
	s.Data.sendFn = fn
	return nil
}

// SessSetTryRecvOverride lets an idle session under a recv override be
// read without a system call of the server's own. Without it, the server
// waits for such a session's next request by peeking at the socket
// (MSG_PEEK) and then calls the recv function: two system calls where the
// default transport needs one read(2). With it, the server calls fn,
// waits for the socket only after fn found nothing (ErrSockWouldBlock),
// and calls fn again. httpd_ssl sets one for every TLS session. Call it
// from the open callback or from a handler of that session.
func (h *Handle) SessSetTryRecvOverride(sockfd int, fn TryRecvFunc) error {
	s := h.session(sockfd)
	if s == nil || fn == nil {
		return ErrInvalidArg
	}
	s.Data.tryRecvFn = fn
	return nil
}

// SessSetPendingOverride sets the session's pending function
// (httpd_sess_set_pending_override).
func (h *Handle) SessSetPendingOverride(sockfd int, fn PendingFunc) error {
	s := h.session(sockfd)
	if s == nil || fn == nil {
		return ErrInvalidArg
	}
	s.Data.pendingFn = fn
	return nil
}

// SocketSend sends buf on the session through its send function, under the
// send timeout (httpd_socket_send). It returns the bytes sent, which may be
// fewer than len(buf) with an error. On an HTTP/2 session the socket
// carries frames: called from a handler of that session, buf is taken as
// the handler's raw response and relayed on its stream (as Req.Send does);
// anywhere else it is ErrInvalidState.
func (h *Handle) SocketSend(sockfd int, buf []byte, flags int) (int, error) {
	s := h.session(sockfd)
	if s == nil {
		return 0, ErrSockInvalid
	}
	c := s.Data
	if c.h2.Load() != nil {
		if h.onWorker() && c.active != nil {
			return c.active.Send(buf)
		}
		return 0, ErrInvalidState
	}
	if err := c.flushOut(); err != nil {
		return 0, err
	}
	c.armWriteDeadline()
	return c.send(buf, flags)
}

// SocketRecv receives into buf from the session through its receive function,
// under the receive timeout (httpd_socket_recv). Bytes the server had
// already buffered for the session are not seen: it reads the transport.
func (h *Handle) SocketRecv(sockfd int, buf []byte, flags int) (int, error) {
	s := h.session(sockfd)
	if s == nil {
		return 0, ErrSockInvalid
	}
	c := s.Data
	c.armReadDeadline()
	return c.recv(buf, flags)
}

// send writes once through the send function and classifies its error.
func (c *conn) send(buf []byte, flags int) (int, error) {
	if c.h.stopping.Load() {
		return 0, errStopping
	}
	var n int
	var err error
	if fn := c.sendFn; fn != nil {
		n, err = fn(c.h, c.fd, buf, flags)
	} else {
		n, err = c.nc.Write(buf)
	}
	if err != nil {
		return n, sockErr(err)
	}
	return n, nil
}

// recv reads once through the receive function and classifies its error.
func (c *conn) recv(buf []byte, flags int) (int, error) {
	if c.h.stopping.Load() {
		return 0, errStopping
	}
	var n int
	var err error
	if fn := c.recvFn; fn != nil {
		n, err = fn(c.h, c.fd, buf, flags)
		if n == 0 && err == nil && len(buf) > 0 {
			// ESP-IDF's recv functions return 0 for a closed peer.
			err = io.EOF
		}
	} else {
		n, err = c.nc.Read(buf)
	}
	if err != nil && err != io.EOF {
		return n, sockErr(err)
	}
	return n, err
}

// pending asks the pending function; the default transport never holds bytes
// back (the server's own buffer is checked separately).
func (c *conn) pending() int {
	if fn := c.pendingFn; fn != nil {
		if n, err := fn(c.h, c.fd); err == nil {
			return n
		}
	}
	return 0
}

// sendAll sends the whole of buf under one send timeout.
func (c *conn) sendAll(buf []byte) error {
	c.armWriteDeadline()
	return c.sendAllNoDeadline(buf)
}

// A send's deadline is only moved when it would move by more than a
// sixteenth of SendWaitTimeout (at least minDeadlineSlack), so a send may
// time out that much earlier than SendWaitTimeout; in exchange, a session
// answering often updates its timer at most that often instead of on
// every response (2% of the server's CPU at 1000 keep-alive connections).
const minDeadlineSlack = 10 * time.Millisecond

// armWriteDeadline sets the write deadline to SendWaitTimeout from now,
// give or take the slack above.
func (c *conn) armWriteDeadline() {
	t := c.h.cfg.SendWaitTimeout
	d := time.Now().Add(t)
	if d.UnixNano()-c.writeDeadline.Load() > int64(max(minDeadlineSlack, t/16)) {
		c.nc.SetWriteDeadline(d)
		c.writeDeadline.Store(d.UnixNano())
	}
}

// longAgo is a deadline already past: setting it wakes whatever waits on
// the connection at once.
var longAgo = time.Unix(1, 0)

// armReadDeadline sets the read deadline to RecvWaitTimeout from now and
// returns it.
func (c *conn) armReadDeadline() time.Time {
	d := time.Now().Add(c.h.cfg.RecvWaitTimeout)
	c.nc.SetReadDeadline(d)
	return d
}

// sendAllNoDeadline sends the whole of buf under the deadline already set.
func (c *conn) sendAllNoDeadline(buf []byte) error {
	for len(buf) > 0 {
		n, err := c.send(buf, 0)
		if err != nil {
			return err
		}
		if n <= 0 || n > len(buf) {
			return &sockError{kind: ErrSockFail, cause: io.ErrShortWrite}
		}
		buf = buf[n:]
	}
	return nil
}

// sendVec holds the pieces of one gathered send (sendv); its array is
// reused, so that gathering allocates nothing.
type sendVec struct {
	parts [3][]byte
	bufs  net.Buffers
}

// sendv sends a, b and z, in order, under the deadline already set. On the
// default transport they leave in one writev(2), so that a response head
// or frame header does not go out as a small packet of its own ahead of
// a large body; a send override gets them one at a time.
func (c *conn) sendv(v *sendVec, a, b, z []byte) error {
	defer clear(v.parts[:]) // keep no reference to the caller's memory
	if c.sendFn != nil {
		for _, p := range [...][]byte{a, b, z} {
			if err := c.sendAllNoDeadline(p); err != nil {
				return err
			}
		}
		return nil
	}
	if c.h.stopping.Load() {
		return errStopping
	}
	v.parts = [3][]byte{a, b, z}
	v.bufs = v.parts[:]
	if _, err := v.bufs.WriteTo(c.nc); err != nil {
		return sockErr(err)
	}
	return nil
}

var errStopping = &sockError{kind: ErrSockFail, cause: errors.New("server stopping")}

// sockErr files a transport error under ErrSockTimeout, ErrSockInvalid or
// ErrSockFail, keeping the cause.
func sockErr(err error) error {
	if errors.Is(err, ErrSockTimeout) || errors.Is(err, ErrSockFail) || errors.Is(err, ErrSockInvalid) {
		return err
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &sockError{kind: ErrSockTimeout, cause: err}
	}
	if errors.Is(err, net.ErrClosed) {
		return &sockError{kind: ErrSockInvalid, cause: err}
	}
	return &sockError{kind: ErrSockFail, cause: err}
}

// sendString sends a string through the write buffer in pieces, so that no
// send function ever sees (and could modify) a string's bytes.
func (c *conn) sendString(s string) error {
	for len(s) > 0 {
		k := min(len(s), smallBody)
		c.wbuf = append(c.wbuf[:0], s[:k]...)
		if err := c.sendAll(c.wbuf); err != nil {
			return err
		}
		s = s[k:]
	}
	return nil
}
