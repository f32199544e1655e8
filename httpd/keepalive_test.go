package httpd_test

// Persistent connections: keep-alive, pipelining (up to a 10 000-request
// burst), Connection: close and HTTP/1.0.

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

// TestHostilePipelinedBurst pipelines 10 000 requests on one connection;
// every one is answered, in order, while another client is served.
func TestHostilePipelinedBurst(t *testing.T) {
	const n = 10000
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/p", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			q, _ := r.URLQueryStr()
			return r.RespSendStr(q)
		}})
	probe := hsStartProbe(t, h)
	nc := dial(t, h)
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	writeErr := make(chan error, 1)
	go func() {
		var b []byte
		for i := range n {
			b = fmt.Appendf(b, "GET /p?%d HTTP/1.1\r\nHost: burst\r\n\r\n", i)
			if len(b) > 32<<10 || i == n-1 {
				if _, err := nc.Write(b); err != nil {
					writeErr <- err
					return
				}
				b = b[:0]
			}
		}
		writeErr <- nil
	}()
	br := bufio.NewReaderSize(nc, 64<<10)
	t0 := time.Now()
	for i := range n {
		resp, body, err := hsRead(br, "GET")
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.StatusCode != 200 || body != strconv.Itoa(i) {
			t.Fatalf("response %d: %d %q, out of order", i, resp.StatusCode, body)
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pipelined requests answered in %v", n, time.Since(t0))
	probe.check(t, time.Second)
}

func TestGetHello(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	for range 3 { // keep-alive: the same connection serves again
		resp := c.do(get("/hello"))
		if resp.StatusCode != 200 || resp.body != "Hello World!" {
			t.Fatalf("got %d %q", resp.StatusCode, resp.body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
			t.Fatalf("Content-Type %q, want text/html", ct)
		}
		if resp.ContentLength != 12 {
			t.Fatalf("Content-Length %d", resp.ContentLength)
		}
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	h := start(t, testConfig(),
		&httpd.URI{URI: "/a", Method: httpd.GET, Handler: func(r *httpd.Req) error { return r.RespSendStr("A") }},
		&httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo},
	)
	c := newClient(t, h)
	var raw strings.Builder
	var want []string
	for i := range 20 {
		if i%2 == 0 {
			raw.WriteString(get("/a"))
			want = append(want, "A")
		} else {
			body := fmt.Sprintf("body-%d", i)
			fmt.Fprintf(&raw, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			want = append(want, body)
		}
	}
	c.send(raw.String())
	var got []string
	for i := range want {
		method := "GET"
		if i%2 == 1 {
			method = "POST"
		}
		got = append(got, c.read(method).body)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("pipelined responses (-want +got):\n%s", diff)
	}
}

func TestConnectionCloseAndHTTP10(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSendStrChunk("ab")
			r.RespSendStrChunk("cd")
			return r.RespSendStrChunk("")
		}})
	c := newClient(t, h)
	// net/http reports "Connection: close" as resp.Close.
	if resp := c.do("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"); !resp.Close {
		t.Fatalf("no Connection: close in %v", resp.Header)
	}
	c.expectClosed()

	c = newClient(t, h)
	c.do("GET /hello HTTP/1.0\r\n\r\n")
	c.expectClosed()

	c = newClient(t, h)
	resp := c.do("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	if resp.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("HTTP/1.0 keep-alive answered with Connection %q", resp.Header.Get("Connection"))
	}
	// Chunked to HTTP/1.0: unframed body ended by close.
	c.send("GET /chunks HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	all, _ := io.ReadAll(c.br)
	if !strings.HasSuffix(string(all), "\r\n\r\nabcd") || strings.Contains(string(all), "chunked") {
		t.Fatalf("HTTP/1.0 chunked response:\n%s", all)
	}
}

func TestOneConnectionHeaderWhenClosing(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/ka", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSetHdr("Connection", "keep-alive")
		return r.RespSendStr("x")
	}})
	c := newClient(t, h)
	c.send("GET /ka HTTP/1.1\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(c.br)
	if n := strings.Count(strings.ToLower(string(raw)), "\r\nconnection:"); n != 1 || !strings.Contains(string(raw), "Connection: close\r\n") {
		t.Fatalf("%d Connection headers in:\n%s", n, raw)
	}
	// Not closing: the handler's header stands alone.
	c = newClient(t, h)
	if resp := c.do(get("/ka")); resp.Header.Get("Connection") != "keep-alive" || resp.Close {
		t.Fatalf("%v", resp.Header)
	}
}
