package httpd_test

import (
	"net"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/esphttpd/esphttpd/httpd"
)

func TestKeepAliveAndLingerOptions(t *testing.T) {
	cfg := testConfig()
	cfg.KeepAliveEnable = true
	cfg.KeepAliveIdle, cfg.KeepAliveInterval, cfg.KeepAliveCount = 7*time.Second, 3*time.Second, 4
	cfg.EnableSoLinger, cfg.LingerTimeout = true, 2*time.Second
	got := make(chan [5]int, 1)
	cfg.OpenFn = func(h *httpd.Handle, fd int) error {
		rc, err := h.SessConn(fd).(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		var v [5]int
		rc.Control(func(s uintptr) {
			v[0], _ = syscall.GetsockoptInt(int(s), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
			v[1], _ = syscall.GetsockoptInt(int(s), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
			v[2], _ = syscall.GetsockoptInt(int(s), syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL)
			v[3], _ = syscall.GetsockoptInt(int(s), syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
			var l syscall.Linger
			size := uint32(unsafe.Sizeof(l))
			syscall.Syscall6(syscall.SYS_GETSOCKOPT, s, syscall.SOL_SOCKET, syscall.SO_LINGER,
				uintptr(unsafe.Pointer(&l)), uintptr(unsafe.Pointer(&size)), 0)
			if l.Onoff != 0 {
				v[4] = int(l.Linger)
			}
		})
		got <- v
		return nil
	}
	h := start(t, cfg)
	newClient(t, h)
	if v := <-got; v != [5]int{1, 7, 3, 4, 2} {
		t.Fatalf("keepalive on/idle/interval/count, linger = %v", v)
	}
}
