package httpd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/esphttpd/esphttpd/httpd/internal/ws"
)

// WSType is a WebSocket frame type (httpd_ws_type_t): the frame's opcode.
type WSType uint8

// The frame types.
const (
	WSTypeContinue WSType = ws.OpContinuation
	WSTypeText     WSType = ws.OpText
	WSTypeBinary   WSType = ws.OpBinary
	WSTypeClose    WSType = ws.OpClose
	WSTypePing     WSType = ws.OpPing
	WSTypePong     WSType = ws.OpPong
)

// WSFrame is a WebSocket frame (httpd_ws_frame_t).
type WSFrame struct {
	// Final is the FIN bit: the last frame of a message.
	Final bool
	// Fragmented, when sending, says the message is sent in several
	// frames: FIN is then taken from Final; otherwise it is always set.
	Fragmented bool
	Type       WSType
	Payload    []byte
	// Len is the payload length; WSRecvFrame with maxLen 0 reports it.
	Len int
}

// WSClientInfo says what a session is (httpd_ws_client_info_t).
type WSClientInfo int

// The kinds of session WSGetFDInfo reports.
const (
	WSClientInvalid   WSClientInfo = iota // no such session
	WSClientHTTP                          // a plain HTTP session
	WSClientWebsocket                     // an open WebSocket session
)

// ErrInvalidState: ESP_ERR_INVALID_STATE (a WebSocket call on a session
// without a completed handshake).
var ErrInvalidState = errors.New("httpd: invalid state")

// ErrInvalidSize: ESP_ERR_INVALID_SIZE (a frame longer than WSRecvFrame's
// maxLen, or a control frame over 125 bytes).
var ErrInvalidSize = errors.New("httpd: invalid size")

// wsConn is a session's WebSocket state after its handshake.
type wsConn struct {
	handler HandlerFunc
	userCtx any
	control bool // the handler takes control frames itself

	// Reader-owned, then worker-owned, like the session buffer.
	frame   ws.Header // the frame being served
	fragOp  byte      // opcode of the fragmented message in progress, 0 when none
	msgLen  int64     // bytes of that message so far
	utf8    ws.UTF8
	closing bool // a close frame went out: wait for the peer's, then close
	fail    uint16

	sendMu sync.Mutex // frames from any goroutine leave whole
	closed bool       // under sendMu: a close frame was sent, nothing more may be
}

// wsHandshake answers a WebSocket upgrade for u and switches the session
// to frames. It reports false when the request is not a valid handshake;
// the caller then answers 400.
func (h *Handle) wsHandshake(c *conn, r *Req, u *URI) bool {
	key, _ := c.head.Header("Sec-WebSocket-Key")
	version, _ := c.head.Header("Sec-WebSocket-Version")
	connection, _ := c.head.Header("Connection")
	if string(version) != "13" || !ws.ValidKey(string(key)) || !hasToken(connection, "upgrade") {
		return false
	}
	w := c.wbuf[:0]
	w = append(w, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	w = append(w, ws.AcceptKey(string(key))...)
	w = append(w, "\r\n"...)
	if offered, ok := c.head.Header("Sec-WebSocket-Protocol"); ok && u.SupportedSubprotocol != "" {
		if hasToken(offered, u.SupportedSubprotocol) {
			w = append(w, "Sec-WebSocket-Protocol: "...)
			w = append(w, u.SupportedSubprotocol...)
			w = append(w, "\r\n"...)
		} else {
			h.log.Warn("Sec-WebSocket-Protocol not supported", "offered", string(offered), "supported", u.SupportedSubprotocol)
		}
	}
	w = append(w, "\r\n"...)
	c.wbuf = w
	r.head = nil
	r.resp = respRaw
	// The session is a WebSocket before the client can know it, so a frame
	// sent from another goroutine right after the 101 finds it so; holding
	// the frame lock keeps such a frame behind the 101 on the wire.
	ws := &wsConn{handler: u.Handler, userCtx: u.UserCtx, control: u.HandleWSControlFrames}
	ws.sendMu.Lock()
	c.ws.Store(ws)
	err := c.sendAll(w)
	ws.sendMu.Unlock()
	if err != nil {
		c.wantStop = true
	}
	return true
}

// hasToken reports whether a comma-separated header value lists tok
// (case-insensitive).
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var part []byte
		part, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(part), []byte(tok)) {
			return true
		}
	}
	return false
}

