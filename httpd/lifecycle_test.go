package httpd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestShutdownFinishesInFlight: Shutdown refuses new connections at once,
// lets a request in flight get its whole response (saying Connection:
// close), closes the idle keep-alive session (as soon as the worker is
// free: closing runs the close callback, on the worker), then returns.
func TestShutdownFinishesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	h := start(t, testConfig(), &httpd.URI{URI: "/slow", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		close(entered)
		<-release
		return r.RespSendStr("finished")
	}}, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	t.Cleanup(unblock) // runs before start's Stop: a failed test must not leave the worker stuck
	idle := newClient(t, h)
	if resp := idle.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal(resp.body)
	}
	busy := newClient(t, h)
	busy.send(get("/slow"))
	<-entered
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(context.Background()) }()

	// New connections are refused once the listener is closed.
	if !hsWaitFor(3*time.Second, func() bool {
		c, err := net.Dial("tcp", h.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	}) {
		t.Fatal("still accepting connections during Shutdown")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	unblock()
	resp := busy.read("GET")
	if resp.body != "finished" || !resp.Close {
		t.Fatalf("in-flight request: %q, Connection: close %v", resp.body, resp.Close)
	}
	idle.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := idle.br.ReadByte(); err == nil {
		t.Fatalf("idle session got a byte %q instead of being closed", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("idle session not closed: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after the last request finished")
	}
}

// TestShutdownDeadlineStops: a handler that never finishes cannot hold
// Shutdown past its context; the server is stopped then, and the handler's
// Req.Context is cancelled, so it can give up.
func TestShutdownDeadlineStops(t *testing.T) {
	entered := make(chan struct{})
	gaveUp := make(chan error, 1)
	h := start(t, testConfig(), &httpd.URI{URI: "/stuck", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		close(entered)
		<-r.Context().Done()
		gaveUp <- r.Context().Err()
		return nil
	}})
	c := newClient(t, h)
	c.send(get("/stuck"))
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := h.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the context's deadline", err)
	}
	select {
	case err := <-gaveUp:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler context: %v", err)
		}
	default:
		t.Fatal("Shutdown returned before the stuck handler's context was cancelled and it returned")
	}
}

// TestShutdownHTTP2AndWebSocket: an HTTP/2 stream in flight finishes after
// GOAWAY; a WebSocket client gets close 1001 (going away) and the server
// ends the session when it answers.
func TestShutdownHTTP2AndWebSocket(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	entered, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	h := start(t, cfg, &httpd.URI{URI: "/slow", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		close(entered)
		<-release
		return r.RespSendStr("h2 finished")
	}}, &httpd.URI{URI: "/ws", Method: httpd.GET, Handler: func(*httpd.Req) error { return nil }, IsWebsocket: true})
	t.Cleanup(unblock) // runs before start's Stop
	ws := wsConnect(t, h, "/ws")
	client := h2Client()
	defer client.CloseIdleConnections()
	got := make(chan string, 1)
	go func() {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/slow", h.Port()))
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(context.Background()) }()
	unblock() // the worker must be free to send the WebSocket close frame
	ws.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, op, payload := ws.read()
	if op != 0x8 || len(payload) < 2 || int(payload[0])<<8|int(payload[1]) != 1001 {
		t.Fatalf("WebSocket got opcode %d payload %v, want close 1001", op, payload)
	}
	ws.send(true, 0x8, []byte{0x03, 0xe9})
	if body := <-got; body != "h2 finished" {
		t.Fatalf("HTTP/2 stream in flight: %q", body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}

// TestReqContextCancelledWhenSessionCloses: an async goroutine waiting on
// the request's context learns that its session was closed.
func TestReqContextCancelledWhenSessionCloses(t *testing.T) {
	ctxs := make(chan context.Context, 1)
	var h *httpd.Handle
	h = start(t, testConfig(), &httpd.URI{URI: "/a", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		cp, err := r.AsyncHandlerBegin()
		if err != nil {
			return err
		}
		ctxs <- cp.Context()
		return h.SessTriggerClose(r.Sockfd())
	}})
	newClient(t, h).send(get("/a"))
	ctx := <-ctxs
	select {
	case <-ctx.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("request context not cancelled after its session closed")
	}
}

func TestAccessLog(t *testing.T) {
	var buf syncBuffer
	cfg := testConfig()
	cfg.HTTP2 = true
	cfg.AccessLog = slog.New(slog.NewJSONHandler(&buf, nil))
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	newClient(t, h).do("GET /hello?x=1 HTTP/1.1\r\n\r\n")
	client := h2Client()
	defer client.CloseIdleConnections()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/nowhere", h.Port()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var records []map[string]any
	if !hsWaitFor(3*time.Second, func() bool {
		records = records[:0]
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil {
				records = append(records, m)
			}
		}
		return len(records) == 2
	}) {
		t.Fatalf("access log: %q", buf.String())
	}
	for i, want := range []map[string]any{
		{"msg": "request", "method": "GET", "uri": "/hello?x=1", "status": 200.0, "bytes": 12.0, "proto": "HTTP/1.1"},
		{"msg": "request", "method": "GET", "uri": "/nowhere", "status": 404.0, "proto": "HTTP/2.0"},
	} {
		for k, v := range want {
			if records[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v (%v)", i, k, records[i][k], v, records[i])
			}
		}
		if _, ok := records[i]["duration"]; !ok {
			t.Errorf("record %d has no duration", i)
		}
		if _, ok := records[i]["fd"]; !ok {
			t.Errorf("record %d has no session id", i)
		}
	}
}

