package httpd_ssl_test

import (
	"crypto/tls"
	"io"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// BenchmarkHTTPSKeepAliveGET measures one request/response round trip on a
// keep-alive TLS connection. Allocations count the whole process; the
// client's crypto/tls connection allocates nothing in steady state, so
// what is reported is the server's.
func BenchmarkHTTPSKeepAliveGET(b *testing.B) {
	p := newPKI()
	cfg := testConfig(p)
	h, err := httpd_ssl.Start(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer httpd_ssl.Stop(h)
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello}); err != nil {
		b.Fatal(err)
	}
	conn, err := tls.Dial("tcp", h.Addr().String(), clientConfig(p))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n")
	want := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\nHello Secure World!"
	resp := make([]byte, len(want))
	conn.Write(req)
	if _, err := io.ReadFull(conn, resp); err != nil || string(resp) != want {
		b.Fatalf("response %q, %v", resp, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, resp); err != nil {
			b.Fatal(err)
		}
	}
}
