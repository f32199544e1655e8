package httpd_test

// A peer that half-closes, closes or resets while the server reads: the
// responses still due arrive, a handler's Recv reports the loss, and the
// close callback runs.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestHostileHalfClose shuts down the client's sending side right after its
// requests: the responses still arrive, then the server closes.
func TestHostileHalfClose(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/read", Method: httpd.POST, Handler: echo})
	probe := hsStartProbe(t, h)
	cases := []struct {
		name, raw string
		want      []string
	}{
		{"GET", get("/hello"), []string{"Hello World!"}},
		{"POST with body", "POST /read HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", []string{"hello"}},
		{"chunked POST", "POST /read HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", []string{"hi"}},
		{"pipelined", get("/hello") + "POST /read HTTP/1.1\r\nContent-Length: 2\r\n\r\nok" + get("/hello"),
			[]string{"Hello World!", "ok", "Hello World!"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := dial(t, h)
			br := bufio.NewReader(nc)
			io.WriteString(nc, tc.raw)
			if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				method := "GET"
				if want != "Hello World!" {
					method = "POST"
				}
				resp, body, err := hsRead(br, method)
				if err != nil || resp.StatusCode != 200 || body != want {
					t.Fatalf("response %d after half-close: %v %q, want %q", i, err, body, want)
				}
			}
			if err := hsClosed(nc, br, 3*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
	probe.check(t, time.Second)
}

// TestHostileResetMidBody resets the connection (SO_LINGER 0) while the
// handler streams the body: the handler's Recv reports an error and the
// close callback runs for the session.
func TestHostileResetMidBody(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBufferedBody = 0
	closed := make(chan int, 1024)
	cfg.CloseFn = func(_ *httpd.Handle, fd int) { closed <- fd }
	reading := make(chan int, 1)
	got := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/upload", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			buf := make([]byte, 1000)
			total, told := 0, false
			for {
				n, err := r.Recv(buf)
				total += n
				if total >= 1000 && !told {
					reading <- r.Sockfd()
					told = true
				}
				if err != nil {
					got <- err
					return err
				}
			}
		}})
	probe := hsStartProbe(t, h)
	nc := dial(t, h)
	fmt.Fprintf(nc, "POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("r", 1000))
	fd := <-reading
	nc.(*net.TCPConn).SetLinger(0)
	nc.Close()
	select {
	case err := <-got:
		if err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Recv after a reset: %v, want an error", err)
		}
		if !errors.Is(err, httpd.ErrSockFail) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Recv after a reset: %v, want ErrSockFail or io.ErrUnexpectedEOF", err)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Logf("Recv error does not wrap ECONNRESET: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv did not return after the reset")
	}
	if !hsClosedFD(closed, fd, 3*time.Second) {
		t.Fatal("close callback did not run after the reset")
	}
	probe.check(t, time.Second)
}

func TestRecvPeerCloseMidBody(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBufferedBody = 0
	const part = "only this"
	got := make(chan error, 1)
	midBody := make(chan struct{})
	h := start(t, cfg, &httpd.URI{URI: "/r", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		if _, err := io.ReadFull(reqReader{r}, make([]byte, len(part))); err != nil {
			got <- err
			return err
		}
		close(midBody)
		_, err := io.ReadAll(reqReader{r})
		got <- err
		return err
	}})
	c := newClient(t, h)
	c.send("POST /r HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + part)
	select {
	case <-midBody:
	case err := <-got:
		t.Fatalf("Recv of the first %d bytes: %v", len(part), err)
	}
	c.nc.(*net.TCPConn).CloseWrite()
	if err := waitChan(t, got, "Recv returning after the peer closed"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Recv after peer close: %v", err)
	}
}
