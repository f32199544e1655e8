package h2

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

var errDeadline = os.ErrDeadlineExceeded

// connErr is a connection error found while reading: GOAWAY(code).
func connErr(code ErrCode, reason string) error { return &ConnError{Code: code, Reason: reason} }

// ReadFrame reads frames until it has an Event for the caller or the
// connection is over. Called by the reader goroutine only.
//
// A non-nil error ends the connection: io.EOF (the peer closed), a read
// error from the io.Reader (such as a deadline), a write error, or a
// *ConnError after the engine sent GOAWAY. The caller then closes the
// transport and calls Close. Every later call returns the same error.
func (c *Conn) ReadFrame() (Event, error) {
	for {
		if len(c.pending) > 0 {
			ev := c.pending[0]
			// Shift down rather than reslice, so the array is reused and
			// queueing the next event allocates nothing.
			n := copy(c.pending, c.pending[1:])
			c.pending[n] = Event{}
			c.pending = c.pending[:n]
			return ev, nil
		}
		if c.rerr != nil {
			return Event{}, c.rerr
		}
		if err := c.readOne(); err != nil {
			c.rerr = c.fail(err)
		}
	}
}

// fail turns a read-side error into the connection's end, sending GOAWAY
// for connection errors.
func (c *Conn) fail(err error) error {
	var ce *ConnError
	switch {
	case errors.As(err, &ce):
	case errors.Is(err, http2.ErrFrameTooLarge):
		ce = &ConnError{Code: http2.ErrCodeFrameSize, Reason: "frame too large"}
	default:
		var h2ce http2.ConnectionError
		if errors.As(err, &h2ce) {
			reason := "protocol error"
			if d := c.fr.ErrorDetail(); d != nil {
				reason = d.Error()
			}
			ce = &ConnError{Code: http2.ErrCode(h2ce), Reason: reason}
		}
	}
	if ce == nil {
		c.mu.Lock()
		c.closeLocked(err)
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	last := c.maxClientID
	if c.goAwaySent && c.goAwayLast < last {
		last = c.goAwayLast
	}
	c.goAwaySent, c.goAwayLast = true, last
	c.mu.Unlock()
	c.write(func(fr *http2.Framer) error {
		return fr.WriteGoAway(last, ce.Code, []byte(ce.Reason))
	})
	c.mu.Lock()
	c.closeLocked(ce)
	c.mu.Unlock()
	return ce
}

func (c *Conn) readOne() error {
	fh, err := c.fr.ReadFrameHeader()
	if err != nil {
		return err
	}
	switch fh.Type {
	case http2.FrameHeaders, http2.FrameContinuation, http2.FrameWindowUpdate:
		// The frames every request and response brings. x/net's Framer
		// would allocate a struct for each (SetReuseFrames covers DATA
		// only), so their payloads are read and parsed here, as the
		// Framer allows after ReadFrameHeader (which has checked the
		// size and the HEADERS/CONTINUATION order).
		return c.readOwnFrame(fh)
	}
	f, err := c.fr.ReadFrameForHeader(fh)
	if err != nil {
		var se http2.StreamError
		if errors.As(err, &se) {
			if fh.Type == http2.FrameHeaders {
				// The header block was not decoded: HPACK state is lost.
				return connErr(http2.ErrCodeProtocol, "bad HEADERS frame")
			}
			if c.idle(se.StreamID) {
				return connErr(http2.ErrCodeProtocol, "frame on idle stream")
			}
			return c.streamError(se.StreamID, se.Code)
		}
		return err
	}
	if !c.sawPeerSettings {
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			return connErr(http2.ErrCodeProtocol, "first frame is not SETTINGS")
		}
	}
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.PriorityFrame:
		if !c.empties.take(time.Now()) {
			return connErr(http2.ErrCodeEnhanceYourCalm, "PRIORITY flood")
		}
		if f.StreamDep == f.StreamID {
			return c.streamError(f.StreamID, http2.ErrCodeProtocol)
		}
		return nil
	case *http2.RSTStreamFrame:
		return c.onReset(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.PushPromiseFrame:
		return connErr(http2.ErrCodeProtocol, "PUSH_PROMISE from a client")
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		if !c.pings.take(time.Now()) {
			return connErr(http2.ErrCodeEnhanceYourCalm, "PING flood")
		}
		return c.write(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
	case *http2.GoAwayFrame:
		c.pending = append(c.pending, Event{Kind: EventGoAway, Code: f.ErrCode,
			LastStream: f.LastStreamID, Debug: append([]byte(nil), f.DebugData()...)})
		return nil
	default:
		// Unknown frame types (and extensions we do not implement) are
		// ignored (RFC 9113 5.5), within the empty-frame budget.
		if !c.empties.take(time.Now()) {
			return connErr(http2.ErrCodeEnhanceYourCalm, "useless frame flood")
		}
		return nil
	}
}

// readOwnFrame reads the payload of a HEADERS, CONTINUATION or
// WINDOW_UPDATE frame into the connection's buffer and acts on it, with
// the checks x/net's parsers make (RFC 9113 6.2, 6.9, 6.10).
func (c *Conn) readOwnFrame(fh http2.FrameHeader) error {
	if cap(c.payload) < int(fh.Length) {
		c.payload = make([]byte, fh.Length)
	}
	p := c.payload[:fh.Length]
	if _, err := io.ReadFull(c.r, p); err != nil {
		return err
	}
	if !c.sawPeerSettings {
		return connErr(http2.ErrCodeProtocol, "first frame is not SETTINGS")
	}
	switch fh.Type {
	case http2.FrameWindowUpdate:
		if len(p) != 4 {
			return connErr(http2.ErrCodeFrameSize, "WINDOW_UPDATE payload is not 4 bytes")
		}
		inc := binary.BigEndian.Uint32(p) & 0x7fffffff
		if inc == 0 {
			if fh.StreamID == 0 {
				return connErr(http2.ErrCodeProtocol, "WINDOW_UPDATE with a zero increment")
			}
			if c.idle(fh.StreamID) {
				return connErr(http2.ErrCodeProtocol, "frame on idle stream")
			}
			return c.streamError(fh.StreamID, http2.ErrCodeProtocol)
		}
		return c.onWindowUpdate(fh.StreamID, inc)
	case http2.FrameContinuation:
		if fh.StreamID == 0 {
			return connErr(http2.ErrCodeProtocol, "CONTINUATION frame with stream ID 0")
		}
		return c.onContinuation(p, fh.Flags.Has(http2.FlagContinuationEndHeaders))
	}
	if fh.StreamID == 0 {
		return connErr(http2.ErrCodeProtocol, "HEADERS frame with stream ID 0")
	}
	pad := 0
	if fh.Flags.Has(http2.FlagHeadersPadded) {
		if len(p) < 1 {
			return connErr(http2.ErrCodeFrameSize, "HEADERS frame too short for its pad length")
		}
		pad, p = int(p[0]), p[1:]
	}
	prioSelf := false
	if fh.Flags.Has(http2.FlagHeadersPriority) {
		if len(p) < 5 {
			return connErr(http2.ErrCodeFrameSize, "HEADERS frame too short for its priority")
		}
		prioSelf = binary.BigEndian.Uint32(p)&0x7fffffff == fh.StreamID
		p = p[5:]
	}
	if pad > len(p) {
		// The header block is lost with the frame: a connection error.
		return connErr(http2.ErrCodeProtocol, "HEADERS padding longer than the payload")
	}
	return c.onHeaders(fh.StreamID, fh.Flags.Has(http2.FlagHeadersEndStream), prioSelf,
		p[:len(p)-pad], fh.Flags.Has(http2.FlagHeadersEndHeaders))
}

// idle reports whether id names a stream the peer has not opened.
func (c *Conn) idle(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return id == 0 || id%2 == 0 || id > c.maxClientID
}

// streamError resets stream id with code (RFC 9113 5.4.2).
func (c *Conn) streamError(id uint32, code ErrCode) error {
	c.mu.Lock()
	if s := c.streams[id]; s != nil {
		if !s.reset {
			s.reset, s.resetCode = true, code
		}
		s.data, s.off = nil, 0
		c.removeLocked(s)
		c.broadcastLocked()
	}
	c.mu.Unlock()
	return c.write(func(fr *http2.Framer) error { return fr.WriteRSTStream(id, code) })
}

// sendCredit writes WINDOW_UPDATE frames for non-zero increments.
func (c *Conn) sendCredit(connInc, streamInc int64, id uint32) error {
	if connInc == 0 && streamInc == 0 {
		return nil
	}
	return c.write(func(fr *http2.Framer) error {
		if connInc > 0 {
			if err := fr.WriteWindowUpdate(0, uint32(connInc)); err != nil {
				return err
			}
		}
		if streamInc > 0 {
			return fr.WriteWindowUpdate(id, uint32(streamInc))
		}
		return nil
	})
}

// connCreditLocked returns n received bytes to the connection window.
// The connection window is credited on receipt, not on consumption: stream
// windows already bound what is buffered (MaxConcurrentStreams times
// InitialWindowSize), and a connection window tied to what the one worker
// consumed would let streams waiting for the worker starve the stream it is
// reading. Batched: a WINDOW_UPDATE goes out once half the window is owed.
func (c *Conn) connCreditLocked(n int64) int64 {
	c.connInUnsent += n
	if c.connInUnsent < max(int64(c.cfg.ConnWindowSize)/2, 1) {
		return 0
	}
	inc := c.connInUnsent
	c.connIn += inc
	c.connInUnsent = 0
	return inc
}

// streamCreditLocked returns n consumed (or discarded) bytes to s's window
// if the peer may still send on s; a WINDOW_UPDATE goes out once half the
// window is owed. With at most half a window owed and nothing buffered the
// peer can always send, so the batching never stalls a reader.
func (c *Conn) streamCreditLocked(s *stream, n int64) int64 {
	if s.remoteDone || s.reset {
		return 0
	}
	s.inUnsent += n
	if s.inUnsent < max(int64(c.cfg.InitialWindowSize)/2, 1) {
		return 0
	}
	inc := s.inUnsent
	s.inWin += inc
	s.inUnsent = 0
	return inc
}

func (c *Conn) onData(f *http2.DataFrame) error {
	id := f.StreamID
	n := int64(f.Length)
	data := f.Data()
	if n == 0 && !f.StreamEnded() && !c.empties.take(time.Now()) {
		return connErr(http2.ErrCodeEnhanceYourCalm, "empty DATA flood")
	}
	c.mu.Lock()
	if id%2 == 0 || id > c.maxClientID {
		c.mu.Unlock()
		return connErr(http2.ErrCodeProtocol, "DATA on idle stream")
	}
	if n > c.connIn {
		c.mu.Unlock()
		return connErr(http2.ErrCodeFlowControl, "connection window exceeded")
	}
	c.connIn -= n
	ci := c.connCreditLocked(n)
	s := c.streams[id]
	if s == nil || s.reset || s.remoteDone {
		// Closed or half-closed (remote): STREAM_CLOSED; the bytes still
		// count against the connection window, so give them back.
		c.mu.Unlock()
		if err := c.sendCredit(ci, 0, 0); err != nil {
			return err
		}
		return c.streamError(id, http2.ErrCodeStreamClosed)
	}
	if n > s.inWin {
		c.mu.Unlock()
		if err := c.sendCredit(ci, 0, 0); err != nil {
			return err
		}
		return c.streamError(id, http2.ErrCodeFlowControl)
	}
	s.inWin -= n
	s.gotLen += int64(len(data))
	if s.declLen >= 0 && (s.gotLen > s.declLen || f.StreamEnded() && s.gotLen != s.declLen) {
		c.mu.Unlock()
		if err := c.sendCredit(ci, 0, 0); err != nil {
			return err
		}
		return c.streamError(id, http2.ErrCodeProtocol)
	}
	// Padding (and discarded bodies) are credited back at once.
	free := n - int64(len(data))
	if s.discard {
		free = n
	} else {
		s.push(data)
	}
	if f.StreamEnded() {
		s.remoteDone = true
		c.removeLocked(s)
	}
	var si int64
	if free > 0 {
		si = c.streamCreditLocked(s, free)
	}
	c.broadcastLocked()
	c.mu.Unlock()
	return c.sendCredit(ci, si, id)
}

func (c *Conn) onField(f hpack.HeaderField) {
	hb := &c.hb
	hb.size += f.Size()
	if hb.size > c.cfg.MaxHeaderListSize {
		hb.tooLarge = true
		clear(hb.fields)
		hb.fields = hb.fields[:0]
		c.hdec.emitting = false
		return
	}
	hb.fields = append(hb.fields, f)
}

// onHeaders starts the header block of a HEADERS frame on stream id.
func (c *Conn) onHeaders(id uint32, endStream, prioSelf bool, frag []byte, endHeaders bool) error {
	if id%2 == 0 {
		return connErr(http2.ErrCodeProtocol, "HEADERS on an even stream")
	}
	// The fields array is the reader's scratch, kept across header blocks:
	// a request's list is copied into its stream at the end of the block.
	c.hb = headerBlock{
		fields:    keptFields(c.hb.fields),
		stream:    id,
		endStream: endStream,
		prioSelf:  prioSelf,
		budget:    2*int(c.cfg.MaxHeaderListSize) + int(c.cfg.MaxFrameSize),
	}
	c.hdec.emitting = true
	return c.fragment(frag, endHeaders)
}

// onContinuation goes on with the header block under way (the Framer has
// checked that one is, on this stream).
func (c *Conn) onContinuation(frag []byte, endHeaders bool) error {
	if len(frag) == 0 && !endHeaders && !c.empties.take(time.Now()) {
		return connErr(http2.ErrCodeEnhanceYourCalm, "empty CONTINUATION flood")
	}
	return c.fragment(frag, endHeaders)
}

// frameCost is what each HEADERS or CONTINUATION frame costs the header
// block budget on top of its payload, so empty frames cannot loop forever.
const frameCost = 256

func (c *Conn) fragment(p []byte, end bool) error {
	c.hb.budget -= len(p) + frameCost
	if c.hb.budget < 0 {
		return connErr(http2.ErrCodeEnhanceYourCalm, "header block too large (CONTINUATION flood)")
	}
	if err := c.hdec.write(p); err != nil {
		if errors.Is(err, hpack.ErrStringLength) {
			return connErr(http2.ErrCodeEnhanceYourCalm, "header field too long")
		}
		return connErr(http2.ErrCodeCompression, err.Error())
	}
	if !end {
		return nil
	}
	if err := c.hdec.close(); err != nil {
		return connErr(http2.ErrCodeCompression, err.Error())
	}
	return c.endHeaders()
}

// endHeaders acts on a complete header block.
func (c *Conn) endHeaders() error {
	hb := &c.hb
	id := hb.stream
	fields := hb.fields
	c.mu.Lock()
	s := c.streams[id]
	if s != nil && !s.closed() {
		// A second header block on an open stream: trailers.
		if s.remoteDone {
			c.mu.Unlock()
			return c.streamError(id, http2.ErrCodeStreamClosed)
		}
		bad := !hb.endStream || hb.tooLarge || hb.prioSelf ||
			s.declLen >= 0 && s.gotLen != s.declLen
		for _, f := range fields {
			if f.IsPseudo() || !validField(f) {
				bad = true
			}
		}
		if bad {
			c.mu.Unlock()
			return c.streamError(id, http2.ErrCodeProtocol)
		}
		s.remoteDone = true
		c.removeLocked(s)
		c.broadcastLocked()
		c.mu.Unlock()
		return nil
	}
	if id <= c.maxClientID {
		c.mu.Unlock()
		return connErr(http2.ErrCodeStreamClosed, "HEADERS on a closed stream")
	}
	c.maxClientID = id
	if c.goAwaySent {
		// RFC 9113 6.8: streams after our GOAWAY are ignored.
		c.mu.Unlock()
		return nil
	}
	if c.activeLocked() >= int(c.cfg.MaxConcurrentStreams) {
		c.mu.Unlock()
		return c.streamError(id, http2.ErrCodeRefusedStream)
	}
	if len(c.streams) >= c.cfg.MaxPendingStreams {
		c.mu.Unlock()
		return connErr(http2.ErrCodeEnhanceYourCalm, "too many streams not yet served (rapid reset)")
	}
	ev := Event{Kind: EventRequest, Stream: id, EndStream: hb.endStream, ContentLength: -1}
	if hb.tooLarge {
		ev.Kind = EventHeaderTooLarge
	} else if hb.prioSelf || !parseRequest(fields, &ev) ||
		hb.endStream && ev.ContentLength > 0 {
		c.mu.Unlock()
		return c.streamError(id, http2.ErrCodeProtocol)
	}
	inWin := int64(c.cfg.InitialWindowSize)
	if !c.settingsAcked {
		// The peer may still be using the RFC's initial 65535.
		inWin = max(inWin, 65535)
	}
	s = c.newStreamLocked()
	s.id, s.remoteDone, s.discard = id, hb.endStream, hb.tooLarge
	s.inWin, s.declLen, s.outWin = inWin, ev.ContentLength, c.peerInitWindow
	if !hb.tooLarge {
		s.fields = append(s.fields, fields...)
		ev.Header = s.fields
	}
	c.streams[id] = s
	c.mu.Unlock()
	c.pending = append(c.pending, ev)
	return nil
}

func (c *Conn) onReset(f *http2.RSTStreamFrame) error {
	if c.idle(f.StreamID) {
		return connErr(http2.ErrCodeProtocol, "RST_STREAM on idle stream")
	}
	if !c.resets.take(time.Now()) {
		return connErr(http2.ErrCodeEnhanceYourCalm, "RST_STREAM flood (rapid reset)")
	}
	c.mu.Lock()
	s := c.streams[f.StreamID]
	if s != nil && !s.reset {
		s.reset, s.resetRemote, s.resetCode = true, true, f.ErrCode
		s.data, s.off = nil, 0
		c.removeLocked(s)
		c.broadcastLocked()
		if !s.released {
			c.pending = append(c.pending, Event{Kind: EventStreamReset, Stream: s.id, Code: f.ErrCode})
		}
	}
	c.mu.Unlock()
	return nil
}

func (c *Conn) onSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		c.settingsAcked = true
		return nil
	}
	if !c.settings.take(time.Now()) {
		return connErr(http2.ErrCodeEnhanceYourCalm, "SETTINGS flood")
	}
	c.sawPeerSettings = true
	// The write mutex is held from applying the settings until the ACK is
	// written, so no DATA sent under a new window precedes the ACK.
	c.wmu.Lock()
	err := f.ForeachSetting(func(s http2.Setting) error {
		if err := s.Valid(); err != nil {
			return err
		}
		return c.applySetting(s)
	})
	if err != nil {
		c.wmu.Unlock()
		return err
	}
	if c.werr == nil {
		c.werr = c.wfr.WriteSettingsAck()
	}
	werr := c.werr
	c.wmu.Unlock()
	if werr != nil {
		c.mu.Lock()
		c.closeLocked(werr)
		c.mu.Unlock()
	}
	return werr
}

