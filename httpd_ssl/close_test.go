package httpd_ssl_test

import (
	"bytes"
	"io"
	"net/http"
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
	h := start(t, testConfig(p))
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		return r.RespSendStr("ignored your body")
	}}); err != nil {
		t.Fatal(err)
	}
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
