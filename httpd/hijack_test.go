package httpd_test

import (
	"bufio"
	"io"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestHijackedConnOutlivesRequestTimeouts: the connection Hijack hands
// over carries none of the request's receive and send deadlines, so its
// new owner (a Zephyr WebSocket callback, say) can use it for longer than
// RecvWaitTimeout and SendWaitTimeout.
func TestHijackedConnOutlivesRequestTimeouts(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 200 * time.Millisecond
	cfg.SendWaitTimeout = 200 * time.Millisecond
	echoed := make(chan error, 1)
	// A POST with a small body (buffered under RecvWaitTimeout's read
	// deadline), answered with a raw Send (under SendWaitTimeout's write
	// deadline): both deadlines are set when the connection is handed over.
	h := start(t, cfg, &httpd.URI{URI: "/take", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		if _, err := io.ReadAll(reqReader{r}); err != nil {
			return err
		}
		if _, err := r.Send([]byte("taken\n")); err != nil {
			return err
		}
		conn, err := r.Hijack()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err == nil {
				_, err = io.WriteString(conn, "echo "+line)
			}
			echoed <- err
		}()
		return nil
	}})
	c := newClient(t, h)
	c.send("POST /take HTTP/1.1\r\nContent-Length: 1\r\n\r\nx")
	if line, err := c.br.ReadString('\n'); err != nil || line != "taken\n" {
		t.Fatalf("%q %v", line, err)
	}
	time.Sleep(3 * cfg.RecvWaitTimeout) // the idle time under test: past both request timeouts
	c.send("late\n")
	if err := <-echoed; err != nil {
		t.Fatalf("the hijacked connection failed after the request's timeouts: %v", err)
	}
	if line, err := c.br.ReadString('\n'); err != nil || line != "echo late\n" {
		t.Fatalf("%q %v", line, err)
	}
}
