package httpd_test

// Request bodies through Req.Recv: Content-Length and chunked, sizes from
// empty to 10 MiB, 100-continue, and bodies a handler leaves unread.

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

func TestEchoBodySizes(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	for _, size := range []int{0, 1, 64 << 10, 10 << 20} {
		body := make([]byte, size)
		rand.Read(body)
		go func() {
			fmt.Fprintf(c.nc, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n", size)
			c.nc.Write(body)
		}()
		resp := c.read("POST")
		if resp.StatusCode != 200 || !bytes.Equal([]byte(resp.body), body) {
			t.Fatalf("size %d: status %d, echoed %d bytes", size, resp.StatusCode, len(resp.body))
		}
	}
}

func TestChunkedRequestBody(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	raw := "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nHello\r\n1;ext=1\r\n,\r\n6\r\n World\r\n0\r\nTrailer: x\r\n\r\n"
	for range 2 {
		if resp := c.do(raw); resp.body != "Hello, World" {
			t.Fatalf("chunked echo %q", resp.body)
		}
	}
	// A large chunked body, sent in odd pieces.
	big := make([]byte, 300<<10)
	rand.Read(big)
	go func() {
		io.WriteString(c.nc, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
		for rest := big; len(rest) > 0; {
			n := min(len(rest), 7777)
			fmt.Fprintf(c.nc, "%x\r\n", n)
			c.nc.Write(rest[:n])
			io.WriteString(c.nc, "\r\n")
			rest = rest[n:]
		}
		io.WriteString(c.nc, "0\r\n\r\n")
	}()
	if resp := c.read("POST"); !bytes.Equal([]byte(resp.body), big) {
		t.Fatalf("big chunked echo: %d bytes back", len(resp.body))
	}
}

func TestBadChunkedBodyClosesSession(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
	if resp := c.read("POST"); resp.StatusCode != 400 || resp.body != "Bad request syntax" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
	// Past MaxBufferedBody the handler meets the bad framing in Recv: the
	// answer is the same.
	c = newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + "5000\r\n" + strings.Repeat("x", 0x5000) + "\r\nzz\r\n")
	if resp := c.read("POST"); resp.StatusCode != 400 {
		t.Fatalf("streamed: %d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
}

func TestUnreadBodyIsDiscarded(t *testing.T) {
	h := start(t, testConfig(),
		&httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: hello},
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
	)
	c := newClient(t, h)
	big := strings.Repeat("x", 100<<10)
	c.send("POST /ignore HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big)
	c.read("POST")
	c.send("POST /ignore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	c.read("POST")
	if resp := c.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatalf("after discarded bodies: %q", resp.body)
	}
}

func TestPostWithoutLengthHasEmptyBody(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	if resp := c.do("POST /echo HTTP/1.1\r\n\r\n"); resp.StatusCode != 200 || resp.body != "" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
}

func TestExpectContinue(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, err := c.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	c.br.ReadString('\n') // the empty line
	c.send("hello")
	if resp := c.read("POST"); resp.body != "hello" {
		t.Fatalf("body %q", resp.body)
	}
}
