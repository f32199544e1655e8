// Command https_server is a port of ESP-IDF's
// examples/protocols/https_server/simple: GET / answers "<h1>Hello Secure
// World!</h1>" over TLS, and the user callback logs each session's socket,
// cipher suite and client certificate, and the address of a client whose
// handshake failed.
//
// Without certificate flags it makes a self-signed certificate for
// localhost at start-up and prints its SHA-256 fingerprint:
//
//	go run ./examples/https_server [-host 127.0.0.1] [-port 8080]
//	go run ./examples/https_server -cert server.pem -key key.pem [-ca clients-ca.pem]
//
// -ca requires client certificates signed by that CA (mutual TLS).
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// server holds the example's logger (the C example's TAG).
type server struct{ log *slog.Logger }

func (s *server) rootGetHandler(r *httpd.Req) error {
	r.RespSetType("text/html")
	return r.RespSendStr("<h1>Hello Secure World!</h1>")
}

// userCallback logs the session as https_server_user_callback does.
func (s *server) userCallback(arg *httpd_ssl.UserCbArg) {
	log := s.log
	log.Info("User callback invoked!")
	switch arg.State {
	case httpd_ssl.UserCbSessCreate:
		log.Debug("At session creation")
		log.Info("Socket FD: " + strconv.Itoa(arg.Sockfd))
		log.Info("Current Ciphersuite: " + tls.CipherSuiteName(arg.TLS.CipherSuite))
	case httpd_ssl.UserCbSessClose:
		log.Debug("At session close")
		if len(arg.TLS.PeerCertificates) == 0 {
			log.Info("Could not obtain the peer certificate")
			return
		}
		c := arg.TLS.PeerCertificates[0]
		log.Info("Peer certificate info:")
		log.Info(fmt.Sprintf("cert. version     : %d", c.Version))
		log.Info("serial number     : " + c.SerialNumber.String())
		log.Info("issuer name       : " + c.Issuer.String())
		log.Info("subject name      : " + c.Subject.String())
		log.Info("issued  on        : " + c.NotBefore.UTC().Format("2006-01-02 15:04:05"))
		log.Info("expires on        : " + c.NotAfter.UTC().Format("2006-01-02 15:04:05"))
	case httpd_ssl.UserCbSessError:
		log.Debug("At session error (handshake failed)")
		// The session is still open: its address names the failing client.
		if c := arg.Handle.SessConn(arg.Sockfd); c != nil {
			if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
				log.Warn("SSL handshake failed from client IP: " + a.IP.String())
			}
		}
	default:
		log.Error("Illegal state!")
	}
}

// options are the example's command-line choices.
type options struct {
	host           string
	port           uint16
	cert, key, ca  []byte
	sessionTickets bool
}

// startWebserver starts the HTTPS server and registers GET /.
func startWebserver(o options, log *slog.Logger) (*httpd.Handle, error) {
	s := &server{log: log}
	log.Info("Starting server")
	conf := httpd_ssl.DefaultConfig()
	conf.Httpd.Host = o.host
	conf.Httpd.Logger = espconsole.WithTag(log, "esp_https_server")
	conf.PortSecure = o.port
	conf.ServerCert, conf.PrivateKey, conf.CACert = o.cert, o.key, o.ca
	conf.SessionTickets = o.sessionTickets
	conf.UserCb = s.userCallback
	h, err := httpd_ssl.Start(conf)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		return nil, err
	}
	log.Info("Registering URI handlers")
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/", Method: httpd.GET, Handler: s.rootGetHandler}); err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

func main() {
	p := exmain.New("https_server", "example")
	certFile := flag.String("cert", "", "server certificate chain, PEM (default: a fresh self-signed one)")
	keyFile := flag.String("key", "", "server private key, PEM")
	caFile := flag.String("ca", "", "CA certificate, PEM: require client certificates it signed")
	tickets := flag.Bool("tickets", httpd_ssl.DefaultConfig().SessionTickets,
		"TLS session tickets (-tickets=false: ESP-IDF's default, every connection a full handshake)")
	p.Parse()

	p.Exit(p.Serve("", func() (exmain.Server, error) {
		o := options{host: p.Host, port: p.Port, sessionTickets: *tickets}
		var err error
		if *certFile == "" {
			o.cert, o.key = httpd_ssl.SelfSigned("localhost", "127.0.0.1", "::1")
			p.Log.Info("Generated a self-signed certificate for localhost, SHA-256 fingerprint " + httpd_ssl.Fingerprint(o.cert))
		} else if o.cert, o.key, err = readPair(*certFile, *keyFile); err != nil {
			return nil, err
		}
		if *caFile != "" {
			if o.ca, err = os.ReadFile(*caFile); err != nil {
				return nil, err
			}
		}
		return startWebserver(o, p.Log)
	}))
}

// readPair reads the -cert and -key files.
func readPair(certFile, keyFile string) (cert, key []byte, err error) {
	if keyFile == "" {
		return nil, nil, fmt.Errorf("-cert needs -key")
	}
	if cert, err = os.ReadFile(certFile); err != nil {
		return nil, nil, err
	}
	key, err = os.ReadFile(keyFile)
	return cert, key, err
}
