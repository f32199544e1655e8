package httpd_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// testConfig is the default config on an ephemeral loopback port with short
// timeouts, so failing tests fail fast.
func testConfig() httpd.Config {
	cfg := httpd.DefaultConfig()
	cfg.Host = "127.0.0.1"
	cfg.ServerPort = 0
	cfg.RecvWaitTimeout = 2 * time.Second
	cfg.SendWaitTimeout = 2 * time.Second
	return cfg
}

// start starts a server with cfg and the given handlers and stops it when
// the test ends, checking that Stop leaves no goroutine behind.
func start(t testing.TB, cfg httpd.Config, uris ...*httpd.URI) *httpd.Handle {
	t.Helper()
	before := liveGoroutines()
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, u := range uris {
		if err := h.RegisterURIHandler(u); err != nil {
			t.Fatalf("RegisterURIHandler(%s): %v", u.URI, err)
		}
	}
	running.Store(h, struct{}{})
	t.Cleanup(func() {
		running.Delete(h)
		if err := h.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		checkGoroutines(t, before)
	})
	return h
}

// running holds the handles start started that are not stopped yet.
var running sync.Map

// liveGoroutines is the goroutine count less the spare reader goroutines
// of running handles: an ended session's reader waits a while for a new
// session (at most MaxOpenSockets of them per handle), which is not a
// leak. Stop ends them.
func liveGoroutines() int {
	n := runtime.NumGoroutine()
	running.Range(func(k, _ any) bool {
		_, spare := k.(*httpd.Handle).ReaderGoroutines()
		n -= spare
		return true
	})
	return n
}

// checkGoroutines waits briefly for the goroutine count to fall back to
// before; client goroutines of the test itself may take a moment to exit.
func checkGoroutines(t testing.TB, before int) {
	t.Helper()
	if !hsWaitFor(3*time.Second, func() bool { return liveGoroutines() <= before }) {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before Start, %d after Stop\n%s", before, liveGoroutines(), buf[:runtime.Stack(buf, true)])
	}
}

func addr(h *httpd.Handle) string { return h.Addr().String() }

// waitChan waits up to 5 s for a value on ch (a handler or callback saying
// it got somewhere) and fails the test naming what did not happen.
func waitChan[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("waited 5s: %s", what)
		panic("unreachable")
	}
}

// dial opens a raw TCP connection to the server.
func dial(t testing.TB, h *httpd.Handle) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr(h), 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// client is a raw connection with a reader for responses.
type client struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func newClient(t testing.TB, h *httpd.Handle) *client {
	nc := dial(t, h)
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *client) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, raw); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// response is a parsed response with its body read.
type response struct {
	*http.Response
	body string
}

// read reads one response; method is the request's method (HEAD responses
// have no body).
func (c *client) read(method string) response {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
	return response{resp, string(b)}
}

// do sends raw and reads one response.
func (c *client) do(raw string) response {
	c.t.Helper()
	c.send(raw)
	method, _, _ := strings.Cut(raw, " ")
	return c.read(method)
}

// expectClosed asserts the server closed the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Fatalf("connection still open: read %q", b)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatal("connection still open after 3s")
	}
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"
}

// hello answers "Hello World!".
func hello(r *httpd.Req) error { return r.RespSendStr("Hello World!") }

// echo answers with the request body, read in small pieces through Recv.
func echo(r *httpd.Req) error {
	var body []byte
	buf := make([]byte, 1000)
	for {
		n, err := r.Recv(buf)
		body = append(body, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	return r.RespSend(body)
}

// The hs helpers below came with the hostile-client tests (issue 8); they
// never fail the test themselves, so goroutines other than the test's may
// use them: reading a response, seeing a close, waiting on a condition,
// and the well-behaved probe client.

// hsRead reads one response and its body without failing the test.
func hsRead(br *bufio.Reader, method string) (*http.Response, string, error) {
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), err
}

// hsClosed reports whether the server closed the connection (EOF or reset)
// within d, with nothing more to read.
func hsClosed(nc net.Conn, br *bufio.Reader, d time.Duration) error {
	nc.SetReadDeadline(time.Now().Add(d))
	b, err := br.ReadByte()
	if err == nil {
		rest, _ := br.Peek(br.Buffered())
		return fmt.Errorf("connection still open: read %q", append([]byte{b}, rest...))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("connection still open after %v", d)
	}
	return nil
}

// hsWaitFor polls cond for up to d: the wait for a condition no channel or
// log line announces.
func hsWaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond) // the poll interval, not an ordering
	}
}

