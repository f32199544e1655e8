package httpd_test

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// keepAliveGET is a browser-like request with 8 header fields.
const keepAliveGET = "GET /hello HTTP/1.1\r\n" +
	"Host: 127.0.0.1:8080\r\n" +
	"User-Agent: bench/1.0\r\n" +
	"Accept: text/html,application/xhtml+xml\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: no-cache\r\n" +
	"Pragma: no-cache\r\n" +
	"\r\n"

// BenchmarkKeepAliveGET measures one request/response round trip on a
// keep-alive loopback connection; allocations count both the server's
// goroutines and the client loop, which allocates nothing itself.
func BenchmarkKeepAliveGET(b *testing.B) {
	cfg := testConfig()
	h := start(b, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	benchKeepAliveHello(b, h)
}

// benchKeepAliveHello measures GET /hello round trips on one keep-alive
// connection to h, whose /hello answers "Hello World!" as text/html.
func benchKeepAliveHello(b *testing.B, h *httpd.Handle) {
	nc, err := net.Dial("tcp", addr(h))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	req := []byte(keepAliveGET)
	want := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nHello World!"
	resp := make([]byte, len(want))
	// One warm-up request checks the exact response bytes.
	nc.Write(req)
	if _, err := io.ReadFull(nc, resp); err != nil || string(resp) != want {
		b.Fatalf("response %q, %v", resp, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, resp); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if !bytes.HasSuffix(resp, []byte("Hello World!")) {
		b.Fatalf("last response %q", resp)
	}
}

// BenchmarkPipelinedGET sends 16 requests per write, as a pipelining client
// does, so the per-request cost shows without a round trip each.
func BenchmarkPipelinedGET(b *testing.B) {
	h := start(b, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	nc, err := net.Dial("tcp", addr(h))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	const depth = 16
	req := bytes.Repeat([]byte(keepAliveGET), depth)
	resp := make([]byte, depth*len("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nHello World!"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		nc.Write(req)
		if _, err := io.ReadFull(nc, resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeepAliveGET64 runs 64 keep-alive connections at once, as the
// load tools do: the worker serves many sessions between wake-ups.
func BenchmarkKeepAliveGET64(b *testing.B) {
	cfg := testConfig()
	cfg.MaxOpenSockets = 64
	h := start(b, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	const conns = 64
	want := len("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nHello World!")
	var ncs []net.Conn
	for range conns {
		nc, err := net.Dial("tcp", addr(h))
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		ncs = append(ncs, nc)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, nc := range ncs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := []byte(keepAliveGET)
			resp := make([]byte, want)
			for next.Add(1) <= int64(b.N) {
				if _, err := nc.Write(req); err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(nc, resp); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
