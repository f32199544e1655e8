//go:build unix

package httpd

import (
	"errors"
	"io"
	"os"
	"syscall"
	"time"
)

const canWaitReadable = true

// waitReadable blocks until the session's socket has bytes (or an EOF or
// error) to read, or idleUntil (zero: never). It reads nothing, so an idle
// session holds no buffer.
func (c *conn) waitReadable(idleUntil time.Time) error {
	for {
		err := c.rc.Read(c.peek)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if c.idleExpired(idleUntil) {
				return errIdleTimeout
			}
			continue
		}
		return err
	}
}

// readIdle waits for an idle session's next bytes and reads them, on the
// default transport: one read(2) when bytes are there, and no buffer held
// while the session idles (the pool buffer goes back on EAGAIN).
func (c *conn) readIdle(idleUntil time.Time) *readFailure {
	c.releaseBuf()
	for {
		err := c.rc.Read(c.idleRead)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if c.idleExpired(idleUntil) {
				return &readFailure{silent: true, err: errIdleTimeout}
			}
			continue
		}
		if err != nil {
			return &readFailure{silent: true, err: err}
		}
		break
	}
	if c.idleErr != nil || c.idleN <= 0 {
		err := c.idleErr
		if err == nil {
			err = io.EOF
		}
		return &readFailure{silent: true, err: err}
	}
	c.end += c.idleN
	return nil
}

// readIdleFD is readIdle's RawConn callback: false means "wait until
// readable and call again".
func (c *conn) readIdleFD(fd uintptr) bool {
	if c.buf == nil {
		c.buf = bufPool.Get().(*[defaultBufSize]byte)[:]
		c.start, c.end = 0, 0
	}
	for {
		c.idleN, c.idleErr = syscall.Read(int(fd), c.buf[c.end:])
		if c.idleErr != syscall.EINTR {
			break
		}
	}
	if c.idleErr == syscall.EAGAIN || c.idleErr == syscall.EWOULDBLOCK {
		c.releaseBuf()
		return false
	}
	return true
}

// tryRecvIdle waits for an idle session's next bytes through its
// TryRecvFunc: one call when bytes are there; when not, one wait for the
// socket (no system call of its own: waitOnce) and another call. The
// pool buffer goes back while nothing has come. It reports done=false when
// the function cannot tell without waiting; the caller then waits as for
// any transport.
func (c *conn) tryRecvIdle(idleUntil time.Time) (f *readFailure, done bool) {
	for {
		if c.h.stopping.Load() {
			return &readFailure{silent: true, err: errStopping}, true
		}
		c.makeRoom(1)
		n, err := c.tryRecvFn(c.h, c.fd, c.buf[c.end:])
		switch {
		case n > 0:
			c.end += n
			return nil, true
		case err == nil:
			c.releaseBuf()
			return nil, false
		case !errors.Is(err, ErrSockWouldBlock):
			c.releaseBuf()
			return &readFailure{silent: true, err: err}, true
		}
		c.releaseBuf()
		// Nothing had arrived when the transport read the socket, so any
		// byte from now on makes the poller report it: wait without
		// asking the socket first.
		c.waitedOnce = false
		err = c.rc.Read(c.waitFor)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if c.idleExpired(idleUntil) {
				return &readFailure{silent: true, err: errIdleTimeout}, true
			}
			continue
		}
		if err != nil {
			return &readFailure{silent: true, err: err}, true
		}
	}
}

// waitOnce is tryRecvIdle's RawConn callback: false the first time
// ("wait until readable"), true the next, without a system call.
func (c *conn) waitOnce(uintptr) bool {
	if c.waitedOnce {
		return true
	}
	c.waitedOnce = true
	return false
}

// peekReadable is the RawConn callback: it returns false, meaning "wait for
// readiness", only while the socket really has nothing to read, because the
// poller may report readiness left over from bytes already consumed.
func (c *conn) peekReadable(fd uintptr) bool {
	_, _, err := syscall.Recvfrom(int(fd), c.peekByte[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
}
