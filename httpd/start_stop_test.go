package httpd_test

// Starting and stopping a server: config checks, the listening port,
// Stop with busy sessions, global contexts.

import (
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

func TestStartRejectsBadConfigByFieldName(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*httpd.Config)
	}{
		{"MaxOpenSockets", func(c *httpd.Config) { c.MaxOpenSockets = 0 }},
		{"MaxURIHandlers", func(c *httpd.Config) { c.MaxURIHandlers = 0 }},
		{"RecvWaitTimeout", func(c *httpd.Config) { c.RecvWaitTimeout = 0 }},
		{"SendWaitTimeout", func(c *httpd.Config) { c.SendWaitTimeout = -1 }},
		{"MaxURILen", func(c *httpd.Config) { c.MaxURILen = 0 }},
		{"MaxReqHdrLen", func(c *httpd.Config) { c.MaxReqHdrLen = 0 }},
	} {
		cfg := testConfig()
		tc.edit(&cfg)
		h, err := httpd.Start(cfg)
		if err == nil {
			h.Stop()
			t.Errorf("%s: Start succeeded", tc.field)
			continue
		}
		if !errors.Is(err, httpd.ErrInvalidArg) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v, want ErrInvalidArg naming the field", tc.field, err)
		}
	}
}

func TestPortInUseIsAnError(t *testing.T) {
	h := start(t, testConfig())
	cfg := testConfig()
	cfg.ServerPort = uint16(h.Port())
	if h2, err := httpd.Start(cfg); err == nil {
		h2.Stop()
		t.Fatal("second server on the same port started")
	}
}

func TestQueueWorkAfterStopFails(t *testing.T) {
	h, err := httpd.Start(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	if err := h.QueueWork(func() {}); !errors.Is(err, httpd.ErrFail) {
		t.Fatalf("QueueWork after Stop: %v", err)
	}
	if err := h.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStopWithBusySessions(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := testConfig()
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	h.RegisterURIHandler(&httpd.URI{URI: "/block", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		close(entered)
		_, err := io.ReadAll(reqReader{r}) // the client never sends the body
		return err
	}})
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", addr(h))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	conns[0].Write([]byte("POST /block HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"))
	conns[1].Write([]byte("GET /half"))
	<-entered
	done := make(chan struct{})
	go func() { h.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		// Closed is closed: a FIN reads as EOF, and a socket closed with
		// unread bytes resets.
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client not closed by Stop: %v", err)
		}
		c.Close()
	}
	checkGoroutines(t, before)
}

func TestGlobalContextsFreedOnStop(t *testing.T) {
	cfg := testConfig()
	var freed []string
	cfg.GlobalUserCtx, cfg.GlobalUserCtxFreeFn = "user", func(ctx any) { freed = append(freed, ctx.(string)) }
	cfg.GlobalTransportCtx, cfg.GlobalTransportCtxFreeFn = "transport", func(ctx any) { freed = append(freed, ctx.(string)) }
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h.GetGlobalUserCtx() != "user" || h.GetGlobalTransportCtx() != "transport" {
		t.Fatal("global contexts not returned")
	}
	h.Stop()
	h.Stop()
	if !cmp.Equal(freed, []string{"user", "transport"}) {
		t.Fatalf("freed %v", freed)
	}
}

func TestCallerListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Listener = ln
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	if h.Addr().String() != ln.Addr().String() || h.Port() != ln.Addr().(*net.TCPAddr).Port {
		t.Fatalf("handle reports %v, listener is %v", h.Addr(), ln.Addr())
	}
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal(resp.body)
	}
}

// A connection the acceptor accepted while the worker was busy, and that
// the worker never took because Stop came first, is closed by Stop too.
func TestStopClosesConnectionsNotYetOpened(t *testing.T) {
	entered := make(chan struct{})
	h := start(t, testConfig(), &httpd.URI{URI: "/block", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		close(entered)
		_, err := io.ReadAll(reqReader{r}) // the client never sends the body; Stop ends the wait
		return err
	}}) // its cleanup checks that Stop left no goroutine
	busy, err := net.Dial("tcp", addr(h))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busy.Write([]byte("POST /block HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"))
	<-entered // the worker is in the handler: it opens no session meanwhile
	waiting, err := net.Dial("tcp", addr(h))
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	if !hsWaitFor(2*time.Second, h.AcceptedWaiting) {
		t.Fatal("the acceptor did not hand over the second connection")
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	waiting.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadAll(waiting); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("a connection accepted but never opened as a session was left open by Stop: %v", err)
	}
}
