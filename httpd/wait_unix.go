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
	return c.idleRawRead(c.peek, idleUntil)
}

// idleRawRead runs fn inside the socket's RawConn.Read, which calls it
// again each time the socket becomes readable until it returns true, for
// an idle session: a deadline that fires before the idle wait is over
// (idleExpired) only re-arms it; errIdleTimeout when it is over.
func (c *conn) idleRawRead(fn func(fd uintptr) bool, idleUntil time.Time) error {
	for {
		err := c.rc.Read(fn)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err
		}
		if c.idleExpired(idleUntil) {
			return errIdleTimeout
		}
	}
}

// readIdle waits for an idle session's next bytes and reads them, on the
// default transport: one read(2) when bytes are there, and no buffer held
// while the session idles (the pool buffer goes back on EAGAIN).
func (c *conn) readIdle(idleUntil time.Time) *readFailure {
	c.releaseBuf()
	if err := c.idleRawRead(c.idleRead, idleUntil); err != nil {
		return &readFailure{silent: true, err: err}
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
// TryRecvFunc, called from inside RawConn.Read as a read(2) would be: the
// poller's readiness is reset first, then the function reads what is
// there; when nothing is, the session waits for readiness and calls it
// again. (Calling it outside, then waiting, could lose a wake-up: the
// wait's reset would drop readiness that came in between.) The pool
// buffer goes back while nothing has come. It reports done=false when the
// function cannot tell without waiting; the caller then waits as for any
// transport.
func (c *conn) tryRecvIdle(idleUntil time.Time) (f *readFailure, done bool) {
	if err := c.idleRawRead(c.tryRead, idleUntil); err != nil {
		return &readFailure{silent: true, err: err}, true
	}
	switch n, err := c.tryN, c.tryErr; {
	case n > 0:
		c.end += n
		return nil, true
	case err == nil:
		return nil, false
	default:
		return &readFailure{silent: true, err: err}, true
	}
}

// tryRecvFD is tryRecvIdle's RawConn callback: false means nothing has
// arrived, "wait until readable and call again".
func (c *conn) tryRecvFD(uintptr) bool {
	c.makeRoom(1)
	c.tryN, c.tryErr = c.tryRecvFn(c.h, c.fd, c.buf[c.end:])
	if c.tryN <= 0 {
		c.tryN = 0
		c.releaseBuf()
		if errors.Is(c.tryErr, ErrSockWouldBlock) {
			return false
		}
	}
	return true
}

// peekReadable is the RawConn callback: it returns false, meaning "wait for
// readiness", only while the socket really has nothing to read, because the
// poller may report readiness left over from bytes already consumed.
func (c *conn) peekReadable(fd uintptr) bool {
	_, _, err := syscall.Recvfrom(int(fd), c.peekByte[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
}
