package httpd_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	xws "golang.org/x/net/websocket"
)

// wsClient is a raw-socket WebSocket client, so tests control every bit.
type wsClient struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

func wsDial(t testing.TB, h *httpd.Handle, path string, extra string) (*wsClient, *http.Response) {
	t.Helper()
	nc := dial(t, h)
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, wsKey, extra)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return &wsClient{t: t, nc: nc, br: br}, resp
}

func wsConnect(t testing.TB, h *httpd.Handle, path string) *wsClient {
	t.Helper()
	c, resp := wsDial(t, h, path, "")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake answered %d %v", resp.StatusCode, resp.Header)
	}
	return c
}

// frame encodes a client frame; masked unless unmasked is set.
func frame(fin bool, op byte, payload []byte, unmasked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	mask := byte(0x80)
	if unmasked {
		mask = 0
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mask|byte(n))
	case n <= 0xFFFF:
		out = append(out, mask|126, byte(n>>8), byte(n))
	default:
		out = append(out, mask|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if unmasked {
		return append(out, payload...)
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key...)
	for i, b := range payload {
		out = append(out, b^key[i%4])
	}
	return out
}

func (c *wsClient) send(fin bool, op byte, payload []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(frame(fin, op, payload, false)); err != nil {
		c.t.Fatalf("send frame: %v", err)
	}
}

// read reads one server frame.
func (c *wsClient) read() (fin bool, op byte, payload []byte) {
	c.t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	if hdr[1]&0x80 != 0 {
		c.t.Fatal("server frame is masked")
	}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(c.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(c.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		c.t.Fatalf("read payload: %v", err)
	}
	return hdr[0]&0x80 != 0, hdr[0] & 0xF, payload
}

// expectClose reads frames until a close frame and checks its code, then
// that the server closes the connection.
func (c *wsClient) expectClose(code uint16) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		_, op, p := c.read()
		if op != 0x8 {
			continue
		}
		if code == 0 && len(p) == 0 {
			break
		}
		if len(p) < 2 || binary.BigEndian.Uint16(p) != code {
			c.t.Fatalf("close frame %v, want code %d", p, code)
		}
		break
	}
	c.nc.Write(frame(true, 0x8, binary.BigEndian.AppendUint16(nil, code), false))
	if _, err := c.br.ReadByte(); err == nil {
		c.t.Fatal("connection still open after the close handshake")
	}
}

// wsEcho is ESP-IDF's ws_echo_server handler: echo each frame's payload.
func wsEcho(r *httpd.Req) error {
	if r.Method == httpd.GET {
		return nil // the handshake
	}
	var f httpd.WSFrame
	if err := r.WSRecvFrame(&f, 0); err != nil {
		return err
	}
	if err := r.WSRecvFrame(&f, f.Len); err != nil {
		return err
	}
	return r.WSSendFrame(&httpd.WSFrame{Type: f.Type, Payload: f.Payload})
}

func wsServer(t testing.TB, cfg httpd.Config, handler httpd.HandlerFunc, control bool) *httpd.Handle {
	return start(t, cfg, &httpd.URI{URI: "/ws", Method: httpd.GET, Handler: handler, IsWebsocket: true,
		HandleWSControlFrames: control, SupportedSubprotocol: "chat"})
}

func TestWSEchoPayloadSizes(t *testing.T) {
	h := wsServer(t, testConfig(), wsEcho, false)
	c := wsConnect(t, h, "/ws")
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		payload := make([]byte, n)
		rand.Read(payload)
		go c.send(true, 0x2, payload)
		fin, op, got := c.read()
		if !fin || op != 0x2 || !bytes.Equal(got, payload) {
			t.Fatalf("%d bytes: fin %v op %d, %d bytes back", n, fin, op, len(got))
		}
	}
	c.send(true, 0x1, []byte("text ✓"))
	if _, op, got := c.read(); op != 0x1 || string(got) != "text ✓" {
		t.Fatalf("text echo: %d %q", op, got)
	}
	if info := h.WSGetFDInfo(1); info != httpd.WSClientWebsocket {
		t.Fatalf("WSGetFDInfo = %d", info)
	}
	c.send(true, 0x8, binary.BigEndian.AppendUint16(nil, 1000))
	c.expectClose(1000)
}

