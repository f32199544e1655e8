// Command http2_server ports Zephyr's samples/net/sockets/http_server to
// this API, whole: a gzip-compressed page at / with its script at /main.js,
// /dynamic (echo: GET, POST, PUT, PATCH, DELETE), /uptime, /led (a JSON
// POST), a WebSocket echo at /ws_echo and the WebSocket at / that pushes
// statistics to the page; plus /headers, which lists the request's header
// fields as JSON. One port serves HTTP/1.1, HTTP/2 with prior knowledge and
// h2c upgrade; with -tls it serves HTTPS with ALPN h2 and a self-signed
// certificate made at start-up. Log lines print in the ESP-IDF console
// format the other examples use, under the sample's log module,
// net_http_server_sample (with -v also debug lines: the data /dynamic
// receives); the server's own lines carry the tag "httpd". SIGINT or SIGTERM stops the server.
//
//	go run ./examples/http2_server [-host 127.0.0.1] [-port 8080] [-tls] [-v]
//	curl --http2-prior-knowledge --compressed http://127.0.0.1:8080/
//	nghttp -nv http://127.0.0.1:8080/headers
package main

import (
	"flag"
	"fmt"
	"log/slog"
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

// tag is the sample's log module (LOG_MODULE_REGISTER).
const tag = "net_http_server_sample"

func main() {
	p := exmain.New("http2_server", tag)
	useTLS := flag.Bool("tls", false, "serve HTTPS (ALPN h2) with a self-signed certificate")
	p.Parse()
	p.Exit(p.Serve("", func() (exmain.Server, error) {
		o := options{host: p.Host, port: p.Port, tls: *useTLS}
		if o.tls {
			o.cert, o.key = httpd_ssl.SelfSigned("localhost", p.Host)
			p.Log.Info("self-signed certificate, SHA-256 fingerprint " + httpd_ssl.Fingerprint(o.cert))
		}
		h, err := startServer(o, p.Log)
		if err != nil {
			return nil, fmt.Errorf("cannot start: %w", err)
		}
		return h, nil
	}))
}
