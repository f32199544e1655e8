// Command http2_server ports Zephyr's samples/net/sockets/http_server to
// this API, whole: a gzip-compressed page at / with its script at /main.js,
// /dynamic (echo: GET, POST, PUT, PATCH, DELETE), /uptime, /led (a JSON
// POST), a WebSocket echo at /ws_echo and the WebSocket at / that pushes
// statistics to the page; plus /headers, which lists the request's header
// fields as JSON. One port serves HTTP/1.1, HTTP/2 with prior knowledge and
// h2c upgrade; with -tls it serves HTTPS with ALPN h2 and a self-signed
// certificate made at start-up.
//
//	go run ./examples/http2_server [-host 127.0.0.1] [-port 8080] [-tls] [-v]
//	curl --http2-prior-knowledge --compressed http://127.0.0.1:8080/
//	nghttp -nv http://127.0.0.1:8080/headers
package main

import (
	"flag"
	"log/slog"
	"os"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// options are the command line.
type options struct {
	host      string
	port      uint16
	tls       bool
	cert, key []byte
}

// startServer starts the service and registers the sample's resources.
func startServer(o options, log *slog.Logger) (*httpd.Handle, error) {
	cfg := httpd.ServiceConfig(o.host, o.port, 16, 16) // h2load opens 10 connections at once
	cfg.Logger = espconsole.WithTag(log, "httpd")
	var h *httpd.Handle
	var err error
	if o.tls {
		sc := httpd_ssl.DefaultConfig()
		sc.Httpd = cfg
		sc.Httpd.LRUPurgeEnable = true
		sc.PortSecure = o.port
		sc.ServerCert, sc.PrivateKey = o.cert, o.key
		h, err = httpd_ssl.Start(sc)
	} else {
		h, err = httpd.Start(cfg)
	}
	if err != nil {
		return nil, err
	}
	s := &sample{log: log, started: time.Now()}
	if err := s.register(h); err != nil {
		h.Stop()
		return nil, err
	}
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	log.Info("serving " + scheme + " (HTTP/1.1 and HTTP/2) on " + h.Addr().String())
	return h, nil
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := exmain.Port("port", 8080, "TCP port (1-65535)")
	useTLS := flag.Bool("tls", false, "serve HTTPS (ALPN h2) with a self-signed certificate")
	verbose := flag.Bool("v", false, "debug logging (the data /dynamic receives)")
	flag.Parse()
	stop := exmain.StopRequested()
	log := exmain.Logger(os.Stderr, "net_http_server_sample", *verbose)
	o := options{host: *host, port: *port, tls: *useTLS}
	if o.tls {
		o.cert, o.key = httpd_ssl.SelfSigned("localhost", *host)
		log.Info("self-signed certificate, SHA-256 fingerprint " + httpd_ssl.Fingerprint(o.cert))
	}
	h, err := startServer(o, log)
	if err != nil {
		log.Error("cannot start: " + err.Error())
		os.Exit(1)
	}
	<-stop
	h.Stop()
}