// collectFrame is the reader's job on a WebSocket session: a whole frame
// header, and the payload too when it is small, before the worker is called.
func (c *conn) collectFrame(w *wsConn) *readFailure {
	for {
		if f := c.collectFrameOnce(w); f != nil || !w.closing || w.frame.Opcode == ws.OpClose {
			if f == nil && w.closing {
				return &readFailure{silent: true} // the peer answered our close
			}
			return f
		}
		// Closing: data and control frames other than close are dropped.
		if err := c.skipBody(); err != nil {
			return &readFailure{silent: true, err: err}
		}
	}
}

func (c *conn) collectFrameOnce(w *wsConn) *readFailure {
	if c.body.broken {
		return &readFailure{silent: true}
	}
	if err := c.skipBody(); err != nil {
		return &readFailure{silent: true, err: err}
	}
	c.pinned = false
	c.putRetired()
	var deadline time.Time
	if w.closing {
		deadline = time.Now().Add(c.h.cfg.WSCloseTimeout)
		c.nc.SetReadDeadline(deadline)
	}
	for {
		if c.end > c.start {
			hdr, n, err := ws.ParseHeader(c.buf[c.start:c.end], true)
			if err == nil {
				c.start += n
				w.frame = hdr
				break
			}
			var pe *ws.Error
			if errors.As(err, &pe) {
				c.start = c.end // nothing after a bad header can be framed
				return &readFailure{wsClose: pe.Code, silent: w.closing, err: err}
			}
		}
		if deadline.IsZero() && c.end == c.start {
			if f := c.awaitFirstBytes(64); f != nil {
				return f
			}
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.h.cfg.RecvWaitTimeout)
			c.nc.SetReadDeadline(deadline)
			continue
		}
		if f := c.fill(64); f != nil {
			f.silent = true // a frame cut short gets no answer
			return f
		}
	}
	hdr := &w.frame
	msgOp := hdr.Opcode
	if msgOp == ws.OpContinuation {
		msgOp = w.fragOp
	}
	c.body = bodyState{left: hdr.Length, masked: true, key: hdr.Key, text: msgOp == ws.OpText, fin: hdr.Fin}
	if w.closing {
		c.body.text = false
		return nil
	}
	if code := w.checkSequence(hdr, int64(c.h.cfg.WSMaxMessageLen)); code != 0 {
		// The payload is skipped, unchecked, while the close handshake runs.
		c.body.text = false
		return &readFailure{wsClose: code, err: errWSSequence}
	}
	if hdr.Opcode == ws.OpText {
		w.utf8.Reset()
	}
	if hdr.Length <= int64(c.h.cfg.MaxBufferedBody) || ws.IsControl(hdr.Opcode) {
		c.pinned = true
		for int64(c.end-c.start) < hdr.Length {
			if f := c.fill(int(hdr.Length)); f != nil {
				f.silent = true
				return f
			}
		}
	}
	return nil
}

var errWSSequence = errors.New("httpd: WebSocket frame out of sequence or message too large")

// checkSequence applies RFC 6455's fragmentation rules and the message size
// limit, updating the message state. It returns the close code to fail the
// connection with, or 0.
func (w *wsConn) checkSequence(hdr *ws.Header, maxMsg int64) uint16 {
	op := hdr.Opcode
	if ws.IsControl(op) {
		return 0
	}
	switch {
	case op == ws.OpContinuation && w.fragOp == 0:
		return ws.CloseProtocolError
	case op != ws.OpContinuation && w.fragOp != 0:
		return ws.CloseProtocolError
	}
	if op != ws.OpContinuation {
		w.fragOp, w.msgLen = op, 0
	}
	w.msgLen += hdr.Length
	if maxMsg > 0 && w.msgLen > maxMsg {
		return ws.CloseMessageTooBig
	}
	if hdr.Fin {
		w.fragOp = 0
	}
	return 0
}

