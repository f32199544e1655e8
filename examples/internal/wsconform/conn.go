// Package wsconform restates the Autobahn testsuite's fuzzingclient cases 1
// to 7 and 9 (framing, ping/pong, reserved bits, opcodes, fragmentation,
// UTF-8, close handling, limits) as Go code: a raw-socket WebSocket client
// that controls every bit it sends, and one expectation per case. Autobahn
// itself needs Python and is not run here; the cases and their verdicts are
// this package's own reading of RFC 6455, at smaller sizes so they run in
// seconds. It imports nothing but the standard library, so that the same
// cases run against esphttpd's echo server and against an independent
// implementation (examples/wsinterop), and a case that is itself wrong
// shows up as a failure against one of them.
package wsconform

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Opcodes.
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Frame is one frame as the client sends or receives it.
type Frame struct {
	Fin     bool
	RSV     byte // the three reserved bits, right-aligned
	Op      byte
	Payload []byte
}

// Conn is a client connection after a successful opening handshake.
type Conn struct {
	nc net.Conn
	br *bufio.Reader
}

// caseTimeout bounds every read: a server that does not answer fails the
// case instead of hanging it.
const caseTimeout = 10 * time.Second

// Dial opens a WebSocket connection to ws://addr+path and checks the 101
// response, including Sec-WebSocket-Accept. Every read and write must end
// within caseTimeout of the dial.
func Dial(addr, path string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, caseTimeout)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(caseTimeout))
	c, err := Handshake(nc, addr, path)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// Handshake runs the opening handshake for path over nc, a connection the
// caller opened (over TLS, for one), naming host in the Host header, and
// checks the 101 response, including Sec-WebSocket-Accept. Deadlines on nc
// are the caller's; nc stays open on failure.
func Handshake(nc net.Conn, host, path string) (*Conn, error) {
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	if _, err := fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, key); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, fmt.Errorf("handshake answered %s %v", resp.Status, resp.Header)
	}
	return &Conn{nc: nc, br: br}, nil
}

// Close closes the TCP connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Encode returns f as a masked client frame with a random key.
func Encode(f Frame) []byte {
	b0 := f.Op&0xF | (f.RSV&7)<<4
	if f.Fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(f.Payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xFFFF:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	var key [4]byte
	rand.Read(key[:])
	out = append(out, key[:]...)
	start := len(out)
	out = append(out, f.Payload...)
	for i := range f.Payload {
		out[start+i] ^= key[i&3]
	}
	return out
}

// Send writes frames, all in one write.
func (c *Conn) Send(frames ...Frame) error {
	var b []byte
	for _, f := range frames {
		b = append(b, Encode(f)...)
	}
	_, err := c.nc.Write(b)
	return err
}

// SendChunked writes frames as one byte stream cut into writes of chunk
// bytes, so that the server sees headers and payloads arrive in pieces.
func (c *Conn) SendChunked(chunk int, frames ...Frame) error {
	var b []byte
	for _, f := range frames {
		b = append(b, Encode(f)...)
	}
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true) // each piece its own segment
	}
	for len(b) > 0 {
		k := min(chunk, len(b))
		if _, err := c.nc.Write(b[:k]); err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// ReadFrame reads one server frame and checks what a server must never
// send: a masked frame, reserved bits, an unknown opcode.
func (c *Conn) ReadFrame() (Frame, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: hdr[0]&0x80 != 0, RSV: hdr[0] >> 4 & 7, Op: hdr[0] & 0xF}
	if hdr[1]&0x80 != 0 {
		return f, errors.New("server frame is masked")
	}
	if f.RSV != 0 {
		return f, errors.New("server frame has reserved bits set")
	}
	switch f.Op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return f, fmt.Errorf("server frame with reserved opcode %d", f.Op)
	}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 64<<20 {
		return f, fmt.Errorf("server frame of %d bytes", n)
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		return f, err
	}
	return f, nil
}

// Received is a message or control frame the server sent.
type Received struct {
	Op      byte // the message's opcode, or a control opcode
	Payload []byte
}

// String describes r briefly for failure messages.
func (r Received) String() string {
	p := r.Payload
	suffix := ""
	if len(p) > 40 {
		p, suffix = p[:40], fmt.Sprintf("... (%d bytes)", len(r.Payload))
	}
	return fmt.Sprintf("{op %d %q%s}", r.Op, p, suffix)
}

