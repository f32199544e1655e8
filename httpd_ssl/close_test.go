package httpd_ssl_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// A TLS client still uploading a body the handler ignores reads the
// answer, not a reset: httpd_ssl ends the TLS session with close_notify
// only and leaves the socket to httpd, which shuts its write side and
// drains the upload before closing, as it does for plain sessions.
func TestTLSUnreadLargeBodyStillAnswered(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p), &httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		return r.RespSendStr("ignored your body")
	}})
	body := make([]byte, 16<<20)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: clientConfig(p)}}
	defer client.CloseIdleConnections()
	for i := range 10 {
		resp, err := client.Post("https://"+h.Addr().String()+"/ignore", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(got) != "ignored your body" {
			t.Fatalf("run %d: %d %q %v", i, resp.StatusCode, got, err)
		}
	}
}

// Idle TLS sessions purged for new clients, whose clients keep their end
// open, leave no goroutine behind once the lingering close gives up.
func TestPurgedIdleTLSSessionsLeaveNoGoroutines(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	cfg.Httpd.MaxOpenSockets = 2
	cfg.Httpd.LRUPurgeEnable = true
	h := start(t, cfg)
	base := runtime.NumGoroutine()
	for i := range 8 {
		conn := dialTLS(t, h, p) // kept open, idle, until the test ends
		io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("client %d: %v %v", i, resp, err)
		}
	}
	// Two sessions are left, each with its reader, and the readers of
	// ended sessions wait a while for new ones: at most MaxOpenSockets (2).
	// A purged session whose reader or lingering close stayed with its
	// client would leave two goroutines each.
	if !waitFor(4*time.Second, func() bool { return runtime.NumGoroutine() <= base+2+2 }) {
		t.Fatalf("goroutines: %d at the start, %d after purging 6 idle TLS sessions", base, runtime.NumGoroutine())
	}
}
