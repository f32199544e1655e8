package h2

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// ClientPreface is what an HTTP/2 client sends first (RFC 9113 3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// EventKind says what ReadFrame is reporting.
type EventKind uint8

const (
	// EventRequest: a complete, validated request header block opened
	// Stream. Hand it to the worker; the body (if !EndStream) is read with
	// ReadData.
	EventRequest EventKind = iota + 1
	// EventHeaderTooLarge: Stream's decoded header list exceeded
	// MaxHeaderListSize. Header is nil; the body is discarded. Answer 431
	// (WriteHeaders with endStream) and call StreamDone.
	EventHeaderTooLarge
	// EventStreamReset: the peer reset Stream (Code), which was handed to
	// the worker and is not yet done: its ReadData and WriteData now fail.
	// StreamDone must still be called for it.
	EventStreamReset
	// EventGoAway: the peer sent GOAWAY (Code, LastStream, Debug). It will
	// open no more streams; finish the open ones, then close.
	EventGoAway
)

func (k EventKind) String() string {
	switch k {
	case EventRequest:
		return "Request"
	case EventHeaderTooLarge:
		return "HeaderTooLarge"
	case EventStreamReset:
		return "StreamReset"
	case EventGoAway:
		return "GoAway"
	}
	return "EventKind(?)"
}

// Event is what ReadFrame returns.
type Event struct {
	Kind   EventKind
	Stream uint32
	// Request: the decoded header list, pseudo-header fields first, and the
	// pseudo-header values. Names are lowercase. The list's array belongs to
	// the stream and is reused for a later stream once this one is done:
	// do not keep Header after StreamDone.
	Header                          []hpack.HeaderField
	Method, Scheme, Authority, Path string
	// Request: the body length from content-length, or -1.
	ContentLength int64
	// Request: no body follows (END_STREAM on the headers).
	EndStream bool
	// StreamReset, GoAway: the peer's error code.
	Code ErrCode
	// GoAway: the last stream the peer says we may have processed, and the
	// debug data.
	LastStream uint32
	Debug      []byte
}

// Upgrade describes the HTTP/1.1 request of an h2c upgrade (RFC 7540 3.2).
type Upgrade struct {
	// Settings is the decoded HTTP2-Settings header (a SETTINGS payload);
	// see DecodeSettingsHeader.
	Settings []byte
	// The request line and Host, as :method, :scheme ("http" if empty),
	// :authority and :path.
	Method, Scheme, Authority, Path string
	// Header holds the request's header fields; names are lowercased, and
	// host, connection, upgrade, http2-settings, keep-alive,
	// proxy-connection, transfer-encoding and te are dropped.
	Header []hpack.HeaderField
	// Body is the whole request body, already read by the HTTP/1.1 layer.
	Body []byte
}

// DecodeSettingsHeader decodes an HTTP2-Settings header value (base64url,
// padding optional) and checks it is a whole number of settings.
func DecodeSettingsHeader(v string) ([]byte, error) {
	v = strings.TrimRight(strings.TrimSpace(v), "=")
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, err
	}
	if len(b)%6 != 0 {
		return nil, errors.New("h2: HTTP2-Settings is not a whole number of settings")
	}
	return b, nil
}

type stream struct {
	id          uint32
	remoteDone  bool // END_STREAM received: half-closed (remote)
	localDone   bool // END_STREAM sent: half-closed (local)
	reset       bool // RST_STREAM sent or received
	resetRemote bool
	resetCode   ErrCode
	released    bool // StreamDone called
	discard     bool // header list too large: drop DATA
	wroteHdrs   bool
	upgraded    bool // h2c stream 1: its body came over HTTP/1.1, no flow credit

	data     []byte // received, unread body bytes: data[off:]
	off      int
	inWin    int64 // what the peer may still send on this stream
	inUnsent int64 // credit consumed, not yet sent in a WINDOW_UPDATE
	declLen  int64 // content-length or -1
	gotLen   int64

	outWin int64 // what we may still send (peer's window)

	// fields holds the request's header list (Event.Header). Its array
	// stays with the stream struct when the struct is recycled, so a
	// connection's requests stop allocating header lists once the first
	// few have grown it.
	fields []hpack.HeaderField
}

