package httpd_ssl

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// session is a TLS session: the transport context of an httpd session.
type session struct {
	srv  *server
	h    *httpd.Handle
	fd   int
	raw  net.Conn
	conn *tls.Conn

	// settled is set once, by whoever first decides how the handshake
	// ended: the reader (success or failure) or the handshake timer. It
	// makes SESS_CREATE and SESS_ERROR mutually exclusive and each at most
	// once.
	settled    atomic.Bool
	handshaken atomic.Bool // the TLS handshake succeeded; read by the worker and the reader
	// created is set on the worker when SESS_CREATE ran, so that free (also
	// on the worker) reports SESS_CLOSE for exactly the sessions it
	// reported created.
	created bool

	timer   *time.Timer   // closes a session whose handshake is late
	ended   chan struct{} // closed when httpd frees the session
	endOnce sync.Once

	// Plaintext read ahead of the server: what recv has decrypted but not
	// yet handed out. The pending override reports it.
	buf  []byte
	held []byte

	probe probeConn // the socket as crypto/tls sees it
}

// probeConn is the socket under crypto/tls. It reads the socket ahead into
// a pooled buffer (early) and hands crypto/tls at most one record at a
// time, so that crypto/tls never holds bytes past the record it works on:
// with nothing read ahead and no record under way, the session holds
// nothing anywhere, and pending can say so without asking crypto/tls.
// How it reads the socket when nothing is read ahead is its mode.
type probeConn struct {
	net.Conn
	mode    readMode
	now     readNow // the socket's non-blocking read, where the platform has one
	records recordTracker
	// early holds bytes read from the socket that crypto/tls has not
	// been handed yet, in a pooled array (earlyArr) while there are any.
	early    []byte
	earlyArr *[readAhead]byte
}

// readMode is how probeConn reads the socket for crypto/tls.
type readMode uint8

const (
	// modeWait reads as the connection does, under its deadline.
	modeWait readMode = iota
	// modeTry reads without waiting (tryRecv): errWouldBlock when the
	// socket has nothing.
	modeTry
	// modeProbe does not read the socket (pending): crypto/tls decrypts
	// only what was read ahead, without a system call, a deadline or an
	// allocated error, and errWouldBlock stands for the rest.
	modeProbe
)

func (p *probeConn) Read(b []byte) (int, error) {
	if len(p.early) == 0 {
		if p.mode == modeProbe {
			return 0, errWouldBlock
		}
		if err := p.fill(p.mode == modeTry); err != nil {
			return 0, err
		}
	}
	n := copy(b[:min(len(b), p.recordEnd())], p.early)
	p.early = p.early[n:]
	p.records.consume(b[:n])
	if len(p.early) == 0 {
		readAheadPool.Put(p.earlyArr)
		p.early, p.earlyArr = nil, nil
	}
	return n, nil
}

