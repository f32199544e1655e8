package httpd_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// failingAsync begins an async request, sends a first chunk from another
// goroutine and then fails it.
func failingAsync(r *httpd.Req) error {
	cp, err := r.AsyncHandlerBegin()
	if err != nil {
		return err
	}
	go func() {
		cp.RespSendStrChunk("partial ")
		cp.AsyncHandlerFail()
	}()
	return nil
}

// TestAsyncHandlerFailHTTP2: over HTTP/2 a failed async request resets its
// stream only; the connection serves the next request.
func TestAsyncHandlerFailHTTP2(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	h := start(t, cfg, &httpd.URI{URI: "/fail", Method: httpd.GET, Handler: failingAsync},
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	client := h2Client()
	defer client.CloseIdleConnections()
	base := fmt.Sprintf("http://127.0.0.1:%d", h.Port())
	resp, err := client.Get(base + "/fail")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Fatalf("failed async stream: %v, want a stream reset with INTERNAL_ERROR", err)
	}
	resp, err = client.Get(base + "/hello")
	if err != nil {
		t.Fatalf("the connection's next stream: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "Hello World!" {
		t.Fatalf("%q", b)
	}
}

// TestAsyncHandlerFailHTTP1: over HTTP/1.1 the session closes after what
// was sent, without the last chunk.
func TestAsyncHandlerFailHTTP1(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/fail", Method: httpd.GET, Handler: failingAsync})
	c := newClient(t, h)
	c.send(get("/fail"))
	raw, _ := io.ReadAll(c.br)
	if !strings.Contains(string(raw), "partial ") || strings.HasSuffix(string(raw), "0\r\n\r\n") {
		t.Fatalf("failed async response: %q, want the first chunk and no last chunk", raw)
	}
}
