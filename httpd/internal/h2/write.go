package h2

import (
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// streamLocked returns stream id for a worker operation, or the error that
// operation must return.
func (c *Conn) streamLocked(id uint32) (*stream, error) {
	if c.closed {
		return nil, c.closeErrLocked()
	}
	s := c.streams[id]
	if s == nil {
		return nil, ErrStreamClosed
	}
	if s.reset {
		return nil, &StreamResetError{Stream: id, Code: s.resetCode, Remote: s.resetRemote}
	}
	return s, nil
}

func (c *Conn) closeErrLocked() error {
	if c.closeErr == nil || c.closeErr == io.EOF {
		return ErrConnClosed
	}
	return c.closeErr
}

// ReadData reads request body bytes of stream id into p. It blocks until
// DATA arrives, the body ends (io.EOF), the stream is reset
// (*StreamResetError), the connection ends, or the deadline passes (an error
// matching os.ErrDeadlineExceeded; a zero deadline waits forever). Bytes
// read are credited back to the peer with WINDOW_UPDATE frames, one per half
// window consumed.
func (c *Conn) ReadData(id uint32, p []byte, deadline time.Time) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	for {
		s := c.streams[id]
		if s != nil && s.off < len(s.data) && !s.reset {
			n := copy(p, s.data[s.off:])
			s.off += n
			if s.off == len(s.data) {
				s.data, s.off = s.data[:0], 0
			}
			var si int64
			if !s.upgraded {
				si = c.streamCreditLocked(s, int64(n))
			}
			c.mu.Unlock()
			return n, c.sendCredit(0, si, id)
		}
		s, err := c.streamLocked(id)
		if err != nil {
			c.mu.Unlock()
			return 0, err
		}
		if s.remoteDone {
			c.mu.Unlock()
			return 0, io.EOF
		}
		if err := c.waitLocked(deadline); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
}

// WriteHeaders sends the response head of stream id: :status, then fields
// (names are lowercased; connection-specific fields are dropped, RFC 9113
// 8.2.2), as HEADERS plus CONTINUATION frames no larger than the peer's
// MAX_FRAME_SIZE. endStream ends the response (no body).
func (c *Conn) WriteHeaders(id uint32, status int, fields []hpack.HeaderField, endStream bool) error {
	c.mu.Lock()
	s, err := c.streamLocked(id)
	if err == nil && (s.wroteHdrs || s.localDone) {
		err = ErrHeadersSent
	}
	if err != nil {
		c.mu.Unlock()
		return err
	}
	s.wroteHdrs = true
	if endStream {
		s.localDone = true
	}
	maxFrame := int(c.peerMaxFrame)
	c.mu.Unlock()

	err = c.write(func(fr *http2.Framer) error {
		c.hbuf.Reset()
		c.henc.WriteField(hpack.HeaderField{Name: ":status", Value: statusValue(status)})
		for _, f := range fields {
			f.Name = strings.ToLower(f.Name)
			switch f.Name {
			case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
				continue
			}
			if f.Name == "" || f.Name[0] == ':' {
				continue
			}
			c.henc.WriteField(f)
		}
		block := c.hbuf.Bytes()
		first := true
		for first || len(block) > 0 {
			frag := block[:min(len(block), maxFrame)]
			block = block[len(frag):]
			var err error
			if first {
				err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: frag,
					EndStream: endStream, EndHeaders: len(block) == 0})
				first = false
			} else {
				err = fr.WriteContinuation(id, len(block) == 0, frag)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if endStream {
		c.mu.Lock()
		c.removeLocked(s)
		c.mu.Unlock()
	}
	return err
}

// statusValues holds the :status value of every code from 100 to 599 (RFC
// 9110 section 15), made once so that a response head does not format (and
// allocate) it.
var statusValues = func() (v [500]string) {
	for i := range v {
		v[i] = strconv.Itoa(100 + i)
	}
	return v
}()

// statusValue returns code as a :status value.
func statusValue(code int) string {
	if code >= 100 && code < 100+len(statusValues) {
		return statusValues[code-100]
	}
	return strconv.Itoa(code)
}

// WriteData sends p as DATA frames on stream id, each no larger than the
// peer's MAX_FRAME_SIZE and within the peer's stream and connection
// windows; endStream ends the response with the last frame (an empty p with
// endStream sends an empty END_STREAM frame). While a window is closed it
// waits for WINDOW_UPDATE until the deadline (zero: forever), then returns
// an error matching os.ErrDeadlineExceeded. It returns a *StreamResetError
// if the stream is reset meanwhile. WriteHeaders must come first.
func (c *Conn) WriteData(id uint32, p []byte, endStream bool, deadline time.Time) error {
	if len(p) == 0 && !endStream {
		return nil
	}
	for {
		c.mu.Lock()
		s, err := c.streamLocked(id)
		if err == nil && (!s.wroteHdrs || s.localDone) {
			err = ErrHeadersSent
			if s.localDone {
				err = ErrStreamClosed
			}
		}
		if err != nil {
			c.mu.Unlock()
			return err
		}
		n := int64(len(p))
		if n > 0 {
			n = min(n, s.outWin, c.connOut, int64(c.peerMaxFrame))
			if n <= 0 {
				err := c.waitLocked(deadline)
				c.mu.Unlock()
				if err != nil {
					return err
				}
				continue
			}
			s.outWin -= n
			c.connOut -= n
		}
		last := endStream && n == int64(len(p))
		if last {
			s.localDone = true
		}
		c.mu.Unlock()
		chunk := p[:n]
		p = p[n:]
		if err := c.write(func(fr *http2.Framer) error { return fr.WriteData(id, last, chunk) }); err != nil {
			return err
		}
		if last {
			c.mu.Lock()
			c.removeLocked(s)
			c.mu.Unlock()
		}
		if len(p) == 0 {
			return nil
		}
	}
}

// ResetStream resets stream id with code (RST_STREAM). ReadData and
// WriteData on it fail from now on; StreamDone is still due.
func (c *Conn) ResetStream(id uint32, code ErrCode) error {
	c.mu.Lock()
	s, err := c.streamLocked(id)
	if err != nil {
		c.mu.Unlock()
		if _, ok := err.(*StreamResetError); ok {
			return nil
		}
		return err
	}
	s.reset, s.resetCode = true, code
	s.data, s.off = nil, 0
	c.removeLocked(s)
	c.broadcastLocked()
	c.mu.Unlock()
	return c.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}

// StreamDone tells the engine the worker is finished with stream id (call
// it once per stream handed out, whatever happened to it). A response not
// ended is reset with INTERNAL_ERROR; a request body still coming after a
// complete response is cut off with RST_STREAM NO_ERROR (RFC 9113 8.1).
func (c *Conn) StreamDone(id uint32) error {
	c.mu.Lock()
	s := c.streams[id]
	if s == nil || s.released {
		c.mu.Unlock()
		return nil
	}
	s.released = true
	if s.localDone && !s.closed() && !c.closed {
		// The response is complete but the request body is still coming.
		// Let it arrive and drop it, so the reader still judges it
		// (content-length, flow control) as RFC 9113 requires, and cut it
		// off with RST_STREAM NO_ERROR (section 8.1) only if it does not
		// end soon. The worker does not wait for any of it.
		s.discard = true
		s.data, s.off = nil, 0
		c.mu.Unlock()
		time.AfterFunc(releaseGrace, func() { c.cutOffBody(id) })
		return nil
	}
	code, send := ErrCode(0), false
	if !s.closed() && !c.closed {
		code, send = http2.ErrCodeInternal, true
		s.reset, s.resetCode = true, code
		c.broadcastLocked()
	}
	s.reset = s.reset || c.closed
	c.removeLocked(s)
	c.mu.Unlock()
	if send {
		return c.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
	}
	return nil
}

// releaseGrace is how long a released stream's request body may take to
// end before it is cut off.
const releaseGrace = time.Second

// cutOffBody resets a released stream whose request body is still open
// after releaseGrace.
func (c *Conn) cutOffBody(id uint32) {
	c.mu.Lock()
	s := c.streams[id]
	if s == nil || !s.released || s.closed() || c.closed {
		c.mu.Unlock()
		return
	}
	s.reset, s.resetCode = true, http2.ErrCodeNo
	c.removeLocked(s)
	c.broadcastLocked()
	c.mu.Unlock()
	c.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, http2.ErrCodeNo) })
}

// GoAway sends GOAWAY with code and debug data, naming the highest stream
// the peer opened as the last one we process; streams the peer opens later
// are ignored. With ErrCodeNo this starts a graceful shutdown: serve the
// streams in the table, close when Streams reaches zero. With an error code
// the caller closes the transport afterwards.
func (c *Conn) GoAway(code ErrCode, debug []byte) error {
	c.mu.Lock()
	if c.closed {
		err := c.closeErrLocked()
		c.mu.Unlock()
		return err
	}
	last := c.maxClientID
	if c.goAwaySent && c.goAwayLast < last {
		last = c.goAwayLast
	}
	c.goAwaySent, c.goAwayLast = true, last
	c.mu.Unlock()
	return c.write(func(fr *http2.Framer) error { return fr.WriteGoAway(last, code, debug) })
}