// applySetting applies one valid peer setting; the caller holds wmu.
func (c *Conn) applySetting(s http2.Setting) error {
	switch s.ID {
	case http2.SettingHeaderTableSize:
		c.henc.SetMaxDynamicTableSizeLimit(s.Val)
	case http2.SettingInitialWindowSize:
		c.mu.Lock()
		defer c.mu.Unlock()
		delta := int64(s.Val) - c.peerInitWindow
		c.peerInitWindow = int64(s.Val)
		for _, st := range c.streams {
			st.outWin += delta
			if st.outWin > maxWindow {
				return connErr(http2.ErrCodeFlowControl, "stream window overflow")
			}
		}
		c.broadcastLocked()
	case http2.SettingMaxFrameSize:
		c.mu.Lock()
		c.peerMaxFrame = s.Val
		c.mu.Unlock()
	}
	return nil
}

// onWindowUpdate credits the connection's (id 0) or a stream's send window.
func (c *Conn) onWindowUpdate(id, increment uint32) error {
	inc := int64(increment)
	c.mu.Lock()
	if id == 0 {
		c.connOut += inc
		if c.connOut > maxWindow {
			c.mu.Unlock()
			return connErr(http2.ErrCodeFlowControl, "connection window overflow")
		}
		c.broadcastLocked()
		c.mu.Unlock()
		return nil
	}
	if id%2 == 0 || id > c.maxClientID {
		c.mu.Unlock()
		return connErr(http2.ErrCodeProtocol, "WINDOW_UPDATE on idle stream")
	}
	s := c.streams[id]
	if s == nil || s.reset {
		c.mu.Unlock()
		return nil
	}
	s.outWin += inc
	if s.outWin > maxWindow {
		c.mu.Unlock()
		return c.streamError(id, http2.ErrCodeFlowControl)
	}
	c.broadcastLocked()
	c.mu.Unlock()
	return nil
}