// fill reads the socket into early: without waiting when try is set
// (errWouldBlock when it has nothing), else as the connection reads.
func (p *probeConn) fill(try bool) error {
	arr := readAheadPool.Get().(*[readAhead]byte)
	var n int
	var err error
	if try {
		n, err = p.now.read(arr[:])
	} else {
		n, err = p.Conn.Read(arr[:])
	}
	if n == 0 {
		readAheadPool.Put(arr)
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	p.early, p.earlyArr = arr[:n], arr
	return nil
}

// recordEnd is how many bytes crypto/tls may be handed now: the rest of
// the record under way (its header first), or at a record boundary the
// whole next record once its header is in.
func (p *probeConn) recordEnd() int {
	t := &p.records
	switch {
	case t.left > 0:
		return t.left
	case t.hdrN > 0:
		return len(t.hdr) - t.hdrN
	case len(p.early) >= len(t.hdr):
		return len(t.hdr) + (int(p.early[3])<<8 | int(p.early[4]))
	}
	return len(p.early)
}

// recordTracker follows TLS record boundaries (RFC 8446 5.1: a 5-byte
// header whose last two bytes are the length of what follows).
type recordTracker struct {
	hdr  [5]byte
	hdrN int // header bytes seen of the record under way
	left int // body bytes of the record under way not yet read
}

func (t *recordTracker) consume(b []byte) {
	for len(b) > 0 {
		if t.left > 0 {
			k := min(len(b), t.left)
			t.left -= k
			b = b[k:]
			continue
		}
		k := copy(t.hdr[t.hdrN:], b)
		t.hdrN += k
		b = b[k:]
		if t.hdrN == len(t.hdr) {
			t.left = int(t.hdr[3])<<8 | int(t.hdr[4])
			t.hdrN = 0
		}
	}
}

// midRecord reports whether part of a record has been read.
func (t *recordTracker) midRecord() bool { return t.hdrN > 0 || t.left > 0 }

// errWouldBlock is a temporary timeout, which crypto/tls does not keep as
// the connection's error: the next read goes to the socket as usual.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "httpd_ssl: no buffered TLS record" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// readAhead holds one full TLS record's plaintext.
const readAhead = 16 << 10

// readAheadPool lends read-ahead buffers: a session holds one only while it
// has plaintext to hand out, so an idle TLS session holds none.
var readAheadPool = sync.Pool{New: func() any { return new([readAhead]byte) }}

// takeBuf makes sure the session has its read-ahead buffer.
func (s *session) takeBuf() {
	if s.buf == nil {
		s.buf = readAheadPool.Get().(*[readAhead]byte)[:]
	}
}

// dropBuf lends the read-ahead buffer back once nothing is held in it.
// Only the goroutine reading the session calls it (never free, which can
// run while a read is blocked in the buffer).
func (s *session) dropBuf() {
	if s.buf != nil && len(s.held) == 0 {
		readAheadPool.Put((*[readAhead]byte)(s.buf))
		s.buf, s.held = nil, nil
	}
}

// errOpenRefused ends a session whose user open callback returned an error
// or panicked after its handshake.
var errOpenRefused = errors.New("httpd_ssl: open callback refused the session")

// handshake runs on the session's reader goroutine, bounded by
// HandshakeTimeout. Whatever the outcome, it has the worker run the user's
// code for it (the open callback and SESS_CREATE, or SESS_ERROR) and waits
// for that before the reader goes on, so those come before the session's
// first request or its close callback, in ESP-IDF's order.
func (s *session) handshake() error {
	s.raw.SetDeadline(time.Now().Add(s.srv.cfg.HandshakeTimeout))
	if err := s.conn.Handshake(); err != nil {
		s.fail(err)
		return err
	}
	if !s.settled.CompareAndSwap(false, true) {
		// The timer declared it failed first; the session is closing.
		return os.ErrDeadlineExceeded
	}
	s.handshaken.Store(true)
	s.timer.Stop()
	s.raw.SetWriteDeadline(time.Time{})
	s.raw.SetReadDeadline(time.Now().Add(s.srv.cfg.Httpd.RecvWaitTimeout))
	if s.srv.userOpen == nil && s.srv.cfg.UserCb == nil {
		return nil
	}
	return s.onWorker(s.establish)
}

// establish runs on the worker after a successful handshake, as the end of
// httpd_ssl_open does: the user's open callback, then SESS_CREATE. An error
// from the open callback closes the session (ESP-IDF ignores it; httpd's
// OpenFn contract is that an error refuses the session), without
// SESS_CREATE.
func (s *session) establish() bool {
	if open := s.srv.userOpen; open != nil {
		if err := open(s.h, s.fd); err != nil {
			s.srv.log.Debug("open callback refused the session", "fd", s.fd, "err", err)
			return false
		}
	}
	if cb := s.srv.cfg.UserCb; cb != nil {
		s.created = true
		cb(&UserCbArg{State: UserCbSessCreate, Handle: s.h, Sockfd: s.fd, TLS: s.conn.ConnectionState()})
	}
	return true
}

// fail reports a failed handshake, from the reader: logged at Error and
// passed to the user callback as SESS_ERROR, as httpd_ssl_open's fail path
// does. The close callback follows when the reader returns the error.
func (s *session) fail(err error) {
	if !s.settled.CompareAndSwap(false, true) {
		return // the timer already reported it
	}
	select {
	case <-s.ended:
		return // closed under the handshake (LRU purge, Stop): not the client's failure
	default:
	}
	s.srv.log.Error("esp_tls_create_server_session failed", "fd", s.fd, "err", err)
	if s.srv.cfg.UserCb != nil {
		s.onWorker(func() bool { s.reportError(err); return true })
	}
}

// reportError calls the user callback with SESS_ERROR. Runs on the worker.
func (s *session) reportError(err error) {
	if cb := s.srv.cfg.UserCb; cb != nil {
		cb(&UserCbArg{State: UserCbSessError, Handle: s.h, Sockfd: s.fd, TLS: s.conn.ConnectionState(), Err: err})
	}
}

// expire fails a handshake that has not finished in time, for a client
// that sent nothing (a client that did is also stopped by the reader's
// deadline). The check runs on the worker, where it cannot race with the
// session closing and its id being reused.
func (s *session) expire() {
	s.h.QueueWork(func() {
		if s.h.SessGetTransportCtx(s.fd) != s || !s.settled.CompareAndSwap(false, true) {
			return
		}
		err := fmt.Errorf("httpd_ssl: no TLS handshake within %v: %w", s.srv.cfg.HandshakeTimeout, os.ErrDeadlineExceeded)
		s.srv.log.Error("esp_tls_create_server_session failed", "fd", s.fd, "err", err)
		s.reportError(err)
		s.h.SessTriggerClose(s.fd)
	})
}

// onWorker runs fn on the worker for this session and waits for it. It
// fails when fn returns false or panics (the worker recovers the panic),
// and returns at once, without fn, once the session has ended.
func (s *session) onWorker(fn func() bool) error {
	result := make(chan bool, 1)
	err := s.h.QueueWork(func() {
		ok := false
		defer func() { result <- ok }()
		select {
		case <-s.ended:
			return // closed meanwhile; its id may belong to another session
		default:
		}
		ok = fn()
	})
	if err != nil {
		return err
	}
	select {
	case ok := <-result:
		if !ok {
			return errOpenRefused
		}
		return nil
	case <-s.ended:
		return net.ErrClosed
	}
}

// free is the transport context's free function (httpd_ssl_close): it
// runs after the close callback and the session context's free function,
// reports SESS_CLOSE for a session that was reported created, and ends the
// TLS session (a close_notify when the handshake completed) before httpd
// closes the socket.
func (s *session) free(any) {
	s.endOnce.Do(func() { close(s.ended) })
	s.timer.Stop()
	if cb := s.srv.cfg.UserCb; cb != nil && s.created {
		cb(&UserCbArg{State: UserCbSessClose, Handle: s.h, Sockfd: s.fd, TLS: s.conn.ConnectionState()})
	}
	if s.handshaken.Load() {
		// close_notify only: the socket is httpd's to close, which shuts
		// its write side and drains what the client still sends first, so
		// that the client reads the response rather than a reset.
		s.raw.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		s.conn.CloseWrite()
	}
}

// recv is the session's recv override: it decrypts through the read-ahead
// buffer so that pending can tell the server about plaintext the socket no
// longer shows.
func (s *session) recv(_ *httpd.Handle, _ int, p []byte, _ int) (int, error) {
	if !s.handshaken.Load() {
		if err := s.handshake(); err != nil {
			return 0, err
		}
	}
	if len(s.held) == 0 {
		if len(p) >= readAhead {
			return s.conn.Read(p)
		}
		if err := s.decrypt(modeWait); err != nil {
			return 0, err
		}
	}
	return s.handOut(p), nil
}

// decrypt has crypto/tls decrypt the next record into the read-ahead
// buffer, the socket read as mode says, and holds its plaintext; it
// returns crypto/tls's error when no plaintext came.
func (s *session) decrypt(mode readMode) error {
	s.takeBuf()
	s.probe.mode = mode
	n, err := s.conn.Read(s.buf)
	s.probe.mode = modeWait
	s.held = s.buf[:n]
	if n == 0 {
		s.dropBuf()
		return err
	}
	return nil
}

// handOut copies held plaintext into p.
func (s *session) handOut(p []byte) int {
	n := copy(p, s.held)
	s.held = s.held[n:]
	s.dropBuf()
	return n
}

// tryRecv is the session's TryRecvFunc: recv without waiting for the
// socket. Before the handshake, or with part of a record read (which
// pending then reports, so that the rest is due within RecvWaitTimeout),
// it cannot tell and says so.
func (s *session) tryRecv(_ *httpd.Handle, _ int, p []byte) (int, error) {
	if !s.handshaken.Load() || s.probe.records.midRecord() {
		return 0, nil
	}
	if len(s.held) == 0 && len(s.probe.early) == 0 {
		// Ask the socket before crypto/tls: when nothing has come (a
		// third of the calls under load), its read machinery, a lock and
		// an allocation, is spared.
		if err := s.probe.fill(true); err != nil {
			if err == errWouldBlock {
				return 0, httpd.ErrSockWouldBlock
			}
			return 0, err
		}
	}
	if len(s.held) == 0 {
		if err := s.decrypt(modeTry); err != nil {
			switch {
			case err != errWouldBlock:
				return 0, err
			case s.probe.records.midRecord():
				return 0, nil
			}
			return 0, httpd.ErrSockWouldBlock
		}
	}
	return s.handOut(p), nil
}

// send is the session's send override.
func (s *session) send(_ *httpd.Handle, _ int, p []byte, _ int) (int, error) {
	return s.conn.Write(p)
}

// pending reports plaintext held for the server. Records read ahead but
// not decrypted yet (several pipelined requests in one segment) are
// decrypted in modeProbe, without touching the socket, which leaves the
// connection usable; with nothing read ahead there is nothing to decrypt,
// since crypto/tls is handed one record at a time.
func (s *session) pending(*httpd.Handle, int) (int, error) {
	if len(s.held) > 0 || !s.handshaken.Load() {
		return len(s.held), nil
	}
	if len(s.probe.early) == 0 && !s.probe.records.midRecord() {
		return 0, nil // nothing read ahead, and crypto/tls is handed whole records only
	}
	err := s.decrypt(modeProbe)
	n := len(s.held)
	if n == 0 && err != nil && err != errWouldBlock {
		// EOF or a fatal alert: let the server's next read find it.
		return 1, nil
	}
	if n == 0 && (s.probe.records.midRecord() || len(s.probe.early) > 0) {
		// Part of a record came (tryRecv read it): the rest is due
		// within RecvWaitTimeout, like any request begun.
		return 1, nil
	}
	return n, nil
}
