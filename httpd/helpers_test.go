package httpd_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
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
	before := runtime.NumGoroutine()
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, u := range uris {
		if err := h.RegisterURIHandler(u); err != nil {
			t.Fatalf("RegisterURIHandler(%s): %v", u.URI, err)
		}
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		checkGoroutines(t, before)
	})
	return h
}

// checkGoroutines waits briefly for the goroutine count to fall back to
// before; client goroutines of the test itself may take a moment to exit.
func checkGoroutines(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before Start, %d after Stop\n%s", before, n, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func addr(h *httpd.Handle) string { return h.Addr().String() }

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
