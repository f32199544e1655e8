package httpd_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// espRetryEcho is ESP-IDF's echo handler, retry idiom included:
//
//	if (ret == HTTPD_SOCK_ERR_TIMEOUT) continue;
//
// It counts its Recv calls, so a loop that spins shows.
func espRetryEcho(calls *atomic.Int64, failed chan<- error) httpd.HandlerFunc {
	return func(r *httpd.Req) error {
		body := make([]byte, 0, r.ContentLen)
		buf := make([]byte, 100)
		for int64(len(body)) < r.ContentLen {
			calls.Add(1)
			n, err := r.Recv(buf)
			body = append(body, buf[:n]...)
			if errors.Is(err, httpd.ErrSockTimeout) {
				continue // ESP-IDF: retry receiving if timeout occurred
			}
			if err != nil {
				failed <- err
				return err
			}
		}
		return r.RespSend(body)
	}
}

// TestRetryIdiomSlowClientFailedNoSpin: a client that sends 100 bytes of a
// 20000-byte body and then stalls for longer than RecvWaitTimeout is failed
// with a non-timeout error (its retry loop ends), gets 408, and another
// client waiting meanwhile is answered right after. No Recv returns
// without having waited: the loop makes a handful of calls, not millions.
func TestRetryIdiomSlowClientFailedNoSpin(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 400 * time.Millisecond
	var calls atomic.Int64
	failed := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: espRetryEcho(&calls, failed)},
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	slow := newClient(t, h)
	slow.send("POST /echo HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + strings.Repeat("a", 100))
	// The other client asks while the slow one holds the worker.
	answered := make(chan time.Duration, 1)
	go func() {
		t0 := time.Now()
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hello", h.Port()))
		if err == nil {
			resp.Body.Close()
		}
		answered <- time.Since(t0)
	}()
	var err error
	select {
	case err = <-failed:
	case <-time.After(10 * time.Second):
		t.Fatalf("the stalled body never failed; the handler called Recv %d times", calls.Load())
	}
	if errors.Is(err, httpd.ErrSockTimeout) {
		t.Fatalf("Recv failed with %v: a timeout, so the retry loop would go on", err)
	}
	if n := calls.Load(); n > 10 {
		t.Fatalf("the retry loop called Recv %d times: Recv returned without waiting", n)
	}
	if resp := slow.read("POST"); resp.StatusCode != 408 {
		t.Fatalf("the slow client got %d, want 408", resp.StatusCode)
	}
	select {
	case d := <-answered:
		t.Logf("other client answered after %v", d)
	case <-time.After(3 * time.Second):
		t.Fatal("the other client was not answered after the slow one failed")
	}
}

// TestRetryIdiomStallOnceCompletes: a single stall shorter than
// RecvWaitTimeout, then the rest of the body, completes as on ESP-IDF.
func TestRetryIdiomStallOnceCompletes(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = time.Second
	var calls atomic.Int64
	failed := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: espRetryEcho(&calls, failed)})
	c := newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + strings.Repeat("a", 100))
	time.Sleep(600 * time.Millisecond) // the stall under test, shorter than RecvWaitTimeout
	c.send(strings.Repeat("b", 19900))
	resp := c.read("POST")
	if resp.StatusCode != 200 || len(resp.body) != 20000 {
		t.Fatalf("%d, %d bytes", resp.StatusCode, len(resp.body))
	}
	select {
	case err := <-failed:
		t.Fatal(err)
	default:
	}
}
