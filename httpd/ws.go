package httpd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
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
	// WSRecvFrame sets it for every frame of a fragmented message.
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

// wsConn is a session's WebSocket state after its handshake, and the
// responder of the requests its frames become.
type wsConn struct {
	handler HandlerFunc
	userCtx any
	control bool // the handler takes control frames itself

	// Reader-owned while collecting a frame, then worker-owned, like the
	// session buffer.
	frame   ws.Header // the frame being served
	fragOp  byte      // opcode of the fragmented message in progress, 0 when none
	msgLen  int64     // bytes of that message so far
	utf8    ws.UTF8
	closing bool   // a close frame went out: wait for the peer's, then close
	fail    uint16 // the close code a failed payload read calls for, sent once the handler returns
	abort   bool   // the session ends once the handler returns: peer gone, or close handshake done
	payload wsPayload
	nested  Req // the request of a control frame met inside a message (WSRecvMessage)

	sendMu  sync.Mutex // frames from any goroutine leave whole
	closed  bool       // under sendMu: a close frame was sent, nothing more may be
	sendBuf []byte     // under sendMu: a frame's header, and a small payload with it
	sendv   sendVec    // under sendMu: a large frame's header and payload, gathered
	// pending (under sendMu): bytes of sendBuf, a whole small frame a
	// handler sent, left for the session's reader to write before it
	// reads the next frame (conn.flushOut), as small HTTP responses are.
	pending int
}

// wsPayload is where the payload of the frame being served stands: it is
// unmasked, and text is checked, as it is read.
type wsPayload struct {
	left    int64 // bytes not yet read
	ready   int64 // of those, how many the reader unmasked and checked in the buffer
	key     [4]byte
	maskPos int
	text    bool // validate as UTF-8 (a text message that is not being dropped)
	fin     bool
}

// wsUpgradeKey checks that r is a WebSocket opening handshake (RFC 6455
// 4.2.1) and returns its key. Otherwise it returns the status to refuse it
// with: 426 for a version other than 13, 400 for anything else.
func wsUpgradeKey(r *Req) (key string, status ErrCode, ok bool) {
	upgrade, _ := r.header("Upgrade")
	connection, _ := r.header("Connection")
	k, _ := r.header("Sec-WebSocket-Key")
	version, _ := r.header("Sec-WebSocket-Version")
	switch {
	case r.Method != GET || !hasToken(upgrade, "websocket") || !hasToken(connection, "upgrade") || !ws.ValidKey(string(k)):
		return "", Code400BadRequest, false
	case string(version) != "13":
		return "", code426UpgradeRequired, false
	}
	return string(k), 0, true
}

// code426UpgradeRequired is not one of ESP-IDF's error codes: it is sent
// as a plain response, with the version this server speaks.
const code426UpgradeRequired ErrCode = -426

// refuseWSUpgrade answers a request that is not a valid handshake for a
// WebSocket URI; the session closes after it.
func (h *Handle) refuseWSUpgrade(r *Req, code ErrCode) {
	if code == code426UpgradeRequired {
		r.forceClose = true
		r.RespSetStatus("426 Upgrade Required")
		r.RespSetHdr("Sec-WebSocket-Version", "13")
		r.RespSendStr("This resource speaks WebSocket version 13 only")
		return
	}
	h.handleErr(r, code)
	r.forceClose = true
}

// appendWSAccept appends the 101 response that accepts a handshake.
func appendWSAccept(dst []byte, key, protocol string) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = append(dst, ws.AcceptKey(key)...)
	dst = append(dst, "\r\n"...)
	if protocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, protocol...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// wsHandshake answers a request for WebSocket URI u: a valid handshake gets
