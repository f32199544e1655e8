package bench

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// keepAliveGET is the request of httpd's BenchmarkKeepAliveGET: a
// browser-like GET with 8 header fields.
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

// BenchmarkKeepAliveGET is httpd's BenchmarkKeepAliveGET for each server:
// one keep-alive loopback connection, write the request, io.ReadFull the
// response of known size. The server runs in the benchmark's process, so
// allocs/op are the server's (the client loop allocates nothing).
func BenchmarkKeepAliveGET(b *testing.B) {
	for _, impl := range Impls {
		b.Run(impl, func(b *testing.B) { roundTrips(b, impl, []byte(keepAliveGET), Hello) })
	}
}

// BenchmarkEcho4K posts 4 KiB to /echo on a keep-alive connection.
func BenchmarkEcho4K(b *testing.B) {
	body := strings.Repeat("x", 4096)
	req := []byte("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Length: 4096\r\n\r\n" + body)
	for _, impl := range Impls {
		b.Run(impl, func(b *testing.B) { roundTrips(b, impl, req, body) })
	}
}

// roundTrips measures request/response round trips on one connection.
// The response's size is learnt from a first, parsed response: its only
// varying header, Date, has a fixed width.
func roundTrips(b *testing.B, impl string, req []byte, wantBody string) {
	srv, err := Start(impl, "127.0.0.1:0", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	size := responseSize(b, nc, req, wantBody)
	resp := make([]byte, size)
	// A second, raw warm-up checks the size.
	nc.Write(req)
	if _, err := io.ReadFull(nc, resp); err != nil || !bytes.HasSuffix(resp, []byte(wantBody)) {
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
	if !bytes.HasSuffix(resp, []byte(wantBody)) || !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 OK\r\n")) {
		b.Fatalf("last response %q", resp)
	}
}

// responseSize sends req once and returns the size of the whole response.
func responseSize(b *testing.B, nc net.Conn, req []byte, wantBody string) int {
	if _, err := nc.Write(req); err != nil {
		b.Fatal(err)
	}
	var raw bytes.Buffer
	resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(nc, &raw)), nil)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != wantBody || resp.ContentLength != int64(len(wantBody)) {
		b.Fatalf("body %q (Content-Length %d), %v", body, resp.ContentLength, err)
	}
	// The bufio.Reader may have read ahead only up to this response: the
	// server sends nothing else.
	return raw.Len()
}

// TestEndpoints checks each server's four endpoints once.
func TestEndpoints(t *testing.T) {
	for _, impl := range Impls {
		t.Run(impl, func(t *testing.T) {
			srv, err := Start(impl, "127.0.0.1:0", Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			base := "http://" + srv.Addr()
			get := func(path string) *http.Response {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			resp := get("/hello")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != Hello || resp.Header.Get("Content-Type") != "text/plain" {
				t.Errorf("/hello: %q, %q", body, resp.Header.Get("Content-Type"))
			}
			resp = get("/headers")
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			for _, kv := range extraHeaders {
				if resp.Header.Get(kv[0]) != kv[1] {
					t.Errorf("/headers: %s = %q", kv[0], resp.Header.Get(kv[0]))
				}
			}
			resp = get("/chunked")
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(body) != Chunks*ChunkSize || len(resp.TransferEncoding) != 1 {
				t.Errorf("/chunked: %d bytes, %v", len(body), resp.TransferEncoding)
			}
			for _, n := range []int{0, 4096, 1 << 20} {
				in := bytes.Repeat([]byte("0123456789abcdef"), n/16)
				resp, err := http.Post(base+"/echo", "application/octet-stream", bytes.NewReader(in))
				if err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !bytes.Equal(in, out) {
					t.Errorf("/echo %d bytes: got %d back", n, len(out))
				}
			}
		})
	}
}
