package httpd_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
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
		resp := postExpect(t, client, i, url, bytes.NewReader(body), "ignored your body")
		// The head says the session closes, so the client never reuses
		// a connection the server is about to close.
		if !resp.Close {
			t.Fatalf("run %d: no Connection: close on a response that leaves 64 MiB unread", i)
		}
	}
}

// TestHostileCloseKeepsResponse: when the server closes a session whose
// client is still sending (here a 4 MiB body the handler ignores, more than
// the server will discard), the response it already sent must still reach
// the client whole. Closing a socket with unread input makes the kernel
// send RST and drop whatever response bytes are still queued; RFC 9112
// section 9.6 has servers close the write side first and drain for a
// while (as net/http's closeWriteAndWait does).
func TestHostileCloseKeepsResponse(t *testing.T) {
	resp := strings.Repeat("r", 64<<10)
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			r.RespSetType("text/plain")
			for off := 0; off < len(resp); off += 1024 {
				if err := r.RespSendStrChunk(resp[off : off+1024]); err != nil {
					return err
				}
			}
			return r.RespSendStrChunk("")
		}})
	probe := hsStartProbe(t, h)
	const rounds = 10
	lost := 0
	for range rounds {
		nc := dial(t, h)
		br := bufio.NewReader(nc)
		const size = 4 << 20
		fmt.Fprintf(nc, "POST /ignore HTTP/1.1\r\nContent-Length: %d\r\n\r\n", size)
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			chunk := bytes.Repeat([]byte("b"), 64<<10)
			for n := 0; n < size; n += len(chunk) {
				if _, err := nc.Write(chunk); err != nil {
					return // closed by the server, as expected
				}
			}
		}()
		r, body, err := hsRead(br, "POST")
		if err != nil || r.StatusCode != 200 || body != resp {
			lost++
			t.Logf("response lost or cut: %v, %d of %d bytes", err, len(body), len(resp))
		}
		nc.Close()
		<-sent
	}
	probe.check(t, time.Second)
	if lost > 0 {
		t.Fatalf("%d of %d responses cut short: a socket closed with unread input resets the connection "+
			"and drops the response bytes still queued", lost, rounds)
	}
}

// A client that asked for the close and sent all of its request has
// nothing more to send: its socket closes at once rather than lingering
// half-closed, as one whose body was left unread does (above). Bytes it
// sends anyway after the response are refused (a reset), where a
// lingering socket would drain them for up to 2 s.
func TestClientCloseRequestClosesAtOnce(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	tests := []struct {
		name    string
		request string
		linger  bool
	}{
		{"Connection: close", "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", false},
		{"HTTP/1.0", "GET /hello HTTP/1.0\r\n\r\n", false},
		{"body left unread", "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 300000\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, h)
			if r := c.do(tt.request); r.StatusCode != 200 {
				t.Fatalf("status %d", r.StatusCode)
			}
			c.expectClosed()
			refused := false
			for range 50 { // polls for the reset; a lingering socket drains for 2 s
				if _, err := c.nc.Write([]byte("more")); err != nil {
					refused = true
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if refused == tt.linger {
				t.Fatalf("bytes after the response refused: %v, want %v", refused, !tt.linger)
			}
		})
	}
}

// Idle sessions closed by the server (here by LRU purge) whose clients
// never close their end leave nothing behind: the session's reader, waiting
// for a request that will not be served, ends at once, and the lingering
// close gives up after its 2 s. Before, the reader kept waiting (and kept
// the socket's read lock, so the linger could not time out) until the
// client closed, however long that took.
func TestPurgedIdleSessionsLeaveNoGoroutines(t *testing.T) {
	cfg := testConfig()
	cfg.MaxOpenSockets = 2
	cfg.LRUPurgeEnable = true
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	base := liveGoroutines()
	for range 8 {
		c := newClient(t, h) // kept open, idle, until the test ends
		if r := c.do(get("/hello")); r.StatusCode != 200 {
			t.Fatalf("status %d", r.StatusCode)
		}
	}
	// Two sessions are left, each with its reader; the purged ones had
	// theirs when the loop started counting too, so the count must come
	// back to about where it began.
	if !hsWaitFor(4*time.Second, func() bool { return liveGoroutines() <= base+2 }) {
		t.Fatalf("goroutines: %d at the start, %d after purging 6 idle sessions", base, liveGoroutines())
	}
}
