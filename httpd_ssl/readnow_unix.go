//go:build unix

package httpd_ssl

import (
	"io"
	"net"
	"os"
	"syscall"
)

// readNow reads the socket without waiting for it: one read(2) on the
// non-blocking descriptor Go keeps, through its RawConn's Control (the
// server calls tryRecv from inside the RawConn's Read, whose lock a Read
// would wait for).
type readNow struct {
	rc  syscall.RawConn
	fn  func(fd uintptr) // r.readFD, bound once so reading allocates nothing
	buf []byte
	n   int
	err error
}

// init sets r up for conn and reports whether it can read without waiting.
func (r *readNow) init(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	r.rc, r.fn = rc, r.readFD
	return true
}

// read returns what the socket has, errWouldBlock when it has nothing,
// and io.EOF when the peer closed.
func (r *readNow) read(b []byte) (int, error) {
	r.buf = b
	err := r.rc.Control(r.fn)
	r.buf = nil
	switch {
	case err != nil:
		return 0, err
	case r.err == syscall.EAGAIN || r.err == syscall.EWOULDBLOCK:
		return 0, errWouldBlock
	case r.err != nil:
		return 0, os.NewSyscallError("read", r.err)
	case r.n == 0 && len(b) > 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (r *readNow) readFD(fd uintptr) {
	for {
		r.n, r.err = syscall.Read(int(fd), r.buf)
		if r.err != syscall.EINTR {
			return
		}
	}
}
