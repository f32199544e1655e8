// Package httpd_ssl is ESP-IDF's esp_https_server for Go: it starts an
// httpd server whose sessions run over crypto/tls.
//
// Like esp_https_server it uses nothing but httpd's public hooks: the open
// callback wraps each session's connection in a *tls.Conn kept as the
// session's transport context, the recv/send/pending overrides move every
// byte through it, and the close callback and context free function end it.
// Start returns the ordinary *httpd.Handle, so every httpd API works on it.
package httpd_ssl

import (
	"crypto/tls"
	"strconv"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TransportMode selects TLS or plain HTTP (httpd_ssl_transport_mode_t).
type TransportMode int

const (
	// TransportSecure serves HTTPS on PortSecure.
	TransportSecure TransportMode = iota
	// TransportInsecure serves plain HTTP on PortInsecure with the same
	// handlers, for testing or trusted networks.
	TransportInsecure
)

// UserCbState says when the user callback runs (httpd_ssl_user_cb_state_t).
type UserCbState int

const (
	// UserCbSessCreate: a session completed its TLS handshake, and the
	// open callback (Config.Httpd.OpenFn) accepted it.
	UserCbSessCreate UserCbState = iota
	// UserCbSessClose: a session reported with UserCbSessCreate is
	// closing, after the close callback and the session context's free
	// function, before close_notify.
	UserCbSessClose
	// UserCbSessError: a session's TLS handshake failed or timed out
	// (UserCbArg.Err says why). Neither the open callback nor
	// UserCbSessCreate runs for it, and no UserCbSessClose follows; the
	// close callback runs next.
	UserCbSessError
)

// String returns ESP-IDF's name without the HTTPD_SSL_USER_CB_ prefix.
func (s UserCbState) String() string {
	switch s {
	case UserCbSessCreate:
		return "SESS_CREATE"
	case UserCbSessClose:
		return "SESS_CLOSE"
	case UserCbSessError:
		return "SESS_ERROR"
	}
	return "UserCbState(" + strconv.Itoa(int(s)) + ")"
}

// UserCbArg is what the user callback receives (esp_https_server_user_cb_arg_t).
type UserCbArg struct {
	State  UserCbState
	Handle *httpd.Handle
	// Sockfd is the session. It is still open during the call, so
	// Handle.SessConn(Sockfd).RemoteAddr() names the client, also for
	// UserCbSessError.
	Sockfd int
	// TLS is the connection state: peer certificates, version, cipher
	// suite, negotiated ALPN protocol, and whether the session was resumed
	// from a ticket. It stands for ESP-IDF's esp_tls_t handle. For
	// UserCbSessError it holds what the failed handshake got to.
	TLS tls.ConnectionState
	// Err is why the handshake failed, for UserCbSessError (ESP-IDF's
	// esp_tls last error); it matches os.ErrDeadlineExceeded when the
	// handshake did not finish within Config.HandshakeTimeout. nil for the
	// other states.
	Err error
}

// Config is httpd_ssl_config_t. Start from DefaultConfig.
type Config struct {
	// Httpd is the underlying server's config; its ServerPort is replaced
	// by PortSecure or PortInsecure.
	Httpd httpd.Config

	// ServerCert is the server's certificate chain, PEM (servercert).
	ServerCert []byte
	// PrivateKey is the server certificate's key, PEM (prvtkey_pem).
	PrivateKey []byte
	// CACert, when set, makes client certificates mandatory: each must
	// verify against these PEM certificates (cacert_pem: mutual TLS).
	CACert []byte

	// TransportMode chooses TLS or plain HTTP (transport_mode).
	TransportMode TransportMode
	// PortSecure and PortInsecure are the ports for each mode
	// (port_secure 443, port_insecure 80). 0 picks an ephemeral port.
	PortSecure   uint16
	PortInsecure uint16

	// SessionTickets lets clients resume sessions with TLS session tickets
	// (session_tickets). On by default, unlike ESP-IDF: clients of a host
	// expect to resume, and a full handshake costs the server several times
	// the CPU of a resumed one. Set it to false for ESP-IDF's behaviour
	// (every connection a full handshake, no ticket key in memory).
	SessionTickets bool
	// CertSelect, when set, picks the certificate for each handshake, for
	// example by SNI (cert_select_cb). ServerCert may then be empty.
	CertSelect func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// ALPNProtos are the application protocols offered, in preference
	// order (alpn_protos). nil means "h2", "http/1.1" when Httpd.HTTP2 is
	// on, and "http/1.1" alone when it is off.
	ALPNProtos []string
	// MinVersion is the lowest TLS version accepted; TLS 1.2 by default.
	MinVersion uint16
	// MaxVersion, when set, is the highest TLS version accepted; 0 means
	// the highest crypto/tls supports. Equal to MinVersion it pins one
	// version, as ESP-IDF's tls_version does (ESP_TLS_VER_TLS_1_3 is
	// MinVersion = MaxVersion = tls.VersionTLS13).
	MaxVersion uint16
	// ClientCertOptional, with CACert, serves a client that sends no
	// certificate, and still verifies one that does
	// (client_cert_authmode_optional): a certificate that does not verify
	// against CACert fails the handshake. Without CACert it has no effect.
	ClientCertOptional bool
	// HandshakeTimeout bounds a session's TLS handshake from the moment it
	// opens, idle time before the ClientHello included.
	HandshakeTimeout time.Duration

	// UserCb is called on the worker goroutine (user_cb): when a session
	// completes its handshake, after the open callback and before its first
	// request is served (UserCbSessCreate); when a handshake fails
	// (UserCbSessError), before the close callback; and when a created
	// session closes (UserCbSessClose).
	UserCb func(*UserCbArg)
}

// DefaultConfig returns HTTPD_SSL_CONFIG_DEFAULT(): the httpd defaults with 4
// open sockets and LRU purge on (TLS sessions are long-lived and costly, so
// purging the least recently used one prevents pool exhaustion), secure
// transport on port 443. Session tickets are on, where ESP-IDF's default has
// them off (see Config.SessionTickets; cfg.SessionTickets = false restores
// ESP-IDF's value).
func DefaultConfig() Config {
	hc := httpd.DefaultConfig()
	hc.ServerPort = 0
	hc.CtrlPort = 32769
	hc.MaxOpenSockets = 4
	hc.LRUPurgeEnable = true
	return Config{
		Httpd:            hc,
		TransportMode:    TransportSecure,
		PortSecure:       443,
		PortInsecure:     80,
		MinVersion:       tls.VersionTLS12,
		HandshakeTimeout: 10 * time.Second,
		SessionTickets:   true,
	}
}