// Next reads the next thing the server sends: a whole data message, put
// together from however many frames the server used, or a control frame
// (also one that arrives between the fragments of a message, which is then
// returned first). Broken fragmentation is an error.
func (c *Conn) Next() (Received, error) {
	var msg *Received
	for {
		f, err := c.ReadFrame()
		if err != nil {
			return Received{}, err
		}
		switch {
		case f.Op >= OpClose:
			if !f.Fin || len(f.Payload) > 125 {
				return Received{}, errors.New("server sent a fragmented or long control frame")
			}
			if msg != nil {
				return Received{}, errors.New("test client cannot deliver a control frame inside a message")
			}
			return Received{Op: f.Op, Payload: f.Payload}, nil
		case f.Op == OpContinuation:
			if msg == nil {
				return Received{}, errors.New("server sent a continuation frame without a message")
			}
			msg.Payload = append(msg.Payload, f.Payload...)
		default:
			if msg != nil {
				return Received{}, errors.New("server began a message inside a message")
			}
			msg = &Received{Op: f.Op, Payload: f.Payload}
		}
		if f.Fin && msg != nil {
			return *msg, nil
		}
	}
}

// Expect reads the next message or control frame and checks it.
func (c *Conn) Expect(op byte, payload []byte) error {
	got, err := c.Next()
	if err != nil {
		return fmt.Errorf("waiting for %v: %w", Received{op, payload}, err)
	}
	if got.Op != op || string(got.Payload) != string(payload) {
		return fmt.Errorf("got %v, want %v", got, Received{op, payload})
	}
	return nil
}

// ExpectClose reads the next message or control frame, which must be a
// close frame with one of codes (0 stands for a close frame without a
// status code); it answers it and checks that the server then closes the
// TCP connection.
func (c *Conn) ExpectClose(codes ...uint16) error {
	got, err := c.Next()
	if err != nil {
		return fmt.Errorf("waiting for a close frame %v: %w", codes, err)
	}
	if got.Op != OpClose {
		return fmt.Errorf("got %v, want a close frame %v", got, codes)
	}
	var code uint16
	if len(got.Payload) >= 2 {
		code = binary.BigEndian.Uint16(got.Payload)
	} else if len(got.Payload) == 1 {
		return fmt.Errorf("close frame with a 1-byte payload")
	}
	found := false
	for _, want := range codes {
		found = found || code == want
	}
	if !found {
		return fmt.Errorf("close code %d, want one of %v", code, codes)
	}
	// Answer it; the server may already have closed the connection.
	c.nc.Write(Encode(Frame{Fin: true, Op: OpClose, Payload: got.Payload[:min(2, len(got.Payload))]}))
	return c.ExpectTCPClose()
}

// ExpectTCPClose checks that the server closes the connection with nothing
// more sent.
func (c *Conn) ExpectTCPClose() error {
	var b [1]byte
	n, err := c.br.Read(b[:])
	switch {
	case n > 0:
		return fmt.Errorf("server sent more after its close frame: %#x", b[0])
	case err == nil:
		return errors.New("read returned nothing and no error")
	case isTimeout(err):
		return errors.New("server did not close the TCP connection")
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// CloseNormally runs the client-initiated close handshake: close 1000,
// the server's close 1000 back, then the server closes the connection.
// Anything the server sends first fails it, so a case that expects
// silence ends with it.
func (c *Conn) CloseNormally() error {
	if err := c.Send(Frame{Fin: true, Op: OpClose, Payload: closePayload(1000, "")}); err != nil {
		return err
	}
	got, err := c.Next()
	if err != nil {
		return fmt.Errorf("waiting for close 1000: %w", err)
	}
	if got.Op != OpClose || len(got.Payload) < 2 || binary.BigEndian.Uint16(got.Payload) != 1000 {
		return fmt.Errorf("got %v, want close 1000", got)
	}
	return c.ExpectTCPClose()
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// repeat returns n bytes of s repeated, cut at n.
func repeat(s string, n int) []byte {
	return []byte(strings.Repeat(s, n/len(s)+1)[:n])
}