func TestWSHandlerCalls(t *testing.T) {
	type call struct {
		method httpd.Method
		uri    string
		typ    httpd.WSType
	}
	var calls []call
	h := wsServer(t, testConfig(), func(r *httpd.Req) error {
		c := call{method: r.Method, uri: r.URI}
		if r.Method != httpd.GET {
			var f httpd.WSFrame
			r.WSRecvFrame(&f, 0)
			c.typ = f.Type
		}
		calls = append(calls, c)
		return nil
	}, false)
	c := wsConnect(t, h, "/ws")
	c.send(true, 0x1, []byte("a"))
	c.send(true, 0x9, []byte("ping!"))
	if _, op, p := c.read(); op != 0xA || string(p) != "ping!" {
		t.Fatalf("pong: %d %q", op, p)
	}
	c.send(true, 0x2, []byte("b"))
	c.send(true, 0xA, nil) // unsolicited pong: ignored
	c.send(true, 0x8, nil)
	c.expectClose(0)
	want := []call{{httpd.GET, "/ws", 0}, {0, "", httpd.WSTypeText}, {0, "", httpd.WSTypeBinary}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("handler calls %v, want %v", calls, want)
	}
}

func TestWSControlFramesToHandler(t *testing.T) {
	got := make(chan httpd.WSType, 4)
	h := wsServer(t, testConfig(), func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		var f httpd.WSFrame
		r.WSRecvFrame(&f, 125)
		got <- f.Type
		return nil
	}, true)
	c := wsConnect(t, h, "/ws")
	c.send(true, 0x9, []byte("x"))
	if typ := <-got; typ != httpd.WSTypePing {
		t.Fatalf("handler got %d", typ)
	}
	c.send(true, 0x8, nil)
	if typ := <-got; typ != httpd.WSTypeClose {
		t.Fatalf("handler got %d", typ)
	}
	if _, err := c.br.ReadByte(); err == nil {
		t.Fatal("session open after a close frame")
	}
}

func TestWSFragmentedMessageWithInterleavedPing(t *testing.T) {
	// The handler assembles fragments and echoes whole messages.
	var msg []byte
	var msgType httpd.WSType
	h := wsServer(t, testConfig(), func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		var f httpd.WSFrame
		if err := r.WSRecvFrame(&f, 1<<20); err != nil {
			return err
		}
		if f.Type != httpd.WSTypeContinue {
			msgType, msg = f.Type, nil
		}
		msg = append(msg, f.Payload...)
		if !f.Final {
			return nil
		}
		return r.WSSendFrame(&httpd.WSFrame{Type: msgType, Payload: msg})
	}, false)
	c := wsConnect(t, h, "/ws")
	text := "fragmented ✓ message across many frames"
	parts := []string{}
	for rest := text; len(rest) > 0; {
		k := min(3, len(rest))
		parts = append(parts, rest[:k]) // splits the ✓ code point between frames
		rest = rest[k:]
	}
	for i, p := range parts {
		op := byte(0x0)
		if i == 0 {
			op = 0x1
		}
		c.send(i == len(parts)-1, op, []byte(p))
		if i == 2 {
			c.send(true, 0x9, []byte("mid"))
			if _, op, p := c.read(); op != 0xA || string(p) != "mid" {
				t.Fatalf("pong during fragments: %d %q", op, p)
			}
		}
	}
	if _, op, got := c.read(); op != 0x1 || string(got) != text {
		t.Fatalf("reassembled %d %q", op, got)
	}
}

func TestWSProtocolErrors(t *testing.T) {
	cfg := testConfig()
	cfg.WSMaxMessageLen = 1000
	h := wsServer(t, cfg, wsEcho, false)
	cases := []struct {
		name string
		raw  []byte
		code uint16
	}{
		{"unmasked", frame(true, 0x1, []byte("hi"), true), 1002},
		{"rsv1", func() []byte { f := frame(true, 0x1, []byte("hi"), false); f[0] |= 0x40; return f }(), 1002},
		{"reserved opcode", frame(true, 0x3, nil, false), 1002},
		{"long ping", frame(true, 0x9, make([]byte, 126), false), 1002},
		{"fragmented ping", frame(false, 0x9, nil, false), 1002},
		{"continuation first", frame(true, 0x0, []byte("x"), false), 1002},
		{"text inside fragments", append(frame(false, 0x1, []byte("a"), false), frame(true, 0x1, []byte("b"), false)...), 1002},
		{"bad utf-8", frame(true, 0x1, []byte{0xC3, 0x28}, false), 1007},
		{"truncated utf-8", frame(true, 0x1, []byte{0xE2, 0x9C}, false), 1007},
		{"too big", frame(true, 0x2, make([]byte, 1001), false), 1009},
		{"too big in fragments", append(frame(false, 0x2, make([]byte, 600), false), frame(true, 0x0, make([]byte, 600), false)...), 1009},
		{"close code 1005", frame(true, 0x8, []byte{0x03, 0xED}, false), 1002},
		{"close code 999", frame(true, 0x8, []byte{0x03, 0xE7}, false), 1002},
		{"close 1-byte payload", frame(true, 0x8, []byte{0x03}, false), 1002},
		{"close bad reason", frame(true, 0x8, []byte{0x03, 0xE8, 0xFF}, false), 1002},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wsConnect(t, h, "/ws")
			c.nc.Write(tc.raw)
			c.expectClose(tc.code)
		})
	}
}

func TestWSCloseHandshakeTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.WSCloseTimeout = 200 * time.Millisecond
	h := wsServer(t, cfg, wsEcho, false)
	c := wsConnect(t, h, "/ws")
	c.nc.Write(frame(true, 0x1, []byte("x"), true)) // unmasked: 1002
	if _, op, _ := c.read(); op != 0x8 {
		t.Fatalf("got opcode %d, want close", op)
	}
	t0 := time.Now()
	if _, err := c.br.ReadByte(); err == nil {
		t.Fatal("not closed")
	}
	if d := time.Since(t0); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("closed after %v, want about WSCloseTimeout", d)
	}
}

func TestWSBadHandshakes(t *testing.T) {
	h := wsServer(t, testConfig(), wsEcho, false)
	c, resp := wsDial(t, h, "/ws", "Sec-WebSocket-Protocol: other, chat\r\n")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("subprotocol: %d %v", resp.StatusCode, resp.Header)
	}
	c.nc.Close()
	nc := dial(t, h)
	fmt.Fprintf(nc, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 8\r\n\r\n", wsKey)
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil || resp.StatusCode != 426 || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Fatalf("version 8: %v %v, want 426 naming version 13", resp, err)
	}
	// A plain GET on a WebSocket URI is refused before the handler runs
	// (RFC 6455 4.2.2), so a client that forgot the upgrade is answered.
	cl := newClient(t, h)
	if resp := cl.do(get("/ws")); resp.StatusCode != 400 {
		t.Fatalf("plain GET on a WebSocket URI: %d, want 400", resp.StatusCode)
	}
	if info := h.WSGetFDInfo(99); info != httpd.WSClientInvalid {
		t.Fatalf("unknown fd: %d", info)
	}
}

func TestWSBroadcastFromAnotherGoroutine(t *testing.T) {
	const clients = 50
	cfg := testConfig()
	cfg.MaxOpenSockets = clients + 1
	h := wsServer(t, cfg, func(r *httpd.Req) error { return nil }, false)
	var cs []*wsClient
	for range clients {
		cs = append(cs, wsConnect(t, h, "/ws"))
	}
	const messages = 20
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i := range messages {
				_, _, p := c.read()
				if string(p) != fmt.Sprintf("msg %d", i) {
					t.Errorf("got %q, want msg %d", p, i)
					return
				}
			}
		}()
	}
	// Broadcast from two goroutines at once: frames must stay whole.
	var senders sync.WaitGroup
	var mu sync.Mutex // keeps each message's number in order across both senders
	next := 0
	for range 2 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for {
				mu.Lock()
				i := next
				if i == messages {
					mu.Unlock()
					return
				}
				next++
				for _, fd := range h.GetClientList() {
					if h.WSGetFDInfo(fd) == httpd.WSClientWebsocket {
						if err := h.WSSendFrameAsync(fd, &httpd.WSFrame{Type: httpd.WSTypeText, Payload: []byte(fmt.Sprintf("msg %d", i))}); err != nil {
							t.Errorf("send to %d: %v", fd, err)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	senders.Wait()
	wg.Wait()
}

func TestWSSendFrameAsyncOnPlainSession(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	c.do(get("/hello"))
	if err := h.WSSendFrameAsync(1, &httpd.WSFrame{Type: httpd.WSTypeText}); err != httpd.ErrInvalidState {
		t.Fatalf("WSSendFrameAsync on HTTP session: %v", err)
	}
	if info := h.WSGetFDInfo(1); info != httpd.WSClientHTTP {
		t.Fatalf("WSGetFDInfo = %d", info)
	}
}

// TestWSInteropXNet talks to the server with golang.org/x/net/websocket, an
// independent client implementation.
func TestWSInteropXNet(t *testing.T) {
	h := wsServer(t, testConfig(), wsEcho, false)
	ws, err := xws.Dial("ws://"+addr(h)+"/ws", "chat", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, msg := range []string{"hello", strings.Repeat("long ", 20000), "ünïcödé"} {
		if err := xws.Message.Send(ws, msg); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := xws.Message.Receive(ws, &got); err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Fatalf("echo of %d bytes came back as %d bytes", len(msg), len(got))
		}
	}
	bin := []byte{0, 1, 2, 255}
	xws.Message.Send(ws, bin)
	var gotBin []byte
	if err := xws.Message.Receive(ws, &gotBin); err != nil || !bytes.Equal(gotBin, bin) {
		t.Fatalf("binary echo %v %v", gotBin, err)
	}
}
