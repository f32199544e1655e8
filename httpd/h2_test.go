package httpd_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
	"golang.org/x/net/http2"
)

// h2Client speaks HTTP/2 with prior knowledge over plain TCP (h2c), with
// x/net's independent client implementation.
func h2Client() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http2.Transport{
			AllowHTTP: true,
			// One connection, queueing past MaxConcurrentStreams, as a
			// session-per-client server expects.
			StrictMaxConcurrentStreams: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

// h2Handlers are the same handlers the HTTP/1.1 tests use, plus a chunked
// one and one reading headers.
func h2Handlers() []*httpd.URI {
	return []*httpd.URI{
		{URI: "/hello", Method: httpd.GET, Handler: hello},
		{URI: "/echo", Method: httpd.POST, Handler: echo},
		{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			for _, s := range []string{"one,", "two,", "three"} {
				if err := r.RespSendStrChunk(s); err != nil {
					return err
				}
			}
			return r.RespSendStrChunk("")
		}},
		{URI: "/headers", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			host, _ := r.HdrValueStr("Host")
			custom, _ := r.HdrValueStr("X-Custom")
			cookie, _ := r.CookieValue("b")
			q, _ := r.URLQueryStr()
			r.RespSetHdr("X-Reply", "yes")
			r.RespSetType("text/plain")
			return r.RespSendStr(fmt.Sprintf("%s|%s|%s|%s|%s", r.Method, host, custom, cookie, q))
		}},
	}
}

func TestHTTP2PriorKnowledge(t *testing.T) {
	h := start(t, testConfig(), h2Handlers()...)
	cl := h2Client()
	defer cl.CloseIdleConnections()
	base := "http://" + addr(h)

	resp, err := cl.Get(base + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "Hello World!" || resp.Header.Get("Content-Type") != "text/html" || resp.ContentLength != 12 {
		t.Fatalf("%s %d %v %q", resp.Proto, resp.StatusCode, resp.Header, body)
	}

	req, _ := http.NewRequest("GET", base+"/headers?x=1", nil)
	req.Header.Set("X-Custom", "v")
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	resp, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "GET|" + addr(h) + "|v|2|x=1"; string(body) != want || resp.Header.Get("X-Reply") != "yes" {
		t.Fatalf("headers: %q %v, want %q", body, resp.Header, want)
	}

	resp, err = cl.Get(base + "/chunks")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "one,two,three" {
		t.Fatalf("chunks: %q", body)
	}

	for _, size := range []int{0, 1, 100 << 10, 3 << 20} {
		payload := make([]byte, size)
		rand.Read(payload)
		resp, err := cl.Post(base+"/echo", "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, payload) {
			t.Fatalf("echo %d bytes: got %d", size, len(got))
		}
	}

	resp, err = cl.Get(base + "/missing")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || string(body) != "Nothing matches the given URI" {
		t.Fatalf("404: %d %q", resp.StatusCode, body)
	}
	// The connection survived the 404: HTTP/2 ends the stream, not the session.
	if n := len(h.GetClientList()); n != 1 {
		t.Fatalf("%d sessions, want the one HTTP/2 connection", n)
	}
}

func TestHTTP2ConcurrentStreamsOneSession(t *testing.T) {
	var mu sync.Mutex
	inHandler := 0
	maxInHandler := 0
	h := start(t, testConfig(), &httpd.URI{URI: "/slow", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		mu.Lock()
		inHandler++
		maxInHandler = max(maxInHandler, inHandler)
		mu.Unlock()
		// A slow handler is the behaviour under test: the window in which
		// a second one would overlap if the worker ran two at once.
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		inHandler--
		mu.Unlock()
		return r.RespSendStr(r.URI)
	}})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	// One request first, so the client knows our MAX_CONCURRENT_STREAMS
	// before it opens many streams at once.
	if resp, err := cl.Get("http://" + addr(h) + "/slow?warm"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	var wg sync.WaitGroup
	for i := range 10 { // as many as MaxConcurrentStreams: see the h2 package's strict-client test
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cl.Get(fmt.Sprintf("http://%s/slow?%d", addr(h), i))
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != fmt.Sprintf("/slow?%d", i) {
				t.Errorf("stream %d: %q", i, body)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if maxInHandler != 1 {
		t.Fatalf("%d handlers ran at once: the worker must run one at a time", maxInHandler)
	}
	if n := len(h.GetClientList()); n != 1 {
		t.Fatalf("%d sessions for one HTTP/2 connection", n)
	}
}

func TestHTTP2SessionContextPerConnection(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/count", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		n, _ := r.SessCtx.(int)
		r.SessCtx = n + 1
		return r.RespSendStr(fmt.Sprint(n + 1))
	}})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	for want := 1; want <= 3; want++ {
		resp, err := cl.Get("http://" + addr(h) + "/count")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != fmt.Sprint(want) {
			t.Fatalf("request %d on one connection saw %q", want, body)
		}
	}
}

