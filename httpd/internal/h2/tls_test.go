package h2_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
	"github.com/esphttpd/esphttpd/httpd/internal/h2/internal/testserver"
	"golang.org/x/net/http2"
)

// TLS with ALPN "h2": the same engine below a tls.Conn.
func TestTLSALPN(t *testing.T) {
	s, err := testserver.StartTLS("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	tr := &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := cl.Post("https://"+s.Addr()+"/echo", "text/plain", strings.NewReader("over tls"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(body) != "over tls" {
		t.Fatalf("proto %d body %q", resp.ProtoMajor, body)
	}
	t.Run("curl", func(t *testing.T) {
		curl := exttool.Require(t, "curl")
		out, err := exec.Command(curl, "-sSk", "--http2", "-w", " %{http_version}", "https://"+s.Addr()+"/echo", "-d", "curl tls").CombinedOutput()
		if err != nil || string(out) != "curl tls 2" {
			t.Errorf("curl ALPN h2: %q %v", out, err)
		}
	})
}

// Every goroutine of the server (reader per connection, worker, acceptor)
// ends at Close, including ones parked in ReadData and WriteData.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := testserver.Start("", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr(), http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	c.request(1, "GET", "/", true)   // handler parked in WriteData
	c.request(3, "POST", "/", false) // queued, would park in ReadData
	// Its HEADERS out, the handler of stream 1 is in WriteData with no window.
	c.until("HEADERS of stream 1", func(f http2.Frame) bool {
		_, ok := f.(*http2.MetaHeadersFrame)
		return ok && f.Header().StreamID == 1
	})
	c.sync() // stream 3 is queued
	c2 := dial(t, s.Addr())
	c2.request(1, "GET", "/", true)
	c2.sync() // queued behind the parked handler
	s.Close()
	c.nc.Close()
	c2.nc.Close()
	if waitFor(2*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
		return
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
}
