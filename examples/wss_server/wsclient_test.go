package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

// The opcodes the raw client sends and expects (RFC 6455 section 5.2).
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xA
)

// rawWS is a WebSocket client written from RFC 6455 for these tests: unlike
// golang.org/x/net/websocket, it shows every control frame and answers
// pings only when told to, so that it can play a client that stops
// answering. It shares no code with the server.
type rawWS struct {
	t  testing.TB
	nc *tls.Conn
	br *bufio.Reader
}

// rawFrame is a frame the server sent.
type rawFrame struct {
	fin     bool
	op      byte
	payload []byte
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
	c := &rawWS{t: t, nc: nc, br: bufio.NewReader(nc)}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	nc.SetDeadline(time.Now().Add(extest.Timeout))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("handshake response: %v", err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols ||
		resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("handshake refused: %s %v", resp.Status, resp.Header)
	}
	nc.SetDeadline(time.Time{})
	return c
}

// write sends one masked frame with FIN set.
func (c *rawWS) write(op byte, payload []byte) {
	c.t.Helper()
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	for i, b := range payload {
		hdr = append(hdr, b^mask[i%4])
	}
	c.nc.SetWriteDeadline(time.Now().Add(extest.Timeout))
	if _, err := c.nc.Write(hdr); err != nil {
		c.t.Fatalf("write frame: %v", err)
	}
}

// read returns the next frame, or the error that ended the connection.
func (c *rawWS) read() (rawFrame, error) {
	c.nc.SetReadDeadline(time.Now().Add(extest.Timeout))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return rawFrame{}, err
	}
	if h[1]&0x80 != 0 {
		return rawFrame{}, fmt.Errorf("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return rawFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return rawFrame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return rawFrame{}, fmt.Errorf("frame of %d bytes", n)
	}
	f := rawFrame{fin: h[0]&0x80 != 0, op: h[0] & 0x0f, payload: make([]byte, n)}
	_, err := io.ReadFull(c.br, f.payload)
	return f, err
}

// next returns the next frame that is not a ping nor a hello message,
// answering pings with pongs when pong is set.
func (c *rawWS) next(pong bool) rawFrame {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("read frame: %v", err)
		}
		switch {
		case f.op == opPing:
			if pong {
				c.write(opPong, f.payload)
			}
		case f.op == opText && string(f.payload) == helloMessage:
		default:
			return f
		}
	}
}
