package httpd_ssl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// Start starts an HTTPS server (httpd_ssl_start), or a plain one in
// TransportInsecure mode. A bad certificate, key or CA fails with an error
// that says which. The open and close callbacks already in cfg.Httpd still
// run: after the TLS layer is set up, and before it is torn down.
func Start(cfg Config) (*httpd.Handle, error) {
	hc := cfg.Httpd
	if cfg.TransportMode == TransportInsecure {
		hc.ServerPort = cfg.PortInsecure
		return httpd.Start(hc)
	}
	if cfg.TransportMode != TransportSecure {
		return nil, fmt.Errorf("%w: httpd_ssl: unknown TransportMode %d", httpd.ErrInvalidArg, cfg.TransportMode)
	}
	if cfg.HandshakeTimeout <= 0 {
		return nil, fmt.Errorf("%w: httpd_ssl: Config.HandshakeTimeout must be positive", httpd.ErrInvalidArg)
	}
	tlsCfg, err := tlsConfig(&cfg)
	if err != nil {
		return nil, err
	}
	srv := &server{cfg: cfg, tls: tlsCfg, log: hc.Logger, userOpen: hc.OpenFn, userClose: hc.CloseFn}
	if srv.log == nil {
		srv.log = slog.New(slog.DiscardHandler)
	}
	hc.ServerPort = cfg.PortSecure
	hc.GlobalTransportCtx = tlsCfg
	hc.GlobalTransportCtxFreeFn = nil
	hc.OpenFn = srv.open
	hc.CloseFn = srv.close
	return httpd.Start(hc)
}

// Stop stops the server (httpd_ssl_stop).
func Stop(h *httpd.Handle) error {
	if h == nil {
		return httpd.ErrInvalidArg
	}
	return h.Stop()
}

