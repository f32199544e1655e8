//go:build unix

package httpd_test

import (
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// plainTryRecv installs a recv override reading the socket and a
// TryRecvFunc answering with result (or, when result is nil, a real
// non-blocking read), counting the TryRecvFunc's calls.
func plainTryRecv(cfg *httpd.Config, calls *atomic.Int32, result func() (int, error)) {
	cfg.OpenFn = func(h *httpd.Handle, fd int) error {
		nc := h.SessConn(fd)
		rc, err := nc.(syscall.Conn).SyscallConn()
		if err != nil {
			return err
		}
		h.SessSetRecvOverride(fd, func(_ *httpd.Handle, _ int, buf []byte, _ int) (int, error) {
			return nc.Read(buf)
		})
		return h.SessSetTryRecvOverride(fd, func(_ *httpd.Handle, _ int, buf []byte) (int, error) {
			calls.Add(1)
			if result != nil {
				return result()
			}
			// Called inside the server's RawConn.Read: the socket is read
			// through Control, as TryRecvFunc's contract says.
			var n int
			var rerr error
			err := rc.Control(func(fd uintptr) {
				n, rerr = syscall.Read(int(fd), buf)
			})
			switch {
			case rerr == syscall.EAGAIN:
				return 0, httpd.ErrSockWouldBlock
			case err != nil:
				return 0, err
			case rerr != nil:
				return 0, rerr
			case n == 0:
				return 0, io.EOF
			}
			return n, nil
		})
	}
}

// The server reads an idle session through its TryRecvFunc: requests are
// served, and while nothing arrives the session waits for the socket
// instead of calling the function again and again.
func TestTryRecvOverrideWaitsWhenNothingArrived(t *testing.T) {
	var calls atomic.Int32
	cfg := testConfig()
	plainTryRecv(&cfg, &calls, nil)
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	for i := range 3 {
		if i > 0 {
			time.Sleep(100 * time.Millisecond) // the idle gap under test
		}
		if r := c.do(get("/hello")); r.StatusCode != 200 || r.body != "Hello World!" {
			t.Fatalf("request %d: %d %q", i, r.StatusCode, r.body)
		}
	}
	// Each request costs at most two calls (nothing yet, then the
	// request) and the wait after the last one more: a session that
	// spun while idle would have made thousands.
	if n := calls.Load(); n < 3 || n > 8 {
		t.Fatalf("TryRecvFunc called %d times for 3 requests", n)
	}
}

// A TryRecvFunc that cannot tell (0, nil) leaves the session to the usual
// wait and recv function; one that fails ends the session.
func TestTryRecvOverrideFallbackAndFailure(t *testing.T) {
	t.Run("cannot tell", func(t *testing.T) {
		var calls atomic.Int32
		cfg := testConfig()
		plainTryRecv(&cfg, &calls, func() (int, error) { return 0, nil })
		h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
		c := newClient(t, h)
		for i := range 2 {
			if r := c.do(get("/hello")); r.StatusCode != 200 {
				t.Fatalf("request %d: %d", i, r.StatusCode)
			}
		}
		if calls.Load() == 0 {
			t.Fatal("TryRecvFunc never called")
		}
	})
	t.Run("fails", func(t *testing.T) {
		var calls atomic.Int32
		cfg := testConfig()
		plainTryRecv(&cfg, &calls, func() (int, error) { return 0, net.ErrClosed })
		h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
		c := newClient(t, h)
		c.expectClosed()
	})
}
