package httpd_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestUnreadLargeBodyStillAnswered: a handler answers without reading a
// 64 MiB upload, so the session closes with most of the body unread. The
// client must read the response every time, not a reset ("broken pipe"),
// as net/http's clients do against net/http.
func TestUnreadLargeBodyStillAnswered(t *testing.T) {
	cfg := testConfig()
	h := start(t, cfg, &httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		return r.RespSendStr("ignored your body")
	}})
	body := make([]byte, 64<<20)
	client := &http.Client{Timeout: 20 * time.Second}
	defer client.CloseIdleConnections()
	url := fmt.Sprintf("http://127.0.0.1:%d/ignore", h.Port())
	runs := 20
	if testing.Short() {
		runs = 3
	}
	for i := range runs {
		resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(got) != "ignored your body" {
			t.Fatalf("run %d: %d %q %v", i, resp.StatusCode, got, err)
		}
		// The head says the session closes, so the client never reuses
		// a connection the server is about to close.
		if !resp.Close {
			t.Fatalf("run %d: no Connection: close on a response that leaves 64 MiB unread", i)
		}
	}
}