// readWSPayload unmasks payload bytes just read and validates text. The
// body state carries the mask position and UTF-8 state across reads.
func (c *conn) readWSPayload(p []byte) error {
	b := &c.body
	b.maskPos = ws.Mask(p, b.key, b.maskPos)
	if !b.text {
		return nil
	}
	w := c.ws.Load()
	if !w.utf8.Write(p) || (b.left == 0 && b.fin && !w.utf8.Complete()) {
		w.fail = ws.CloseInvalidPayload
		return errInvalidUTF8
	}
	return nil
}

var errInvalidUTF8 = errors.New("httpd: invalid UTF-8 in WebSocket text message")

// serveFrame runs on the worker for each frame a WebSocket session's reader
// collected: control frames are answered here unless the URI asked for
// them; everything else goes to the handler, as on ESP-IDF.
func (h *Handle) serveFrame(c *conn, w *wsConn) {
	op := w.frame.Opcode
	if ws.IsControl(op) && !w.control {
		h.answerControl(c, w)
		return
	}
	r := c.beginReq(nil)
	r.Method = 0 // ESP-IDF zeroes the request for frames: only the handshake call is GET
	r.UserCtx = w.userCtx
	r.wsFrame = true
	var herr error
	ok := h.guard("WebSocket handler", func() { herr = w.handler(r) })
	if w.fail != 0 {
		h.wsFail(c, r, w, w.fail)
		return
	}
	h.endReq(c, r, !ok || herr != nil || op == ws.OpClose)
}

// answerControl handles ping, pong and close for handlers that do not want
// them: pong echoes a ping's payload; a close is echoed with the peer's
// status code and the session ends.
func (h *Handle) answerControl(c *conn, w *wsConn) {
	var buf [ws.MaxControlPayload]byte
	n, err := c.readFull(buf[:w.frame.Length])
	payload := buf[:n]
	if err != nil {
		h.closeSession(c)
		return
	}
	switch w.frame.Opcode {
	case ws.OpPing:
		if err := c.sendFrame(w, true, ws.OpPong, payload); err != nil {
			h.closeSession(c)
			return
		}
	case ws.OpClose:
		code, ok := closeCode(payload)
		if !ok {
			h.wsFail(c, nil, w, ws.CloseProtocolError)
			return
		}
		var echo []byte
		if code != 0 {
			echo = binary.BigEndian.AppendUint16(nil, code)
		}
		c.sendFrame(w, true, ws.OpClose, echo)
		h.closeSession(c)
		return
	}
	c.resume <- struct{}{}
}

// closeCode validates a close frame's payload: empty, or a valid status code
// followed by a UTF-8 reason.
func closeCode(p []byte) (uint16, bool) {
	switch {
	case len(p) == 0:
		return 0, true
	case len(p) == 1:
		return 0, false
	}
	code := binary.BigEndian.Uint16(p)
	return code, ws.ValidCloseCode(code) && utf8.Valid(p[2:])
}

// wsFail starts closing the connection with code: a close frame now, then
// the peer's close frame (or WSCloseTimeout) ends the session.
func (h *Handle) wsFail(c *conn, r *Req, w *wsConn, code uint16) {
	if r != nil {
		r.valid = false
		c.active = nil
	}
	if err := c.sendFrame(w, true, ws.OpClose, binary.BigEndian.AppendUint16(nil, code)); err != nil {
		h.closeSession(c)
		return
	}
	w.closing = true
	w.fail = 0
	c.body.text = false // what is left of the frame is dropped unchecked
	c.resume <- struct{}{}
}

// readFull reads exactly len(p) payload bytes of the current frame.
func (c *conn) readFull(p []byte) (int, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.h.cfg.RecvWaitTimeout))
	n := 0
	for n < len(p) {
		k, err := c.readBody(p[n:])
		n += k
		if err != nil {
			if err == io.EOF && n == len(p) {
				break
			}
			return n, err
		}
	}
	return n, nil
}

