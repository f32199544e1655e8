package bench

import (
	"crypto/tls"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// SelfSigned is a fresh self-signed certificate for 127.0.0.1 and
// localhost, made when a server starts: the load tools do not verify it.
func SelfSigned() (certPEM, keyPEM []byte) {
	return httpd_ssl.SelfSigned("localhost", "127.0.0.1")
}

// tlsConfig is net/http's and fasthttp's TLS configuration: crypto/tls's
// defaults, with tickets as o says. Both resume by default.
func tlsConfig(o Options) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(o.Cert, o.Key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates:           []tls.Certificate{cert},
		SessionTicketsDisabled: o.Tickets == TicketsOff,
	}, nil
}

// startESPTransport starts an esphttpd handle with cfg, through httpd_ssl
// when o.TLS is set: its defaults (tickets on, AEAD suites, TLS 1.2
// minimum, ALPN h2 and http/1.1) except for the ticket policy and for cfg.
func startESPTransport(cfg httpd.Config, o Options) (*httpd.Handle, error) {
	if !o.TLS {
		return httpd.Start(cfg)
	}
	sc := httpd_ssl.DefaultConfig()
	sc.Httpd = cfg
	sc.PortSecure = cfg.ServerPort
	sc.ServerCert, sc.PrivateKey = o.Cert, o.Key
	if o.Tickets != TicketsDefault {
		sc.SessionTickets = o.Tickets == TicketsOn
	}
	return httpd_ssl.Start(sc)
}
