package httpd_test

// Malformed request heads get ESP-IDF's status line and default body, and
// the session closes.

import (
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestParseErrors sends raw malformed requests and checks the ESP-IDF status
// line, its exact default body, and that the session is closed.
func TestParseErrors(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 300 * time.Millisecond
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	long := strings.Repeat("a", max(cfg.MaxURILen, cfg.MaxReqHdrLen)+100) // over either limit
	cases := []struct {
		name, raw, status, body string
	}{
		{"garbage line", "HELLO\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"CR without LF", "GET /hello HTTP/1.1\rHost: x\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"header without colon", "GET /hello HTTP/1.1\r\nHost x\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"space before colon", "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"obs-fold", "GET /hello HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"upgrade not websocket", "GET /hello HTTP/1.1\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"CL and TE", "POST /hello HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"two CLs", "POST /hello HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400 Bad Request", "Bad request syntax"},
		{"negative CL", "POST /hello HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"unknown method", "BREW /hello HTTP/1.1\r\n\r\n", "501 Method Not Implemented", "Server does not support this method"},
		{"gzip TE", "POST /hello HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Method Not Implemented", "Server does not support this method"},
		{"HTTP/2.0", "GET /hello HTTP/2.0\r\n\r\n", "505 Version Not Supported", "HTTP version not supported by server"},
		{"HTTP/1.2", "GET /hello HTTP/1.2\r\n\r\n", "505 Version Not Supported", "HTTP version not supported by server"},
		{"long URI", "GET /" + long + " HTTP/1.1\r\n\r\n", "414 URI Too Long", "URI is too long"},
		{"long URI incomplete", "GET /" + long, "414 URI Too Long", "URI is too long"},
		{"long headers", "GET /hello HTTP/1.1\r\nX-Long: " + long + "\r\n\r\n", "431 Request Header Fields Too Large", "Header fields are too long"},
		{"no such URI", get("/nope"), "404 Not Found", "Nothing matches the given URI"},
		{"wrong method", "POST /hello HTTP/1.1\r\n\r\n", "405 Method Not Allowed", "Specified method is invalid for this resource"},
		{"head timeout", "GET /hello HTTP/1.1\r\nHost: x\r\n", "408 Request Timeout", "Server closed this connection"},
		{"body timeout", "POST /hello HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", "408 Request Timeout", "Server closed this connection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, h)
			c.send(tc.raw)
			resp := c.read("GET")
			if got := resp.Proto + " " + resp.Status; got != "HTTP/1.1 "+tc.status {
				t.Errorf("status %q, want %q", got, tc.status)
			}
			if resp.body != tc.body {
				t.Errorf("body %q, want %q", resp.body, tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q", ct)
			}
			c.expectClosed()
		})
	}
}
