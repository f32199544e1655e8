package httpd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"unicode/utf8"

	"github.com/esphttpd/esphttpd/httpd/internal/ws"
)

// WebsocketFunc takes over a WebSocket connection after the upgrade
// (http_resource_websocket_cb_t). It runs on the worker: start a goroutine
// for the connection and return. A non-nil error closes the connection.
// NewWebsocketConn speaks WebSocket on conn.
type WebsocketFunc func(conn net.Conn, userData any) error

// WebsocketResource hands upgraded connections to the application
// (http_resource_detail_websocket). The server answers the handshake and
// then neither reads nor writes the connection: the application speaks
// WebSocket on it (as Zephyr's callback receives the socket). The session
// still counts toward MaxOpenSockets until the application closes conn.
type WebsocketResource struct {
	ResourceDetail
	// Callback takes over each upgraded connection.
	Callback WebsocketFunc
	// UserData is handed to Callback.
	UserData any
}

var errWSRefused = errors.New("httpd: not a WebSocket handshake")

// websocketResource serves a WebsocketResource.
type websocketResource struct {
	d *WebsocketResource
}

func (wr *websocketResource) serve(r *Req) error {
	d := wr.d
	allowed := d.Methods
	if allowed == 0 {
		allowed = Methods(GET)
	}
	if !methodAllowed(r, allowed) {
		return nil
	}
	key, code, ok := wsUpgradeKey(r)
	if !ok {
		r.Handle.refuseWSUpgrade(r, code)
		return errWSRefused
	}
	if _, err := r.Send(appendWSAccept(nil, key, "")); err != nil {
		return err
	}
	conn, err := r.Hijack()
	if err != nil {
		return err
	}
	var cbErr error
	if !r.Handle.guard("websocket resource callback", func() { cbErr = d.Callback(conn, d.UserData) }) || cbErr != nil {
		conn.Close()
		if cbErr == nil {
			cbErr = errors.New("httpd: websocket resource callback panicked")
		}
		return cbErr
	}
	return nil
}

// WebsocketConn speaks WebSocket (RFC 6455, server side) on a connection a
// WebsocketResource handed over, as Zephyr's websocket_recv_msg and
// websocket_send_msg do on the socket its callback receives. Reads and
// writes may run in different goroutines; one reader at a time.
type WebsocketConn struct {
	conn   net.Conn
	br     *bufio.Reader
	wmu    sync.Mutex
	maxLen int64
}

// NewWebsocketConn wraps conn. Messages over maxLen bytes (1 MiB when 0)
// close the connection with 1009.
func NewWebsocketConn(conn net.Conn, maxLen int64) *WebsocketConn {
	if maxLen <= 0 {
		maxLen = 1 << 20
	}
	return &WebsocketConn{conn: conn, br: bufio.NewReader(conn), maxLen: maxLen}
}

// ReadMessage returns the next text or binary message, reassembled from
// its fragments. It answers pings, skips pongs, and returns io.EOF after
// answering the client's close frame; a protocol error is answered with
// its close code and returned.
func (w *WebsocketConn) ReadMessage() (text bool, data []byte, err error) {
	started := false
	for {
		hdr, payload, err := w.readFrame()
		if err != nil {
			return false, nil, err
		}
		switch {
		case hdr.Opcode == ws.OpPing:
			if err := w.writeFrame(ws.OpPong, payload); err != nil {
				return false, nil, err
			}
			continue
		case hdr.Opcode == ws.OpPong:
			continue
		case hdr.Opcode == ws.OpClose:
			w.writeFrame(ws.OpClose, closePayload(ws.CloseNormal))
			return false, nil, io.EOF
		case hdr.Opcode == ws.OpContinuation && !started,
			hdr.Opcode != ws.OpContinuation && started:
			return false, nil, w.fail(ws.CloseProtocolError, "fragment out of order")
		case hdr.Opcode != ws.OpContinuation:
			text, started = hdr.Opcode == ws.OpText, true
		}
		if int64(len(data))+int64(len(payload)) > w.maxLen {
			return false, nil, w.fail(ws.CloseMessageTooBig, "message too big")
		}
		data = append(data, payload...)
		if hdr.Fin {
			if text && !utf8.Valid(data) {
				return false, nil, w.fail(ws.CloseInvalidPayload, "invalid UTF-8")
			}
			return text, data, nil
		}
	}
}

// readFrame reads one masked client frame and unmasks its payload.
func (w *WebsocketConn) readFrame() (ws.Header, []byte, error) {
	for need := 2; ; need++ {
		b, err := w.br.Peek(need)
		if err != nil {
			return ws.Header{}, nil, err
		}
		hdr, n, err := ws.ParseHeader(b, true)
		if err == ws.ErrIncomplete {
			continue
		}
		if err != nil {
			code := uint16(ws.CloseProtocolError)
			var we *ws.Error
			if errors.As(err, &we) {
				code = we.Code
			}
			return hdr, nil, w.fail(code, err.Error())
		}
		w.br.Discard(n)
		if hdr.Length > w.maxLen {
			return hdr, nil, w.fail(ws.CloseMessageTooBig, "frame too big")
		}
		payload := make([]byte, hdr.Length)
		if _, err := io.ReadFull(w.br, payload); err != nil {
			return hdr, nil, err
		}
		ws.Mask(payload, hdr.Key, 0)
		return hdr, payload, nil
	}
}

// WriteMessage sends one unfragmented text or binary message.
func (w *WebsocketConn) WriteMessage(text bool, data []byte) error {
	op := byte(ws.OpBinary)
	if text {
		op = ws.OpText
	}
	return w.writeFrame(op, data)
}

func (w *WebsocketConn) writeFrame(op byte, payload []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(append(ws.AppendHeader(nil, true, op, len(payload)), payload...))
	return err
}

// fail closes the connection with code after a protocol error.
func (w *WebsocketConn) fail(code uint16, reason string) error {
	w.writeFrame(ws.OpClose, closePayload(code))
	w.conn.Close()
	return fmt.Errorf("websocket: %s (close %d)", reason, code)
}

// Close sends a normal close frame and closes the connection.
func (w *WebsocketConn) Close() error {
	w.writeFrame(ws.OpClose, closePayload(ws.CloseNormal))
	return w.conn.Close()
}

func closePayload(code uint16) []byte { return []byte{byte(code >> 8), byte(code)} }
