package h2_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"github.com/esphttpd/esphttpd/httpd/internal/h2/internal/testserver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// startServer runs a test server for the test's duration.
func startServer(t *testing.T, cfg *h2.Config, h testserver.Handler) *testserver.Server {
	t.Helper()
	s, err := testserver.Start("", cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// client is a raw HTTP/2 client on x/net's Framer.
type client struct {
	t    *testing.T
	nc   net.Conn
	fr   *http2.Framer // writes (the flood goroutines)
	rd   *http2.Framer // reads (the test goroutine)
	hbuf bytes.Buffer
	enc  *hpack.Encoder
}

// dial connects and sends the preface and an initial SETTINGS frame.
func dial(t *testing.T, addr string, settings ...http2.Setting) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc, fr: http2.NewFramer(nc, nil), rd: http2.NewFramer(nil, nc)}
	c.rd.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.rd.MaxHeaderListSize = 1 << 20
	c.enc = hpack.NewEncoder(&c.hbuf)
	if _, err := io.WriteString(nc, h2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := c.fr.WriteSettings(settings...); err != nil {
		t.Fatal(err)
	}
	return c
}

// block encodes a request header block.
func (c *client) block(method, path string, extra ...string) []byte {
	c.hbuf.Reset()
	c.enc.WriteField(hpack.HeaderField{Name: ":method", Value: method})
	c.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "http"})
	c.enc.WriteField(hpack.HeaderField{Name: ":authority", Value: "test"})
	c.enc.WriteField(hpack.HeaderField{Name: ":path", Value: path})
	for i := 0; i+1 < len(extra); i += 2 {
		c.enc.WriteField(hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
	}
	return append([]byte(nil), c.hbuf.Bytes()...)
}

func (c *client) request(id uint32, method, path string, endStream bool, extra ...string) error {
	return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.block(method, path, extra...),
		EndStream: endStream, EndHeaders: true})
}

// next reads the next frame within 5 s. (SETTINGS are not acknowledged:
// the engine does not need it, and flood goroutines own the writer.)
func (c *client) next() (http2.Frame, error) {
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	return c.rd.ReadFrame()
}

// sync sends a PING and reads until its ACK: the server's reader has then
// handled every frame this client sent before. Frames read meanwhile are
// dropped.
func (c *client) sync() {
	c.t.Helper()
	data := [8]byte{'s', 'y', 'n', 'c'}
	if err := c.fr.WritePing(false, data); err != nil {
		c.t.Fatalf("PING: %v", err)
	}
	c.until("PING ACK", func(f http2.Frame) bool {
		p, ok := f.(*http2.PingFrame)
		return ok && p.IsAck() && p.Data == data
	})
}

// waitFor polls cond for up to d: the wait for a condition (a recorded
// connection error, goroutines gone) that nothing announces.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond) // the poll interval, not an ordering
	}
	return true
}

// until reads frames until pred accepts one.
func (c *client) until(what string, pred func(http2.Frame) bool) http2.Frame {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", what, err)
		}
		if pred(f) {
			return f
		}
	}
}

// response reads stream id's response: status and body.
func (c *client) response(id uint32) (int, []byte) {
	c.t.Helper()
	status := 0
	var body []byte
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("stream %d response: %v", id, err)
		}
		if f.Header().StreamID != id {
			continue
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			status, _ = strconv.Atoi(f.PseudoValue("status"))
			if f.StreamEnded() {
				return status, body
			}
		case *http2.DataFrame:
			body = append(body, f.Data()...)
			if len(f.Data()) > 0 {
				c.fr.WriteWindowUpdate(0, uint32(len(f.Data())))
				c.fr.WriteWindowUpdate(id, uint32(len(f.Data())))
			}
			if f.StreamEnded() {
				return status, body
			}
		case *http2.RSTStreamFrame:
			c.t.Fatalf("stream %d reset: %v", id, f.ErrCode)
		case *http2.GoAwayFrame:
			c.t.Fatalf("GOAWAY %v while waiting for stream %d", f.ErrCode, id)
		}
	}
}

// goAway reads until GOAWAY (or the connection ends) and returns its code.
func (c *client) goAway() (http2.ErrCode, bool) {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			return 0, false
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			return g.ErrCode, true
		}
	}
}

func (c *client) wantGoAway(code http2.ErrCode) {
	c.t.Helper()
	got, ok := c.goAway()
	if !ok {
		c.t.Fatalf("connection ended without GOAWAY, want %v", code)
	}
	if got != code {
		c.t.Fatalf("GOAWAY %v, want %v", got, code)
	}
	// The server then closes the connection.
	for {
		if _, err := c.next(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.t.Fatal("connection not closed after GOAWAY")
			}
			return
		}
	}
}

func (c *client) rst(id uint32) *http2.RSTStreamFrame {
	c.t.Helper()
	return c.until("RST_STREAM", func(f http2.Frame) bool {
		r, ok := f.(*http2.RSTStreamFrame)
		return ok && r.StreamID == id
	}).(*http2.RSTStreamFrame)
}

// get fetches / on a fresh connection: proof the server still serves.
func get(t *testing.T, addr string) {
	t.Helper()
	c := dial(t, addr)
	c.request(1, "GET", "/", true)
	if st, body := c.response(1); st != 200 || string(body) != testserver.Body {
		t.Fatalf("GET / on a new connection: %d, %d bytes", st, len(body))
	}
	c.nc.Close()
}