// WSRecvFrame reads the frame the handler was called for
// (httpd_ws_recv_frame). With maxLen 0 it only fills in f.Final, f.Type and
// f.Len; call it again with maxLen >= f.Len to read the payload into
// f.Payload (reused when its capacity suffices, allocated otherwise). A
// payload longer than maxLen is ErrInvalidSize. Invalid UTF-8 in a text
// message fails the connection with close code 1007.
func (r *Req) WSRecvFrame(f *WSFrame, maxLen int) error {
	if r == nil || !r.valid || f == nil {
		return ErrInvalidArg
	}
	w := r.c.ws.Load()
	if w == nil || !r.wsFrame {
		return ErrInvalidState
	}
	hdr := &w.frame
	f.Final = hdr.Fin
	f.Type = WSType(hdr.Opcode)
	f.Len = int(hdr.Length)
	if maxLen == 0 {
		return nil
	}
	if f.Len > maxLen {
		return ErrInvalidSize
	}
	if cap(f.Payload) < f.Len {
		f.Payload = make([]byte, f.Len)
	}
	f.Payload = f.Payload[:f.Len]
	n, err := r.c.readFull(f.Payload)
	if n > 0 {
		r.c.h.emit(EventOnData, r.c.fd, n)
	}
	return err
}

// WSSendFrame sends a frame on the request's session (httpd_ws_send_frame).
func (r *Req) WSSendFrame(f *WSFrame) error {
	if r == nil || !r.valid {
		return ErrInvalidArg
	}
	return r.Handle.WSSendFrameAsync(r.c.fd, f)
}

// WSSendFrameAsync sends a frame on session sockfd
// (httpd_ws_send_frame_async). Unlike ESP-IDF's, it is safe from any
// goroutine: frames leave whole, one at a time per session. It fails with
// ErrInvalidState when the session is not an open WebSocket.
func (h *Handle) WSSendFrameAsync(sockfd int, f *WSFrame) error {
	if f == nil {
		return ErrInvalidArg
	}
	s := h.session(sockfd)
	if s == nil {
		return ErrInvalidArg
	}
	c := s.Data
	w := c.ws.Load()
	if w == nil {
		return ErrInvalidState
	}
	payload := f.Payload
	if f.Len > 0 && f.Len < len(payload) {
		payload = payload[:f.Len]
	}
	op := byte(f.Type)
	fin := !f.Fragmented || f.Final
	if ws.IsControl(op) && (len(payload) > ws.MaxControlPayload || !fin) {
		return ErrInvalidSize
	}
	if err := c.sendFrame(w, fin, op, payload); err != nil {
		return &respSendError{cause: err}
	}
	return nil
}

// sendFrame writes one frame whole under the session's frame lock.
func (c *conn) sendFrame(w *wsConn, fin bool, op byte, payload []byte) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	if w.closed {
		return ErrInvalidState
	}
	if op == ws.OpClose {
		w.closed = true
	}
	var hdr [14]byte
	frame := ws.AppendHeader(hdr[:0], fin, op, len(payload))
	c.armWriteDeadline()
	if len(payload) <= 512 {
		frame = append(frame, payload...)
		return c.sendAllNoDeadline(frame)
	}
	if err := c.sendAllNoDeadline(frame); err != nil {
		return err
	}
	return c.sendAllNoDeadline(payload)
}

// WSGetFDInfo says whether sockfd is an open WebSocket, a plain HTTP
// session, or no session (httpd_ws_get_fd_info). Safe from any goroutine.
func (h *Handle) WSGetFDInfo(sockfd int) WSClientInfo {
	s := h.session(sockfd)
	if s == nil {
		return WSClientInvalid
	}
	if w := s.Data.ws.Load(); w != nil {
		w.sendMu.Lock()
		closed := w.closed
		w.sendMu.Unlock()
		if !closed {
			return WSClientWebsocket
		}
	}
	return WSClientHTTP
}