func (s *stream) closed() bool { return s.reset || (s.remoteDone && s.localDone) }

func (s *stream) push(p []byte) {
	if s.off > 0 && s.off == len(s.data) {
		s.data, s.off = s.data[:0], 0
	}
	if s.off > 0 && len(s.data)+len(p) > cap(s.data) {
		n := copy(s.data, s.data[s.off:])
		s.data, s.off = s.data[:n], 0
	}
	s.data = append(s.data, p...)
}

// Conn is one HTTP/2 server connection. See the package documentation for
// which goroutine may call what.
type Conn struct {
	cfg Config

	// Reader goroutine only.
	r               io.Reader
	fr              *http2.Framer
	hdec            *hpackDecoder
	hb              headerBlock
	payload         []byte // the frame read by readOwnFrame, grown to the largest
	pending         []Event
	sawPeerSettings bool
	settingsAcked   bool // the peer acknowledged our SETTINGS
	rerr            error
	resets          bucket
	pings           bucket
	settings        bucket
	empties         bucket

	// Lock order: wmu may be held while taking mu, never the reverse.
	mu             sync.Mutex
	wake           chan struct{} // closed and replaced on every change someone waits for
	waiters        int           // goroutines in waitLocked
	streams        map[uint32]*stream
	spare          []*stream // structs of removed streams, for the next ones
	maxClientID    uint32    // highest stream id the peer opened (or tried to)
	connIn         int64     // what the peer may still send on the connection
	connInUnsent   int64
	connOut        int64 // what we may still send on the connection
	peerInitWindow int64
	peerMaxFrame   uint32
	goAwaySent     bool
	goAwayLast     uint32
	closed         bool
	closeErr       error

	wmu  sync.Mutex
	wfr  *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer
	werr error
}

type headerBlock struct {
	stream    uint32
	endStream bool
	prioSelf  bool
	fields    []hpack.HeaderField
	size      uint32
	tooLarge  bool
	budget    int
}

func newConn(r io.Reader, w io.Writer, cfg *Config) *Conn {
	var cf Config
	if cfg != nil {
		cf = *cfg
	}
	cf = cf.withDefaults()
	c := &Conn{
		cfg:            cf,
		r:              r,
		fr:             http2.NewFramer(nil, r),
		wfr:            http2.NewFramer(w, nil),
		wake:           make(chan struct{}),
		streams:        make(map[uint32]*stream),
		connIn:         65535,
		connOut:        65535,
		peerInitWindow: 65535,
		peerMaxFrame:   16384,
		resets:         newBucket(cf.ResetRate),
		pings:          newBucket(cf.PingRate),
		settings:       newBucket(cf.SettingsRate),
		empties:        newBucket(cf.EmptyFrameRate),
	}
	c.fr.SetMaxReadFrameSize(cf.MaxFrameSize)
	// Every frame is handled (its payload copied or decoded) before the
	// next is read, so one struct per frame type serves the connection.
	c.fr.SetReuseFrames()
	c.hdec = newHPACKDecoder(cf.HeaderTableSize, int(cf.MaxHeaderListSize), c.onField)
	c.henc = hpack.NewEncoder(&c.hbuf)
	return c
}

