package h2_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"golang.org/x/net/http2"
)

// nghttp2's clients (Debian's nghttp2-client), when installed.
func TestNghttp2Clients(t *testing.T) {
	h2load := exttool.Require(t, "h2load")
	nghttp := exttool.Require(t, "nghttp")
	s := startServer(t, nil, nil)
	out, err := exec.Command(h2load, "-n", "2000", "-c", "4", "-m", "10", "http://"+s.Addr()+"/").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2000 succeeded, 0 failed, 0 errored, 0 timeout") {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"-nv"}, {"-nvu"}} { // prior knowledge, h2c upgrade
		out, err := exec.Command(nghttp, append(args, "http://"+s.Addr()+"/", "http://"+s.Addr()+"/big")...).CombinedOutput()
		if err != nil || strings.Count(string(out), ":status: 200") != 2 {
			t.Errorf("nghttp %v: %v\n%s", args, err, out)
		}
	}
}

// A handler that answers without reading the body: the rest of the
// request is cut off with RST_STREAM NO_ERROR after the response (RFC 9113
// 8.1), and the connection stays usable.
func TestEarlyResponse(t *testing.T) {
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		c.WriteHeaders(ev.Stream, 413, nil, true)
	})
	c := dial(t, s.Addr())
	c.request(1, "POST", "/", false)
	c.fr.WriteData(1, false, []byte("some"))
	if st, _ := c.response(1); st != 413 {
		t.Fatalf("status %d", st)
	}
	// The rest of the body is still accepted (and dropped): ending it closes
	// the stream with no reset, and the connection goes on.
	c.fr.WriteData(1, true, []byte("rest"))
	c.request(3, "GET", "/", true)
	if st, _ := c.response(3); st != 413 {
		t.Fatalf("next stream: %d", st)
	}
	// A body that does not end is cut off with RST_STREAM NO_ERROR
	// (RFC 9113 8.1) once the grace has passed.
	c.request(5, "POST", "/", false)
	if st, _ := c.response(5); st != 413 {
		t.Fatalf("stream 5: %d", st)
	}
	if r := c.rst(5); r.ErrCode != http2.ErrCodeNo {
		t.Fatalf("RST %v, want NO_ERROR", r.ErrCode)
	}
}
