package httpd

import (
	"encoding/binary"
	"errors"

	"github.com/esphttpd/esphttpd/httpd/internal/ws"
)

// ErrWSClosed is returned by WSRecvMessage when the peer's close frame
// arrived inside a fragmented message: the server has answered it, and the
// session ends once the handler returns.
var ErrWSClosed = errors.New("httpd: WebSocket closed by the peer")

// WSRecvMessage reads the whole message the handler was called for: the
// payload of every fragment, in order, into m.Payload (reused when its
// capacity suffices, grown otherwise). It sets m.Type to the message's type
// (text or binary; a control frame the URI passes to its handler is a
// message of its own), m.Len to its length, m.Final and clears
// m.Fragmented, so that WSSendFrame(m) sends the message back in one frame.
//
// The handler is called for a message's first frame; WSRecvMessage reads
// the others from the connection on the worker, each read waiting at most
// Config.RecvWaitTimeout. Control frames between fragments are answered
// as the server answers them between messages (a ping gets its pong; a
// close frame is echoed and WSRecvMessage returns ErrWSClosed) or, with
// URI.HandleWSControlFrames, passed to the URI handler in a call of its
// own, nested in this one. Text is checked as it arrives: at the first
// byte that cannot be UTF-8, even in a code point split between
// fragments, the read stops and the connection fails with close code 1007
// once the handler returns; a message longer than maxLen (0 means
// Config.WSMaxMessageLen) fails it with 1009 and returns ErrInvalidSize.
// A handler called for a continuation frame (its message was begun with
// WSRecvFrame) gets ErrInvalidState.
func (r *Req) WSRecvMessage(m *WSFrame, maxLen int) error {
	if r == nil || !r.valid || m == nil || maxLen < 0 {
		return ErrInvalidArg
	}
	w := r.c.ws.Load()
	if w == nil || !r.wsFrame || w.frame.Opcode == ws.OpContinuation {
		return ErrInvalidState
	}
	c := r.c
	if maxLen == 0 {
		maxLen = c.h.cfg.WSMaxMessageLen
	}
	m.Type, m.Final, m.Fragmented = WSType(w.frame.Opcode), true, false
	m.Payload = m.Payload[:0]
	m.Len = 0
	for {
		n := len(m.Payload)
		if maxLen > 0 && int64(n)+w.frame.Length > int64(maxLen) {
			w.fail = ws.CloseMessageTooBig
			return ErrInvalidSize
		}
		m.Payload = growPayload(m.Payload, int(w.frame.Length), w.frame.Fin)
		k, err := w.readFull(c, m.Payload[n:])
		m.Payload = m.Payload[:n+k]
		m.Len = len(m.Payload)
		if k > 0 {
			c.h.emit(EventOnData, c.fd, k)
		}
		if err != nil {
			if w.fail == 0 {
				w.abort = true // the peer left or stalled inside a message
			}
			return err
		}
		if w.frame.Fin {
			return nil
		}
		if err := w.nextDataFrame(c); err != nil {
			return err
		}
	}
}

// growPayload makes room in p for n more bytes. The last frame of a
// message gets exactly what it needs; earlier fragments double the
// capacity, so a message in many fragments is copied O(log n) times.
func growPayload(p []byte, n int, last bool) []byte {
	need := len(p) + n
	if need <= cap(p) {
		return p[:need]
	}
	size := need
	if !last {
		size = max(need, 2*cap(p))
	}
	grown := make([]byte, need, size)
	copy(grown, p)
	return grown
}

// nextDataFrame reads frame headers on the worker until the next fragment
// of the message in progress, answering control frames met on the way.
func (w *wsConn) nextDataFrame(c *conn) error {
	for {
		if err := w.readHeader(c); err != nil {
			return err
		}
		if code := w.startFrame(c); code != 0 {
			w.fail = code
			return errWSSequence
		}
		if !ws.IsControl(w.frame.Opcode) {
			return nil
		}
		if err := w.controlInMessage(c); err != nil {
			return err
		}
	}
}

// readHeader reads the next frame header into w.frame, on the worker.
func (w *wsConn) readHeader(c *conn) error {
	c.pinned = false
	for {
		ok, bad := w.takeHeader(c)
		if ok {
			return nil
		}
		if bad != nil {
			w.fail = bad.Code
			return bad
		}
		c.armReadDeadline()
		if f := c.fill(64); f != nil {
			w.abort = true
			return f.err
		}
	}
}

// controlInMessage serves a control frame that arrived between two
// fragments of a message being read by WSRecvMessage.
func (w *wsConn) controlInMessage(c *conn) error {
	if w.control {
		return w.nestedControlCall(c)
	}
	var buf [ws.MaxControlPayload]byte
	n, err := w.readFull(c, buf[:w.frame.Length])
	if err != nil {
		w.abort = true
		return err
	}
	payload := buf[:n]
	switch w.frame.Opcode {
	case ws.OpPing:
		if err := c.sendFrame(w, true, ws.OpPong, payload); err != nil {
			w.abort = true
			return err
		}
	case ws.OpClose:
		code, ok := closeCode(payload)
		if !ok {
			w.fail = ws.CloseProtocolError
			return errWSSequence
		}
		var echo []byte
		if code != 0 {
			echo = binary.BigEndian.AppendUint16(nil, code)
		}
		c.sendFrame(w, true, ws.OpClose, echo)
		w.abort = true
		return ErrWSClosed
	}
	return nil
}

// nestedControlCall passes a control frame met inside a message to the URI
// handler, which asked for control frames: a request of its own, as
// between messages, while the outer call waits. The outer request's
// session context is handed through and back.
func (w *wsConn) nestedControlCall(c *conn) error {
	outer := c.active
	r := &w.nested
	*r = Req{Handle: c.h, c: c, rsp: w, valid: true, UserCtx: w.userCtx, wsFrame: true}
	if outer != nil {
		r.SessCtx, r.FreeCtx, r.IgnoreSessCtxChanges = outer.SessCtx, outer.FreeCtx, outer.IgnoreSessCtxChanges
	}
	c.active = r
	var herr error
	ok := c.h.guard("WebSocket handler", func() { herr = w.handler(r) })
	c.active = outer
	r.valid = false
	if outer != nil {
		outer.SessCtx, outer.FreeCtx = r.SessCtx, r.FreeCtx
	}
	if !ok || herr != nil {
		w.abort = true
		if herr == nil {
			herr = errors.New("httpd: WebSocket handler panicked")
		}
		return herr
	}
	if err := w.skipPayload(c); err != nil {
		w.abort = true
		return err
	}
	if w.fail != 0 {
		return errWSSequence
	}
	if w.frame.Opcode == ws.OpClose {
		w.abort = true
		return ErrWSClosed
	}
	return nil
}