// NewServerConn starts a connection whose client speaks HTTP/2 from the
// first byte (prior knowledge, or TLS with ALPN "h2"). It writes the server
// SETTINGS and reads the client preface through r; bytes the caller already
// read (to detect the preface) must be replayed first by r. A read error
// (such as a deadline: the preface never completed) is returned as is; a
// wrong preface gets GOAWAY PROTOCOL_ERROR and ErrBadPreface. On error the
// caller closes the transport. cfg may be nil.
func NewServerConn(r io.Reader, w io.Writer, cfg *Config) (*Conn, error) {
	c := newConn(r, w, cfg)
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// NewUpgradedConn starts a connection after an h2c upgrade: the caller has
// written "101 Switching Protocols". The peer settings in up.Settings are
// applied, stream 1 is opened half-closed (remote) with up's request and
// body, the server SETTINGS are written and the client preface is read. The
// first ReadFrame returns the Request event for stream 1.
func NewUpgradedConn(r io.Reader, w io.Writer, cfg *Config, up *Upgrade) (*Conn, error) {
	c := newConn(r, w, cfg)
	if len(up.Settings)%6 != 0 {
		return nil, errors.New("h2: HTTP2-Settings is not a whole number of settings")
	}
	for p := up.Settings; len(p) >= 6; p = p[6:] {
		s := http2.Setting{ID: http2.SettingID(uint16(p[0])<<8 | uint16(p[1])),
			Val: uint32(p[2])<<24 | uint32(p[3])<<16 | uint32(p[4])<<8 | uint32(p[5])}
		if err := s.Valid(); err != nil {
			return nil, err
		}
		c.wmu.Lock()
		err := c.applySetting(s)
		c.wmu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	scheme := up.Scheme
	if scheme == "" {
		scheme = "http"
	}
	hdr := []hpack.HeaderField{
		{Name: ":method", Value: up.Method},
		{Name: ":scheme", Value: scheme},
		{Name: ":authority", Value: up.Authority},
		{Name: ":path", Value: up.Path},
	}
	for _, f := range up.Header {
		f.Name = strings.ToLower(f.Name)
		switch f.Name {
		case "host", "connection", "upgrade", "http2-settings", "keep-alive",
			"proxy-connection", "transfer-encoding", "te":
			continue
		}
		hdr = append(hdr, f)
	}
	st := &stream{id: 1, remoteDone: true, upgraded: true, declLen: int64(len(up.Body)),
		inWin: int64(c.cfg.InitialWindowSize), outWin: c.peerInitWindow}
	st.push(up.Body)
	c.streams[1] = st
	c.maxClientID = 1
	c.pending = append(c.pending, Event{Kind: EventRequest, Stream: 1, Header: hdr,
		Method: up.Method, Scheme: scheme, Authority: up.Authority, Path: up.Path,
		ContentLength: int64(len(up.Body)), EndStream: len(up.Body) == 0})
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Conn) start() error {
	set := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		{ID: http2.SettingMaxFrameSize, Val: c.cfg.MaxFrameSize},
		{ID: http2.SettingMaxHeaderListSize, Val: c.cfg.MaxHeaderListSize},
		{ID: http2.SettingEnablePush, Val: 0},
	}
	if c.cfg.InitialWindowSize != 65535 {
		set = append(set, http2.Setting{ID: http2.SettingInitialWindowSize, Val: c.cfg.InitialWindowSize})
	}
	if c.cfg.HeaderTableSize != 4096 {
		set = append(set, http2.Setting{ID: http2.SettingHeaderTableSize, Val: c.cfg.HeaderTableSize})
	}
	err := c.write(func(fr *http2.Framer) error {
		if err := fr.WriteSettings(set...); err != nil {
			return err
		}
		if inc := c.cfg.ConnWindowSize - 65535; inc > 0 {
			return fr.WriteWindowUpdate(0, inc)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.connIn = int64(c.cfg.ConnWindowSize)
	c.mu.Unlock()
	var buf [len(ClientPreface)]byte
	if _, err := io.ReadFull(c.r, buf[:]); err != nil {
		return err
	}
	if string(buf[:]) != ClientPreface {
		c.write(func(fr *http2.Framer) error {
			return fr.WriteGoAway(0, http2.ErrCodeProtocol, []byte("bad preface"))
		})
		return ErrBadPreface
	}
	return nil
}

// write runs fn with the write framer under the write mutex. A write error
// is sticky and ends the connection.
func (c *Conn) write(fn func(fr *http2.Framer) error) error {
	c.wmu.Lock()
	err := c.werr
	if err == nil {
		err = fn(c.wfr)
		c.werr = err
	}
	c.wmu.Unlock()
	if err != nil {
		c.mu.Lock()
		c.closeLocked(err)
		c.mu.Unlock()
	}
	return err
}

// closeLocked marks the connection over and wakes every waiter.
func (c *Conn) closeLocked(err error) {
	if !c.closed {
		c.closed = true
		c.closeErr = err
	}
	c.broadcastLocked()
}

// broadcastLocked wakes the goroutines waiting for a change. With none
// waiting the channel is left as it is: a DATA or WINDOW_UPDATE frame
// nobody is blocked on then costs no new channel.
func (c *Conn) broadcastLocked() {
	if c.waiters == 0 {
		return
	}
	close(c.wake)
	c.wake = make(chan struct{})
}

// waitLocked sleeps until the next change or the deadline; it returns
// os.ErrDeadlineExceeded once the deadline has passed.
func (c *Conn) waitLocked(deadline time.Time) error {
	var timer *time.Timer
	var tc <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return errDeadline
		}
		timer = time.NewTimer(d)
		tc = timer.C
	}
	ch := c.wake
	c.waiters++
	c.mu.Unlock()
	select {
	case <-ch:
	case <-tc:
	}
	if timer != nil {
		timer.Stop()
	}
	c.mu.Lock()
	c.waiters--
	return nil
}

// Close ends the connection for the engine: every blocked and later
// ReadData, WriteData, WriteHeaders returns ErrConnClosed. It does no I/O;
// the caller closes the transport (which ends a blocked ReadFrame).
func (c *Conn) Close() {
	c.mu.Lock()
	c.closeLocked(ErrConnClosed)
	c.mu.Unlock()
}

// Streams reports how many streams are in the table: open, or handed to the
// worker and not yet done. After GoAway, the connection may be closed when
// it reaches zero.
func (c *Conn) Streams() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.streams)
}

