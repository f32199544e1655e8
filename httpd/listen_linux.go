package httpd

import (
	"net"
	"runtime"
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

// setReusePort makes lc set SO_REUSEPORT before bind, so that several
// handles (or processes) of one user can listen on the same port; the
// kernel spreads new connections over them by a hash of the client's
// address and port.
func setReusePort(lc *net.ListenConfig) error {
	lc.Control = func(_, _ string, c syscall.RawConn) error {
		var optErr error
		err := c.Control(func(fd uintptr) {
			optErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort(), 1)
		})
		if err != nil {
			return err
		}
		return optErr
	}
	return nil
}

// soReusePort is SO_REUSEPORT's value. The syscall package lacks the
// constant on 386, amd64 and arm (golang.org/x/sys has it, but is not a
// dependency); Linux defines it as 15 except on MIPS.
func soReusePort() int {
	switch runtime.GOARCH {
	case "mips", "mipsle", "mips64", "mips64le":
		return 0x200
	}
	return 0xf
}
