package httpd

import (
	"net"
	"syscall"
)

// setBacklog applies Config.BacklogConn. Go listens with the system's
// maximum backlog; Linux lets a second listen() on the socket shrink it.
func setBacklog(ln net.Listener, backlog int) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.Listen(int(fd), backlog)
	})
}