// its 101 and switches the session to frames (the handler is then called
// for the handshake, as on ESP-IDF); anything else is refused before the
// handler runs. It reports whether the request was refused.
func (h *Handle) wsHandshake(r *Req, u *URI) (refused bool) {
	key, code, ok := wsUpgradeKey(r)
	if !ok {
		h.log.Debug("not a WebSocket handshake", "fd", r.c.fd, "uri", r.URI, "status", code)
		h.refuseWSUpgrade(r, code)
		return true
	}
	c := r.c
	var protocol string
	if offered, ok := r.header("Sec-WebSocket-Protocol"); ok && u.SupportedSubprotocol != "" {
		if hasToken(offered, u.SupportedSubprotocol) {
			protocol = u.SupportedSubprotocol
		} else {
			h.log.Warn("Sec-WebSocket-Protocol not supported", "offered", string(offered), "supported", u.SupportedSubprotocol)
		}
	}
	c.wbuf = appendWSAccept(c.wbuf[:0], key, protocol)
	r.headersGone = true
	r.resp = respRaw
	// The session is a WebSocket before the client can know it, so a frame
	// sent from another goroutine right after the 101 finds it so; holding
	// the frame lock keeps such a frame behind the 101 on the wire.
	w := &wsConn{handler: u.Handler, userCtx: u.UserCtx, control: u.HandleWSControlFrames}
	w.sendMu.Lock()
	c.ws.Store(w)
	err := c.sendAll(c.wbuf)
	w.sendMu.Unlock()
	if err != nil {
		c.wantStop = true
	}
	return false
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

// collect is the reader's job on a WebSocket session: a whole frame
// header, and the payload too when it is small, before the worker is called.
func (w *wsConn) collect(c *conn) *readFailure {
	for {
		if f := w.collectOnce(c); f != nil || !w.closing || w.frame.Opcode == ws.OpClose {
			if f == nil && w.closing {
				return &readFailure{silent: true} // the peer answered our close
			}
			return f
		}
		// Closing: data and control frames other than close are dropped.
		if err := w.skipPayload(c); err != nil {
			return &readFailure{silent: true, err: err}
		}
	}
}

func (w *wsConn) collectOnce(c *conn) *readFailure {
	if err := w.skipPayload(c); err != nil {
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
		ok, bad := w.takeHeader(c)
		if ok {
			break
		}
		if bad != nil {
			return &readFailure{wsClose: bad.Code, silent: w.closing, err: bad}
		}
		if deadline.IsZero() && c.end == c.start {
			if f := c.awaitFirstBytes(64); f != nil {
				return f
			}
			if c.end > c.start {
				continue // a whole frame may have come: no timeout to arm then
			}
		}
		if deadline.IsZero() {
			deadline = c.armReadDeadline()
			continue
		}
		if f := c.fill(64); f != nil {
			f.silent = true // a frame cut short gets no answer
			return f
		}
	}
	if code := w.startFrame(c); code != 0 {
		return &readFailure{wsClose: code, err: errWSSequence}
	}
	hdr := &w.frame
	if w.closing || (hdr.Length > int64(c.h.cfg.MaxBufferedBody) && !ws.IsControl(hdr.Opcode)) {
		return nil
	}
	// A small payload is read before the worker is called, and unmasked
	// and checked here as it arrives: the worker gets it ready to copy,
	// and invalid UTF-8 fails the connection at once, without waiting for
	// the rest of the frame.
	c.pinned = true
	for {
		if code := w.preparePayload(c); code != 0 {
			return &readFailure{wsClose: code, err: errInvalidUTF8}
		}
		if w.payload.ready == w.payload.left {
			return nil
		}
		if deadline.IsZero() {
			deadline = c.armReadDeadline()
		}
		if f := c.fill(int(hdr.Length)); f != nil {
			f.silent = true
			return f
		}
	}
}

// takeHeader parses a frame header from the buffered bytes into w.frame
// when they hold a whole one. A malformed header is returned as the
// *ws.Error whose close code fails the connection; nothing after it can be
// framed, so the buffered bytes are dropped.
func (w *wsConn) takeHeader(c *conn) (ok bool, bad *ws.Error) {
	if c.end == c.start {
		return false, nil
	}
	hdr, n, err := ws.ParseHeader(c.buf[c.start:c.end], true)
	if err == nil {
		c.start += n
		w.frame = hdr
		return true, nil
	}
	// A type assertion, not errors.As: ParseHeader returns its errors
	// unwrapped, and errors.As(err, &bad) would move bad to the heap, an
	// allocation per frame.
	bad, _ = err.(*ws.Error)
	if bad != nil {
		c.start = c.end
	}
	return false, bad
}

// startFrame sets up the payload of the frame just parsed and applies the
// message rules to it; it returns the close code to fail the connection
// with, or 0. While closing, every payload is dropped unchecked.
func (w *wsConn) startFrame(c *conn) uint16 {
	hdr := &w.frame
	msgOp := hdr.Opcode
	if msgOp == ws.OpContinuation {
		msgOp = w.fragOp
	}
	w.payload = wsPayload{left: hdr.Length, key: hdr.Key, text: msgOp == ws.OpText && !w.closing, fin: hdr.Fin}
	if w.closing {
		return 0
	}
	if code := w.checkSequence(hdr, int64(c.h.cfg.WSMaxMessageLen)); code != 0 {
		// The payload is skipped, unchecked, while the close handshake runs.
		w.payload.text = false
		return code
	}
	if hdr.Opcode == ws.OpText {
		w.utf8.Reset()
	}
	return 0
}

// preparePayload unmasks and checks the payload bytes of the current frame
// that arrived in the buffer since the last call. It returns 1007 for
// invalid UTF-8, or 0.
func (w *wsConn) preparePayload(c *conn) uint16 {
	pl := &w.payload
	avail := min(int64(c.end-c.start), pl.left)
	if avail <= pl.ready {
		return 0
	}
	fresh := c.buf[c.start+int(pl.ready) : c.start+int(avail)]
	pl.ready = avail
	pl.maskPos = ws.Mask(fresh, pl.key, pl.maskPos)
	if pl.text && (!w.utf8.Write(fresh) || (pl.ready == pl.left && pl.fin && !w.utf8.Complete())) {
		pl.text = false // reported once; what is left is dropped
		return ws.CloseInvalidPayload
	}
	return 0
}

// skipPayload drops what the handler left of the last frame's payload.
func (w *wsConn) skipPayload(c *conn) error {
	if w.payload.left == 0 {
		return nil
	}
	c.armReadDeadline()
	scratch := c.scratchBuf()
	for w.payload.left > 0 {
		if _, err := w.readPayload(c, scratch); err != nil {
			return err
		}
	}
	return nil
}

// readPayload reads payload bytes of the current frame into p, unmasks
// them and checks text; io.EOF once the payload has been read. Bytes the
// reader already prepared (payload.ready) are copied as they are.
func (w *wsConn) readPayload(c *conn, p []byte) (int, error) {
	pl := &w.payload
	if pl.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > pl.left {
		p = p[:pl.left]
	}
	n, err := c.readBuffered(p)
	if n == 0 {
		return 0, err
	}
	pl.left -= int64(n)
	done := int(min(int64(n), pl.ready))
	pl.ready -= int64(done)
	if fresh := p[done:n]; len(fresh) > 0 {
		pl.maskPos = ws.Mask(fresh, pl.key, pl.maskPos)
		if pl.text && !w.utf8.Write(fresh) {
			w.fail = ws.CloseInvalidPayload
			return n, errInvalidUTF8
		}
	}
	if pl.text && pl.left == 0 && pl.fin && !w.utf8.Complete() {
		w.fail = ws.CloseInvalidPayload
		return n, errInvalidUTF8
	}
	return n, nil
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

var errInvalidUTF8 = errors.New("httpd: invalid UTF-8 in WebSocket text message")

// serveFrame runs on the worker for each frame a WebSocket session's reader
// collected: control frames are answered here unless the URI asked for
// them; everything else goes to the handler, as on ESP-IDF.
func (h *Handle) serveFrame(c *conn, w *wsConn) {
	if ws.IsControl(w.frame.Opcode) && !w.control {
		h.answerControl(c, w)
		return
	}
	r := c.beginReq(&c.req, w)
	r.Method = 0 // ESP-IDF zeroes the request for frames: only the handshake call is GET
	r.UserCtx = w.userCtx
	r.wsFrame = true
	var herr error
	ok := h.guard("WebSocket handler", func() { herr = w.handler(r) })
	h.endReq(r, !ok || herr != nil)
}

// The responder of a frame's request: the frame's payload is its body; it
// has no headers and no HTTP response.

func (w *wsConn) header(string) ([]byte, bool)             { return nil, false }
func (w *wsConn) eachHeader(func(name, value string) bool) {}

func (w *wsConn) recv(r *Req, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.c.armReadDeadline()
	return w.readPayload(r.c, p)
}

func (w *wsConn) send(*Req, *respHead, []byte, string, bool) error { return ErrInvalidState }

func (w *wsConn) sendRaw(r *Req, p []byte) (int, error) {
	r.c.armWriteDeadline()
	return r.c.send(p, 0)
}

func (w *wsConn) hijack(*Req) (net.Conn, error) { return nil, ErrInvalidState }

func (w *wsConn) proto() string { return "" }

// finish ends a frame's request: a payload that failed validation fails
// the connection; a failed handler or a close frame ends the session.
func (w *wsConn) finish(r *Req, failed bool) {
	c := r.c
	r.valid = false
	switch {
	case w.fail != 0:
		c.h.wsFail(c, w, w.fail)
	case failed || w.abort || w.frame.Opcode == ws.OpClose:
		c.h.closeSession(c)
	default:
		c.toReader()
	}
}

// answerControl handles ping, pong and close for handlers that do not want
// them: pong echoes a ping's payload; a close is echoed with the peer's
// status code and the session ends.
func (h *Handle) answerControl(c *conn, w *wsConn) {
	var buf [ws.MaxControlPayload]byte
	n, err := w.readFull(c, buf[:w.frame.Length])
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
			h.wsFail(c, w, ws.CloseProtocolError)
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
	c.toReader()
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
// the peer's close frame (or WSCloseTimeout) ends the session, or at once
// when the failure cut a frame short.
func (h *Handle) wsFail(c *conn, w *wsConn, code uint16) {
	if err := c.sendFrame(w, true, ws.OpClose, binary.BigEndian.AppendUint16(nil, code)); err != nil || w.payload.left > 0 {
		// Failed inside a payload (invalid UTF-8 found before the frame
		// ended): the peer's close frame would hide behind payload bytes
		// that may never come, so the connection closes now (RFC 6455
		// 7.1.7 lets a failing endpoint close without waiting).
		h.closeSession(c)
		return
	}
	w.closing = true
	w.fail = 0
	w.payload.text = false // what is left of the frame is dropped unchecked
	c.toReader()
}

// readFull reads exactly len(p) payload bytes of the current frame. Each
// read from the socket gets a fresh RecvWaitTimeout; bytes already
// buffered need none.
func (w *wsConn) readFull(c *conn, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if c.end == c.start {
			c.armReadDeadline()
		}
		k, err := w.readPayload(c, p[n:])
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
// (httpd_ws_recv_frame). With maxLen 0 it only fills in f.Final,
// f.Fragmented, f.Type and f.Len: a frame of a fragmented message has
// Fragmented set, its first frame the message's type, the others
// WSTypeContinue, and only the last Final, so sending f back as it is
// reproduces the sender's fragmentation. Call it again with maxLen >=
// f.Len to read the payload into f.Payload (reused when its capacity
// suffices, allocated otherwise). A payload longer than maxLen is
// ErrInvalidSize. WSRecvMessage reads a whole message instead. Invalid UTF-8 in a text
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
	// A frame that is not a whole message says so, so that sending it
	// back as it is (WSSendFrame) reproduces the sender's fragmentation.
	f.Fragmented = !hdr.Fin || hdr.Opcode == ws.OpContinuation
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
	n, err := w.readFull(r.c, f.Payload)
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
	// A handler answering a frame on the worker: a small frame is written
	// by the session's reader after the handler, so the worker does not
	// wait in write(2) (an async copy's goroutine sends at once).
	return r.Handle.sendWSFrame(r.c.fd, f, r.wsFrame && !r.async)
}

// WSSendFrameAsync sends a frame on session sockfd
// (httpd_ws_send_frame_async). Unlike ESP-IDF's, it is safe from any
// goroutine: frames leave whole, one at a time per session. It fails with
// ErrInvalidState when the session is not an open WebSocket.
func (h *Handle) WSSendFrameAsync(sockfd int, f *WSFrame) error {
	return h.sendWSFrame(sockfd, f, false)
}

// sendWSFrame sends f on session sockfd; deferOK lets a small frame wait
// in the session's frame buffer for the reader to write it.
func (h *Handle) sendWSFrame(sockfd int, f *WSFrame, deferOK bool) error {
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
	if err := c.sendFrameMaybeLater(w, fin, op, payload, deferOK); err != nil {
		return &respSendError{cause: err}
	}
	return nil
}

// sendFrame writes one frame whole under the session's frame lock. A
// small frame goes out in one send from the session's frame buffer, so
// sending allocates nothing; a larger payload is sent after its header
// rather than copied.
func (c *conn) sendFrame(w *wsConn, fin bool, op byte, payload []byte) error {
	return c.sendFrameMaybeLater(w, fin, op, payload, false)
}

// sendFrameMaybeLater is sendFrame; with later, a frame that fits the
// frame buffer is left there for flushFrame. A frame left earlier always
// goes out first, so frames keep their order.
func (c *conn) sendFrameMaybeLater(w *wsConn, fin bool, op byte, payload []byte, later bool) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	if w.closed {
		return ErrInvalidState
	}
	if err := c.flushFrameLocked(w); err != nil {
		return err
	}
	if op == ws.OpClose {
		w.closed = true
	}
	if w.sendBuf == nil {
		w.sendBuf = make([]byte, 0, wsSendBufSize)
	}
	frame := ws.AppendHeader(w.sendBuf[:0], fin, op, len(payload))
	if len(frame)+len(payload) <= cap(frame) {
		frame = append(frame, payload...)
		if later {
			w.pending = len(frame)
			return nil
		}
		c.armWriteDeadline()
		return c.sendAllNoDeadline(frame)
	}
	c.armWriteDeadline()
	return c.sendv(&w.sendv, frame, payload, nil)
}

// wsSendBufSize bounds the frames sent with one copy and one send: past a
// few KiB a second send costs less than the copy.
const wsSendBufSize = 4096 + 14

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

// flushFrame writes the frame a handler left in the frame buffer, if any.
func (c *conn) flushFrame(w *wsConn) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	return c.flushFrameLocked(w)
}

func (c *conn) flushFrameLocked(w *wsConn) error {
	if w.pending == 0 {
		return nil
	}
	n := w.pending
	w.pending = 0
	c.armWriteDeadline()
	return c.sendAllNoDeadline(w.sendBuf[:n])
}
