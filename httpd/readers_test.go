package httpd_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// oneRequest opens a connection, GETs /hello with Connection: close and
// reads the answer.
func oneRequest(t *testing.T, h *httpd.Handle) {
	t.Helper()
	c := newClient(t, h)
	if r := c.do("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); r.StatusCode != 200 || r.body != "Hello World!" {
		t.Fatalf("status %d, body %q", r.StatusCode, r.body)
	}
	c.nc.Close()
}

func TestReaderGoroutineServesTheNextSession(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	for i := range 10 {
		oneRequest(t, h)
		// The session's reader becomes spare once the session is over.
		if !hsWaitFor(2*time.Second, func() bool { _, spare := h.ReaderGoroutines(); return spare == 1 }) {
			started, spare := h.ReaderGoroutines()
			t.Fatalf("after session %d: %d reader goroutines started, %d spare; want 1 spare", i, started, spare)
		}
	}
	if started, _ := h.ReaderGoroutines(); started != 1 {
		t.Fatalf("10 sessions one after another started %d reader goroutines, want 1", started)
	}
}

func TestSpareReadersNeverOutnumberMaxOpenSockets(t *testing.T) {
	cfg := testConfig()
	cfg.MaxOpenSockets = 2
	cfg.LRUPurgeEnable = true
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	base := runtime.NumGoroutine()
	var clients []*client
	for range 8 { // each new one purges the oldest: 8 readers in all
		c := newClient(t, h)
		if r := c.do(get("/hello")); r.StatusCode != 200 {
			t.Fatalf("status %d", r.StatusCode)
		}
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.nc.Close()
	}
	if !hsWaitFor(4*time.Second, func() bool { return len(h.GetClientList()) == 0 }) {
		t.Fatalf("%d sessions open after every client closed", len(h.GetClientList()))
	}
	if !hsWaitFor(4*time.Second, func() bool { return runtime.NumGoroutine() <= base+2 }) {
		started, spare := h.ReaderGoroutines()
		t.Fatalf("goroutines: %d at the start, %d with every session closed (%d readers started, %d spare)",
			base, runtime.NumGoroutine(), started, spare)
	}
	if _, spare := h.ReaderGoroutines(); spare > 2 {
		t.Fatalf("%d spare readers, want at most MaxOpenSockets (2)", spare)
	}
}

func TestSpareReaderExitsWhenIdle(t *testing.T) {
	defer httpd.SetSpareReaderIdle(httpd.SetSpareReaderIdle(100 * time.Millisecond))
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	base := runtime.NumGoroutine()
	oneRequest(t, h)
	if !hsWaitFor(2*time.Second, func() bool { _, spare := h.ReaderGoroutines(); return spare == 1 }) {
		t.Fatal("the ended session's reader did not become spare")
	}
	if !hsWaitFor(2*time.Second, func() bool { _, spare := h.ReaderGoroutines(); return spare == 0 }) {
		t.Fatal("the spare reader did not exit after its idle time")
	}
	if !hsWaitFor(2*time.Second, func() bool { return runtime.NumGoroutine() <= base }) {
		t.Fatalf("goroutines: %d before the session, %d after its reader exited", base, runtime.NumGoroutine())
	}
	oneRequest(t, h) // and a new session gets a new reader
	if started, _ := h.ReaderGoroutines(); started != 2 {
		t.Fatalf("%d reader goroutines started, want 2", started)
	}
}