func TestBodySizeLimits(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	cfg.MaxReqBodySize = 1000
	called := make(chan string, 10)
	reader := func(r *httpd.Req) error {
		called <- r.URI
		n, err := io.Copy(io.Discard, reqReader{r})
		if err != nil {
			if !errors.Is(err, httpd.ErrContentTooLarge) || !errors.Is(err, httpd.ErrSockFail) {
				return fmt.Errorf("Recv past the limit: %v", err)
			}
			return nil // the server answers 413
		}
		return r.RespSendStr(fmt.Sprint(n))
	}
	h := start(t, cfg, &httpd.URI{URI: "/up", Method: httpd.POST, Handler: reader},
		&httpd.URI{URI: "/big", Method: httpd.POST, Handler: reader, MaxBodySize: 5000},
		&httpd.URI{URI: "/any", Method: httpd.POST, Handler: reader, MaxBodySize: -1})
	// A Content-Length over the limit: 413 before the handler, body unread.
	c := newClient(t, h)
	c.send("POST /up HTTP/1.1\r\nContent-Length: 100000\r\n\r\n")
	if resp := c.read("POST"); resp.StatusCode != 413 || !resp.Close {
		t.Fatalf("Content-Length over the limit: %d close %v", resp.StatusCode, resp.Close)
	}
	select {
	case u := <-called:
		t.Fatalf("handler %s ran for a body over the limit", u)
	default:
	}
	// Chunked, growing past the limit while the handler reads.
	c = newClient(t, h)
	chunk := strings.Repeat("x", 600)
	c.send(fmt.Sprintf("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", len(chunk), chunk, len(chunk), chunk))
	if resp := c.read("POST"); resp.StatusCode != 413 {
		t.Fatalf("chunked body over the limit: %d %q", resp.StatusCode, resp.body)
	}
	<-called
	// A URI's own limit, larger and unlimited.
	for path, size := range map[string]int{"/big": 4000, "/any": 200000} {
		if resp := newClient(t, h).do(fmt.Sprintf("POST %s HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", path, size, strings.Repeat("y", size))); resp.body != fmt.Sprint(size) {
			t.Fatalf("%s with %d bytes: %d %q", path, size, resp.StatusCode, resp.body)
		}
		<-called
	}
	// HTTP/2 without a content-length: DATA past the limit.
	client := h2Client()
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("POST", fmt.Sprintf("http://127.0.0.1:%d/up", h.Port()), io.NopCloser(bytes.NewReader(make([]byte, 3000))))
	req.ContentLength = -1
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("HTTP/2 body over the limit: %d", resp.StatusCode)
	}
}

func TestProto(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	h := start(t, cfg, &httpd.URI{URI: "/p", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		return r.RespSendStr(r.Proto())
	}})
	c := newClient(t, h)
	if resp := c.do("GET /p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"); resp.body != "HTTP/1.0" {
		t.Fatalf("1.0: %q", resp.body)
	}
	if resp := c.do(get("/p")); resp.body != "HTTP/1.1" {
		t.Fatalf("1.1: %q", resp.body)
	}
	client := h2Client()
	defer client.CloseIdleConnections()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/p", h.Port()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "HTTP/2.0" {
		t.Fatalf("h2: %q", b)
	}
}

// TestReqContextCancelledWhenH2ClientLeaves: a handler waiting on its
// request's context learns that the HTTP/2 client went away, while it
// still runs.
func TestReqContextCancelledWhenH2ClientLeaves(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	entered := make(chan struct{})
	gaveUp := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/wait", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		close(entered)
		select {
		case <-r.Context().Done():
			gaveUp <- r.Context().Err()
		case <-time.After(5 * time.Second):
			gaveUp <- errors.New("context not cancelled")
		}
		return nil
	}})
	nc, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(nc, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"+"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	// HEADERS on stream 1: GET /wait (static :method GET, :scheme http,
	// literal :path), END_STREAM | END_HEADERS.
	block := []byte{0x82, 0x86, 0x04, 5, '/', 'w', 'a', 'i', 't'}
	frame := append([]byte{0, 0, byte(len(block)), 0x1, 0x5, 0, 0, 0, 1}, block...)
	nc.Write(frame)
	<-entered
	nc.Close()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler's context: %v", err)
	}
}
