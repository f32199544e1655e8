//go:build unix

package httpd

import (
	"errors"
	"os"
	"syscall"
	"time"
)

const canWaitReadable = true

// waitReadable blocks, without a timeout, until the session's socket has
// bytes (or an EOF or error) to read. It reads nothing, so an idle session
// holds no buffer.
func (c *conn) waitReadable() error {
	for {
		err := c.rc.Read(c.peek)
		if errors.Is(err, os.ErrDeadlineExceeded) && !c.h.stopping.Load() {
			// A deadline left over from the previous request; idling has none.
			c.nc.SetReadDeadline(time.Time{})
			continue
		}
		return err
	}
}

// peekReadable is the RawConn callback: it returns false, meaning "wait for
// readiness", only while the socket really has nothing to read, because the
// poller may report readiness left over from bytes already consumed.
func (c *conn) peekReadable(fd uintptr) bool {
	_, _, err := syscall.Recvfrom(int(fd), c.peekByte[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK
}