// tlsConfig builds the crypto/tls configuration, naming what is wrong.
func tlsConfig(cfg *Config) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:             cfg.MinVersion,
		CipherSuites:           aeadSuites,
		NextProtos:             alpn(cfg),
		SessionTicketsDisabled: !cfg.SessionTickets,
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	switch {
	case cfg.CertSelect != nil:
		sel := cfg.CertSelect
		tc.GetCertificate = sel
	case len(cfg.ServerCert) == 0:
		return nil, fmt.Errorf("%w: httpd_ssl: Config.ServerCert is empty", httpd.ErrInvalidArg)
	case len(cfg.PrivateKey) == 0:
		return nil, fmt.Errorf("%w: httpd_ssl: Config.PrivateKey is empty", httpd.ErrInvalidArg)
	}
	if len(cfg.ServerCert) > 0 || len(cfg.PrivateKey) > 0 {
		cert, err := tls.X509KeyPair(cfg.ServerCert, cfg.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("%w: httpd_ssl: server certificate or private key (ServerCert, PrivateKey): %v",
				httpd.ErrInvalidArg, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if len(cfg.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CACert) {
			return nil, fmt.Errorf("%w: httpd_ssl: Config.CACert holds no PEM certificate", httpd.ErrInvalidArg)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

// alpn returns the protocols to offer: the configured list, or HTTP/2 and
// HTTP/1.1 as the server speaks them.
func alpn(cfg *Config) []string {
	switch {
	case cfg.ALPNProtos != nil:
		return cfg.ALPNProtos
	case cfg.Httpd.HTTP2:
		return []string{"h2", "http/1.1"}
	}
	return []string{"http/1.1"}
}

// aeadSuites are the TLS 1.2 suites offered: forward secret and AEAD only.
// crypto/tls's defaults still include CBC-SHA1 suites. (TLS 1.3's suites
// are all AEAD and not configurable.)
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// server is one HTTPS server's hooks.
type server struct {
	cfg       Config
	tls       *tls.Config
	log       *slog.Logger
	userOpen  httpd.OpenFunc
	userClose httpd.CloseFunc
}

// session is a TLS session: the transport context of an httpd session.
type session struct {
	srv  *server
	h    *httpd.Handle
	fd   int
	raw  net.Conn
	conn *tls.Conn

	handshaken atomic.Bool   // read by the worker while the reader handshakes
	timer      *time.Timer   // closes a session whose handshake is late
	ended      chan struct{} // closed when httpd frees the session
	endOnce    sync.Once

	// Plaintext read ahead of the server: what recv has decrypted but not
	// yet handed out. The pending override reports it.
	buf  []byte
	held []byte

	probe probeConn // the socket as crypto/tls sees it
}

// probeConn is the socket under crypto/tls. While probing, a read returns
// errWouldBlock at once instead of reading: pending uses it to have
// crypto/tls decrypt records it already holds, without a system call, a
// deadline or an allocated error per request.
type probeConn struct {
	net.Conn
	probing bool
}

func (p *probeConn) Read(b []byte) (int, error) {
	if p.probing {
		return 0, errWouldBlock
	}
	return p.Conn.Read(b)
}

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

func (srv *server) open(h *httpd.Handle, fd int) error {
	raw := h.SessConn(fd)
	if raw == nil {
		return httpd.ErrInvalidArg
	}
	// esp_https_server logs this at Info before its (blocking) handshake;
	// here the handshake itself follows in the session's reader.
	srv.log.Info("performing session handshake")
	s := &session{srv: srv, h: h, fd: fd, raw: raw, ended: make(chan struct{})}
	s.probe.Conn = raw
	s.conn = tls.Server(&s.probe, srv.tls)
	h.SessSetTransportCtx(fd, s, s.free)
	h.SessSetRecvOverride(fd, s.recv)
	h.SessSetSendOverride(fd, s.send)
	h.SessSetPendingOverride(fd, s.pending)
	// The handshake runs in the session's reader when the first bytes
	// arrive; a client that never completes it is closed from here, so it
	// cannot hold a session slot for longer than HandshakeTimeout.
	s.timer = time.AfterFunc(srv.cfg.HandshakeTimeout, s.expire)
	if srv.userOpen != nil {
		return srv.userOpen(h, fd)
	}
	return nil
}

// expire closes the session if its handshake has not finished. The check
// runs on the worker, where it cannot race with the session closing and its
// id being reused.
func (s *session) expire() {
	s.h.QueueWork(func() {
		if s.h.SessGetTransportCtx(s.fd) == s && !s.handshaken.Load() {
			s.srv.log.Debug("TLS handshake timed out", "fd", s.fd)
			s.h.SessTriggerClose(s.fd)
		}
	})
}

func (srv *server) close(h *httpd.Handle, fd int) {
	if srv.userClose != nil {
		srv.userClose(h, fd)
	}
	s, ok := h.SessGetTransportCtx(fd).(*session)
	if !ok || !s.handshaken.Load() {
		return
	}
	if cb := srv.cfg.UserCb; cb != nil {
		cb(&UserCbArg{State: UserCbSessClose, Handle: h, Sockfd: fd, TLS: s.conn.ConnectionState()})
	}
}

// free is the transport context's free function: it ends the TLS session
// (a close_notify when the handshake completed) before httpd closes the
// socket.
func (s *session) free(any) {
	s.endOnce.Do(func() { close(s.ended) })
	s.timer.Stop()
	if s.handshaken.Load() {
		s.raw.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		s.conn.Close()
	}
}

// handshake runs on the session's reader goroutine, bounded by
// HandshakeTimeout, then has the worker run the user callback before the
// first request is handed over.
func (s *session) handshake() error {
	s.raw.SetDeadline(time.Now().Add(s.srv.cfg.HandshakeTimeout))
	if err := s.conn.Handshake(); err != nil {
		s.srv.log.Debug("TLS handshake failed", "fd", s.fd, "err", err)
		return err
	}
	s.handshaken.Store(true)
	s.timer.Stop()
	s.raw.SetWriteDeadline(time.Time{})
	s.raw.SetReadDeadline(time.Now().Add(s.srv.cfg.Httpd.RecvWaitTimeout))
	cb := s.srv.cfg.UserCb
	if cb == nil {
		return nil
	}
	ran := make(chan struct{})
	state := s.conn.ConnectionState()
	err := s.h.QueueWork(func() {
		defer close(ran)
		cb(&UserCbArg{State: UserCbSessCreate, Handle: s.h, Sockfd: s.fd, TLS: state})
	})
	if err != nil {
		return err
	}
	select {
	case <-ran:
		return nil
	case <-s.ended:
		return net.ErrClosed
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
		s.takeBuf()
		n, err := s.conn.Read(s.buf)
		if n == 0 {
			s.dropBuf()
			return 0, err
		}
		s.held = s.buf[:n]
	}
	n := copy(p, s.held)
	s.held = s.held[n:]
	s.dropBuf()
	return n, nil
}

// send is the session's send override.
func (s *session) send(_ *httpd.Handle, _ int, p []byte, _ int) (int, error) {
	return s.conn.Write(p)
}

// pending reports plaintext held for the server. crypto/tls may also hold
// whole records it read from the socket but has not decrypted yet (several
// pipelined requests in one segment); a read while the socket is probing
// decrypts those without touching the socket, and leaves the connection
// usable.
func (s *session) pending(*httpd.Handle, int) (int, error) {
	if len(s.held) > 0 || !s.handshaken.Load() {
		return len(s.held), nil
	}
	s.takeBuf()
	s.probe.probing = true
	n, err := s.conn.Read(s.buf)
	s.probe.probing = false
	s.held = s.buf[:n]
	s.dropBuf()
	if n == 0 && err != nil && err != errWouldBlock {
		// EOF or a fatal alert: let the server's next read find it.
		return 1, nil
	}
	return n, nil
}