// Alive reports whether stream id is in the table and not reset: a worker
// can skip a queued request whose stream died before it got to it (it must
// still call StreamDone).
func (c *Conn) Alive(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.streams[id]
	return s != nil && !s.reset && !c.closed
}

// removeLocked drops s from the table once closed and released, and keeps
// its struct for a later stream. Nothing refers to a stream after that: the
// worker released it, and the reader looks streams up by id. Calling it
// again for a struct already removed (or recycled) does nothing wrong, since
// only a closed and released stream is ever removed.
func (c *Conn) removeLocked(s *stream) {
	if !s.closed() || !s.released || c.streams[s.id] != s {
		return
	}
	delete(c.streams, s.id)
	if len(c.spare) < maxSpareStreams {
		*s = stream{fields: keptFields(s.fields)}
		c.spare = append(c.spare, s)
	}
}

// maxSpareStreams bounds the stream structs a connection keeps for reuse:
// enough for a client that keeps a few streams in flight, small enough
// that an idle connection holds little.
const maxSpareStreams = 8

// maxKeptFields bounds the header list arrays kept for reuse, so one
// request with hundreds of fields does not pin their room for the life of
// the connection.
const maxKeptFields = 64

// keptFields empties a header list for reuse, dropping references to the
// strings of the request it held, or returns nil when it is too large to
// keep.
func keptFields(f []hpack.HeaderField) []hpack.HeaderField {
	if cap(f) > maxKeptFields {
		return nil
	}
	clear(f)
	return f[:0]
}

// newStreamLocked returns a zeroed stream struct, recycled when one is
// spare, with the header list array of its previous use.
func (c *Conn) newStreamLocked() *stream {
	if n := len(c.spare); n > 0 {
		s := c.spare[n-1]
		c.spare[n-1] = nil
		c.spare = c.spare[:n-1]
		return s
	}
	return new(stream)
}

func (c *Conn) activeLocked() int {
	n := 0
	for _, s := range c.streams {
		if !s.closed() {
			n++
		}
	}
	return n
}
