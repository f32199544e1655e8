package httpd_ssl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// Start starts an HTTPS server (httpd_ssl_start), or a plain one in
// TransportInsecure mode. A bad certificate, key or CA fails with an error
// that says which. The open and close callbacks already in cfg.Httpd still
// run, as esp_https_server runs them: the open callback once a session's
// TLS handshake has succeeded (never for a failed one), the close callback
// for every session that ends.
//
// Like httpd_ssl_start it logs "Starting server" and, once listening,
// "Server listening on port N" at Info on cfg.Httpd.Logger.
func Start(cfg Config) (*httpd.Handle, error) {
	hc := cfg.Httpd
	log := hc.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Info("Starting server")
	if cfg.TransportMode == TransportInsecure {
		hc.ServerPort = cfg.PortInsecure
		return listening(log, hc)
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
	srv := &server{cfg: cfg, tls: tlsCfg, log: log, userOpen: hc.OpenFn, userClose: hc.CloseFn}
	hc.ServerPort = cfg.PortSecure
	hc.GlobalTransportCtx = tlsCfg
	hc.GlobalTransportCtxFreeFn = func(any) { log.Info("Server shuts down, releasing SSL context") }
	hc.OpenFn = srv.open
	hc.CloseFn = srv.close
	return listening(log, hc)
}

// listening starts the httpd server and, when it runs, logs the line
// ESP-IDF's tests read the port from.
func listening(log *slog.Logger, hc httpd.Config) (*httpd.Handle, error) {
	h, err := httpd.Start(hc)
	if err != nil {
		return nil, err
	}
	log.Info("Server listening on port " + strconv.Itoa(h.Port()))
	return h, nil
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
		MaxVersion:             cfg.MaxVersion,
		CipherSuites:           aeadSuites,
		NextProtos:             alpn(cfg),
		SessionTicketsDisabled: !cfg.SessionTickets,
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	if tc.MaxVersion != 0 && tc.MaxVersion < tc.MinVersion {
		return nil, fmt.Errorf("%w: httpd_ssl: Config.MaxVersion %s is below MinVersion %s",
			httpd.ErrInvalidArg, tls.VersionName(tc.MaxVersion), tls.VersionName(tc.MinVersion))
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
		if cfg.ClientCertOptional {
			tc.ClientAuth = tls.VerifyClientCertIfGiven
		}
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
	userOpen  httpd.OpenFunc  // cfg.Httpd.OpenFn: run after a successful handshake
	userClose httpd.CloseFunc // cfg.Httpd.CloseFn: run for every session
}

// open is httpd's open callback: it puts the session under TLS
// (httpd_ssl_open). On ESP-IDF the handshake runs right here, on the server
// task, and the user's open callback and SESS_CREATE follow only when it
// succeeds. Here the handshake runs in the session's reader (see
// session.handshake), which has the worker run those two afterwards, so a
// slow client cannot stall the worker.
func (srv *server) open(h *httpd.Handle, fd int) error {
	raw := h.SessConn(fd)
	if raw == nil {
		return httpd.ErrInvalidArg
	}
	srv.log.Info("performing session handshake")
	s := &session{srv: srv, h: h, fd: fd, raw: raw, ended: make(chan struct{})}
	s.probe.Conn = raw
	s.conn = tls.Server(&s.probe, srv.tls)
	h.SessSetTransportCtx(fd, s, s.free)
	h.SessSetRecvOverride(fd, s.recv)
	h.SessSetSendOverride(fd, s.send)
	h.SessSetPendingOverride(fd, s.pending)
	if s.probe.now.init(raw) {
		h.SessSetTryRecvOverride(fd, s.tryRecv)
	}
	// A client that never sends its ClientHello gives the reader nothing
	// to handshake on; this closes it, so that it cannot hold a session
	// slot for longer than HandshakeTimeout.
	s.timer = time.AfterFunc(srv.cfg.HandshakeTimeout, s.expire)
	return nil
}

// close is httpd's close callback. ESP-IDF's httpd_sess_delete calls the
// user's close_fn for every session, a failed handshake's included; the
// TLS session's own end (SESS_CLOSE, close_notify) comes later, from the
// transport context's free function, as httpd_ssl_close does.
func (srv *server) close(h *httpd.Handle, fd int) {
	if srv.userClose != nil {
		srv.userClose(h, fd)
	}
}
