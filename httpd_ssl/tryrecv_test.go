package httpd_ssl_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// cutConn passes writes through until cut is set; then it writes only the
// first half of the next write (a TLS record cut short) and drops the rest.
type cutConn struct {
	net.Conn
	cut atomic.Bool
}

func (c *cutConn) Write(p []byte) (int, error) {
	if c.cut.Load() {
		if _, err := c.Conn.Write(p[:len(p)/2]); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// A session whose next request is cut inside a TLS record is not idle: the
// server read part of a record without waiting (tryRecv), and the rest is
// due within RecvWaitTimeout, after which the client hears 408 and the
// session ends. Were the cut record taken for "nothing arrived", the
// session would wait for it forever.
func TestTLSRecordCutShortTimesOut(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	cfg.Httpd.RecvWaitTimeout = 300 * time.Millisecond
	h := start(t, cfg)
	raw, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &cutConn{Conn: raw}
	conn := tls.Client(cc, clientConfig(p))
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	get := "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
	io.WriteString(conn, get)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v %v", resp, err)
	}
	cc.cut.Store(true)
	sent := time.Now()
	io.WriteString(conn, get)
	resp, err := http.ReadResponse(br, nil)
	waited := time.Since(sent)
	if err == nil && resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("cut request answered %d", resp.StatusCode)
	}
	if waited < 200*time.Millisecond || waited > 3*time.Second {
		t.Fatalf("session ended %v after the cut record (RecvWaitTimeout 300ms); err %v", waited, err)
	}
}

// An idle TLS keep-alive session waits for its next request (tryRecv
// found nothing, the server waits for the socket) and serves it when it
// comes, however long after.
func TestTLSKeepAliveAfterIdle(t *testing.T) {
	p := newPKI()
	conn := dialTLS(t, start(t, testConfig(p)), p)
	br := bufio.NewReader(conn)
	for i := range 3 {
		if i > 0 {
			time.Sleep(150 * time.Millisecond) // the idle gap under test
		}
		io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "Hello Secure World!" {
			t.Fatalf("request %d: body %q", i, body)
		}
	}
}

// Many request/response exchanges on one TLS connection, each answered
// well within a second: the server finds nothing, waits, and is woken by
// the next request every time. A wake-up lost between the server's read
// that found nothing and its wait would stall the exchange until the
// session's read deadline (RecvWaitTimeout, 10 s here) fired.
func TestTLSPingPongLosesNoWakeup(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	cfg.Httpd.RecvWaitTimeout = 10 * time.Second
	conn := dialTLS(t, start(t, cfg), p)
	br := bufio.NewReader(conn)
	for i := range 3000 {
		conn.SetDeadline(time.Now().Add(time.Second)) // the hang detector, not a timing
		if _, err := io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

// dialTLS opens a TLS connection to h, closed when the test ends, with a
// 5 s deadline.
func dialTLS(t *testing.T, h *httpd.Handle, p pki) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", h.Addr().String(), clientConfig(p))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	return conn
}

// Requests pipelined in records of their own, which the server's
// non-blocking read takes several at a time: the records read ahead are
// decrypted (pending) before the socket is asked again, and every request
// is answered rather than left waiting for bytes that already came.
func TestTLSPipelinedRecords(t *testing.T) {
	p := newPKI()
	conn := dialTLS(t, start(t, testConfig(p)), p)
	br := bufio.NewReader(conn)
	const n = 20
	for range n { // one Write, one record, each
		io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
	}
	for i := range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "Hello Secure World!" {
			t.Fatalf("response %d: body %q", i, body)
		}
	}
}
