package httpd_test

import (
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestIdleTimeout: a session that waits longer than IdleTimeout for its
// next request is closed; one that keeps asking is not.
func TestIdleTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.IdleTimeout = 300 * time.Millisecond
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	busy, idle, silent := newClient(t, h), newClient(t, h), newClient(t, h)
	if resp := idle.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal(resp.body)
	}
	// busy asks more often than IdleTimeout for twice as long.
	for range 6 {
		if resp := busy.do(get("/hello")); resp.body != "Hello World!" {
			t.Fatalf("a busy session was closed: %q", resp.body)
		}
		time.Sleep(100 * time.Millisecond) // the client's pace under test
	}
	t0 := time.Now()
	idle.expectClosed()
	silent.expectClosed()
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("idle sessions closed after %v", d)
	}
	if _, err := httpd.Start(func() httpd.Config { c := testConfig(); c.IdleTimeout = -1; return c }()); err == nil {
		t.Fatal("a negative IdleTimeout was accepted")
	}
}