func TestHTTP2AsyncHandlerAndQueueWork(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	workRan := make(chan struct{})
	h.RegisterURIHandler(&httpd.URI{URI: "/async", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		ar, err := r.AsyncHandlerBegin()
		if err != nil {
			return err
		}
		go func() {
			// Answer only once /work and the work it queued have run: the
			// open async stream did not hold the worker.
			msg := "async done"
			select {
			case <-workRan:
			case <-time.After(5 * time.Second):
				msg = "the worker served nothing else while the async stream was open"
			}
			ar.RespSendStr(msg)
			ar.AsyncHandlerComplete()
		}()
		return nil
	}})
	h.RegisterURIHandler(&httpd.URI{URI: "/work", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		// Work queued from a handler runs after it, on the worker.
		if err := r.Handle.QueueWork(func() { close(workRan) }); err != nil {
			return err
		}
		return r.RespSendStr("queued")
	}})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	var wg sync.WaitGroup
	results := make(map[string]string)
	var mu sync.Mutex
	for _, p := range []string{"/async", "/hello", "/work"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := cl.Get("http://" + addr(h) + p)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			mu.Lock()
			results[p] = string(body)
			mu.Unlock()
		}()
	}
	wg.Wait()
	want := map[string]string{"/async": "async done", "/hello": "Hello World!", "/work": "queued"}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Fatalf("%v", results)
	}
	select {
	case <-workRan:
	case <-time.After(3 * time.Second):
		t.Fatal("work queued from an HTTP/2 handler never ran")
	}
}

func TestHTTP2Disabled(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = false
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	if _, err := cl.Get("http://" + addr(h) + "/hello"); err == nil {
		t.Fatal("HTTP/2 served with Config.HTTP2 off")
	}
}

// curl runs the real curl client; the test fails when it is missing.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(exttool.Require(t, "curl"), append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestHTTP2Curl(t *testing.T) {
	h := start(t, testConfig(), h2Handlers()...)
	base := "http://" + addr(h)
	// Prior knowledge.
	out := curl(t, "--http2-prior-knowledge", "-w", "|%{http_version}", base+"/hello")
	if out != "Hello World!|2" {
		t.Fatalf("prior knowledge: %q", out)
	}
	// Upgrade from HTTP/1.1 (h2c), with a body: the request becomes stream 1.
	out = curl(t, "--http2", "-w", "|%{http_version}", "--data-binary", "upgraded body", base+"/echo")
	if out != "upgraded body|2" {
		t.Fatalf("h2c upgrade: %q", out)
	}
	out = curl(t, "--http2", "-w", "|%{http_version}", base+"/chunks")
	if out != "one,two,three|2" {
		t.Fatalf("h2c upgrade GET: %q", out)
	}
}

func TestHTTP2UpgradeThenMoreStreams(t *testing.T) {
	h := start(t, testConfig(), h2Handlers()...)
	c := newClient(t, h)
	c.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
	line, _ := c.br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 101") {
		t.Fatalf("upgrade answered %q", line)
	}
	for {
		l, err := c.br.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	// Speak HTTP/2 on the same connection: preface, then read the response
	// to stream 1 and open stream 3.
	fr := http2.NewFramer(c.nc, c.br)
	io.WriteString(c.nc, http2.ClientPreface)
	fr.WriteSettings()
	var got []string
	deadline := time.Now().Add(5 * time.Second)
	c.nc.SetDeadline(deadline)
	for len(got) < 1 {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading frames: %v", err)
		}
		if d, ok := f.(*http2.DataFrame); ok && d.StreamID == 1 {
			got = append(got, string(d.Data()))
		}
	}
	if strings.Join(got, "") != "Hello World!" {
		t.Fatalf("stream 1: %q", got)
	}
}

func TestInvalidPrefaceClosesSilently(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	c.send("INVALID CONNECTION PREFACE\r\n\r\n")
	raw, _ := io.ReadAll(c.br)
	if len(raw) != 0 {
		t.Fatalf("answered %q, want the connection closed (RFC 9113 3.4)", raw)
	}
	// Without HTTP/2 it is just a malformed HTTP/1.1 request: 400.
	cfg := testConfig()
	cfg.HTTP2 = false
	h1only := start(t, cfg)
	c = newClient(t, h1only)
	c.send("INVALID CONNECTION PREFACE\r\n\r\n")
	if resp := c.read("GET"); resp.StatusCode != 400 && resp.StatusCode != 501 {
		t.Fatalf("HTTP/1.1-only server: %d, want an error status", resp.StatusCode)
	}
}

// TestHTTP2StopFinishesInFlightStreams stops the server while a stream is
// being served: the client gets its response and a GOAWAY, and Stop
// returns within its bound.
func TestHTTP2StopFinishesInFlightStreams(t *testing.T) {
	before := runtime.NumGoroutine()
	h, err := httpd.Start(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	address := addr(h)
	h.RegisterURIHandler(&httpd.URI{URI: "/slow", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		close(entered)
		// Finish only once Stop is under way: it closes the listener
		// first, then waits for the streams in flight.
		stopping := hsWaitFor(3*time.Second, func() bool {
			nc, err := net.Dial("tcp", address)
			if err == nil {
				nc.Close()
			}
			return err != nil
		})
		if !stopping {
			return r.RespSendStr("Stop never closed the listener")
		}
		return r.RespSendStr("finished")
	}})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	got := make(chan string, 1)
	go func() {
		resp, err := cl.Get("http://" + addr(h) + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(body)
	}()
	<-entered
	t0 := time.Now()
	h.Stop()
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Stop took %v", d)
	}
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight stream: %q", body)
	}
	cl.CloseIdleConnections()
	checkGoroutines(t, before)
}