// hsGet performs one GET on a fresh connection with "Connection: close" and
// checks the body.
func hsGet(address, path, want string) error {
	nc, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, body, err := hsRead(bufio.NewReader(nc), "GET")
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || body != want {
		return fmt.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
	return nil
}

// hsPurged reports whether err is a connection closed or reset before any
// response byte: what a client sees when its session is purged.
func hsPurged(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// hsClosedFD waits for the close callback of session fd on closed, which
// also carries the probe client's sessions.
func hsClosedFD(closed <-chan int, fd int, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case c := <-closed:
			if c == fd {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// hsProbe is the well-behaved client of the abusive-client tests: it GETs
// /hello on a fresh connection every 20 ms and records its latency.
type hsProbe struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	// retryPurged lets a request whose connection was closed without a
	// byte of response (an LRU purge) be retried on a new connection, as
	// any client must under LRU purge; purged counts those.
	retryPurged bool

	mu     sync.Mutex
	n      int
	purged int
	maxLat time.Duration
	errs   []string
}

func hsStartProbe(t testing.TB, h *httpd.Handle) *hsProbe {
	return hsStartProbeLRU(t, h, false)
}

func hsStartProbeLRU(t testing.TB, h *httpd.Handle, retryPurged bool) *hsProbe {
	p := &hsProbe{stop: make(chan struct{}), done: make(chan struct{}), retryPurged: retryPurged}
	address := addr(h)
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			t0 := time.Now()
			err := hsGet(address, "/hello", "Hello World!")
			purged := 0
			for ; p.retryPurged && hsPurged(err) && purged < 5; purged++ {
				err = hsGet(address, "/hello", "Hello World!")
			}
			lat := time.Since(t0)
			p.mu.Lock()
			p.n++
			p.purged += purged
			p.maxLat = max(p.maxLat, lat)
			if err != nil && len(p.errs) < 10 {
				p.errs = append(p.errs, err.Error())
			}
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// Stop the probe before the server stops (cleanups run last first).
	t.Cleanup(p.halt)
	return p
}

func (p *hsProbe) halt() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// check stops the probe and asserts it was served every time, within limit.
func (p *hsProbe) check(t testing.TB, limit time.Duration) {
	t.Helper()
	p.halt()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		t.Errorf("probe client made no request")
	}
	if len(p.errs) > 0 {
		t.Errorf("probe client failed %d times, e.g. %v", len(p.errs), p.errs)
	}
	if p.maxLat > limit {
		t.Errorf("probe client waited up to %v (over %d requests), want < %v", p.maxLat, p.n, limit)
	}
	t.Logf("probe: %d requests (%d retried after a purge), max latency %v", p.n, p.purged, p.maxLat)
}

// reqReader adapts Req.Recv to io.Reader.
type reqReader struct{ r *httpd.Req }

func (rr reqReader) Read(p []byte) (int, error) { return rr.r.Recv(p) }

// syncBuffer is a bytes.Buffer safe for a logger on the worker and a test
// reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a text logger writing every level, debug included, to b.
func (b *syncBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// postExpect POSTs body to url with client and fails the test unless the
// answer is 200 with want as its body; i numbers the attempt in messages.
// It returns the response, its body read and closed.
func postExpect(t *testing.T, client *http.Client, i int, url string, body io.Reader, want string) *http.Response {
	t.Helper()
	resp, err := client.Post(url, "application/octet-stream", body)
	if err != nil {
		t.Fatalf("request %d: %v", i, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(got) != want {
		t.Fatalf("request %d: %d %q %v", i, resp.StatusCode, got, err)
	}
	return resp
}
