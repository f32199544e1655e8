package httpdtest

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
)

// Timeout bounds each wait of this package: dialing, a client's whole
// request, the goroutine check after Stop.
const Timeout = 10 * time.Second

// Config returns httpd.DefaultConfig with test-friendly changes: loopback
// only, an ephemeral port, 2 s receive and send timeouts so that a stuck
// test fails fast, room for 32 URI handlers and 16 sessions (a test often
// holds an HTTP/1.1 client, an h2c client and raw connections at once), and
// ESP-IDF's wildcard matcher, so that templates ending in '*' mount a
// subtree. HTTP/2 stays on, as by default.
func Config() httpd.Config {
	cfg := httpd.DefaultConfig()
	cfg.Host = "127.0.0.1"
	cfg.ServerPort = 0
	cfg.RecvWaitTimeout = 2 * time.Second
	cfg.SendWaitTimeout = 2 * time.Second
	cfg.MaxURIHandlers = 32
	cfg.MaxOpenSockets = 16
	cfg.URIMatchFn = uri_match.Wildcard
	return cfg
}

// Server is a started handle and the way to reach it.
type Server struct {
	// Handle is the running server; register more handlers on it at will.
	Handle *httpd.Handle
	// Addr is the listening address, "127.0.0.1:port".
	Addr string
	// URL is the base URL, "http://127.0.0.1:port", without a trailing
	// slash.
	URL string

	t T
}

// T is the part of testing.TB that this package uses; *testing.T,
// *testing.B and *testing.F satisfy it.
type T interface {
	Helper()
	Cleanup(func())
	Log(args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Start starts a handle with cfg, registers uris, and stops the handle when
// the test ends, failing the test if Stop fails or leaves goroutines
// behind. Any error while starting fails the test at once (t.Fatal). A nil
// Logger in cfg is replaced by one writing warnings and errors to t.Log,
// shown when the test fails or runs with -v.
func Start(t T, cfg httpd.Config, uris ...*httpd.URI) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv := StartWith(t, func() (*httpd.Handle, error) { return httpd.Start(cfg) })
	for _, u := range uris {
		if err := srv.Handle.RegisterURIHandler(u); err != nil {
			t.Fatalf("httpdtest: registering %s %s: %v", u.Method, u.URI, err)
		}
	}
	return srv
}

// StartWith is Start for a handle that the code under test starts itself,
// with its own config and handlers (an example's or an application's
// start function): start must return a handle listening on loopback, and
// the handle is stopped and checked as with Start.
func StartWith(t T, start func() (*httpd.Handle, error)) *Server {
	t.Helper()
	before := runtime.NumGoroutine()
	h, err := start()
	if err != nil {
		t.Fatalf("httpdtest: starting the handle: %v", err)
	}
	// Registered first, so it runs last: after the clients' cleanups.
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Errorf("httpdtest: Stop: %v", err)
		}
		if err := waitGoroutines(before, Timeout); err != nil {
			t.Errorf("%v", err)
		}
	})
	addr := h.Addr().String()
	return &Server{Handle: h, Addr: addr, URL: "http://" + addr, t: t}
}

// Client returns a new net/http client speaking HTTP/1.1 to the server,
// with keep-alive, no redirects followed (tests look at them) and Timeout
// per request. Its connections are closed before the handle stops.
func (s *Server) Client() *http.Client {
	tr := &http.Transport{
		DialContext:       (&net.Dialer{Timeout: Timeout}).DialContext,
		ForceAttemptHTTP2: false,
		// Gzip is the test's business: a test of Accept-Encoding must see
		// exactly what the server sent.
		DisableCompression: true,
	}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: Timeout, CheckRedirect: noRedirects}
}

// H2Client returns a new client speaking HTTP/2 over cleartext TCP with
// prior knowledge (h2c), keeping to one connection as a client of an
// embedded server should. Its connection is closed before the handle stops.
func (s *Server) H2Client() *http.Client {
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols:          &protos,
		HTTP2:              &http.HTTP2Config{StrictMaxConcurrentRequests: true},
		DialContext:        (&net.Dialer{Timeout: Timeout}).DialContext,
		DisableCompression: true,
	}
	s.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: Timeout, CheckRedirect: noRedirects}
}

// Dial opens a raw TCP connection to the server, for tests that write
// bytes no well-behaved client would. Its deadline is Timeout from now, so
// a read the server never answers fails the test instead of hanging it;
// it is closed when the test ends.
func (s *Server) Dial() net.Conn {
	s.t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, Timeout)
	if err != nil {
		s.t.Fatalf("httpdtest: dial %s: %v", s.Addr, err)
	}
	c.SetDeadline(time.Now().Add(Timeout))
	s.t.Cleanup(func() { c.Close() })
	return c
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// waitGoroutines waits until no more than before goroutines run. Client
// goroutines (a transport's read loop) end a moment after their
// connection closes, so the count is polled rather than read once.
func waitGoroutines(before int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return nil
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("httpdtest: %d goroutines before Start, %d after Stop:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testWriter turns the handle's log lines into t.Log calls.
type testWriter struct{ t T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
