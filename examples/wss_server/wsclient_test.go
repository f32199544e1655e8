package main

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/examples/internal/wsconform"
)

// rawWS is wsconform's raw-socket client over TLS: unlike
// golang.org/x/net/websocket, it shows every control frame and answers
// pings only when told to, so that it can play a client that stops
// answering. It shares no code with the server.
type rawWS struct {
	t  testing.TB
	nc *tls.Conn // for the per-operation deadlines
	ws *wsconform.Conn
}

// dialRawWS connects over TLS, verifying the server's certificate against
// tlsCfg, and completes the opening handshake on /ws.
func dialRawWS(t testing.TB, addr string, tlsCfg *tls.Config) *rawWS {
	t.Helper()
	nc, err := tls.Dial("tcp", addr, tlsCfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(extest.Timeout))
	ws, err := wsconform.Handshake(nc, "localhost", "/ws")
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Time{})
	return &rawWS{t: t, nc: nc, ws: ws}
}

// write sends one masked frame with FIN set.
func (c *rawWS) write(op byte, payload []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(extest.Timeout))
	if err := c.ws.Send(wsconform.Frame{Fin: true, Op: op, Payload: payload}); err != nil {
		c.t.Fatalf("write frame: %v", err)
	}
}

// read returns the next frame, or the error that ended the connection.
func (c *rawWS) read() (wsconform.Frame, error) {
	c.nc.SetReadDeadline(time.Now().Add(extest.Timeout))
	return c.ws.ReadFrame()
}

// next returns the next frame that is not a ping nor a hello message,
// answering pings with pongs when pong is set.
func (c *rawWS) next(pong bool) wsconform.Frame {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("read frame: %v", err)
		}
		switch {
		case f.Op == wsconform.OpPing:
			if pong {
				c.write(wsconform.OpPong, f.Payload)
			}
		case f.Op == wsconform.OpText && string(f.Payload) == helloMessage:
		default:
			return f
		}
	}
}
