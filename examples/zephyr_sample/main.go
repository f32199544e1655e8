// Command zephyr_sample is Zephyr 1.7's samples/net/http_server as a
// Zephyr 3.7 port of it would be written, with HTTP resources
// (RegisterResource): a URL table with a soft-404 default, /headers
// printing the request's header fields as HTML, /index.html answering "It
// Works!", every response chunked, and an HTTPS server side by side that
// serves only /index.html. Log lines print in the ESP-IDF console format
// the other examples use, under the sample's module, http_server; the
// servers' own lines carry the tags "httpd" and "httpd_ssl". SIGINT or
// SIGTERM stops both servers.
//
//	go run ./examples/zephyr_sample [-host 127.0.0.1] [-port 8080] [-tls-port 8443] [-v]
package main

import (
	"errors"
	"fmt"
	"html"
	"log/slog"
	"runtime"
	"strconv"
	"strings"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

const (
	htmlHeader = "<html>\r\n<head>\r\n<title>Zephyr HTTP Server</title>\r\n</head>\r\n<body>\r\n"
	htmlFooter = "</body>\r\n</html>\r\n"
)

// pages is a Zephyr 3.7 dynamic resource callback that answers a page
// built from the request, a Buffer at a time: the 3.7 API sends what the
// callback wrote into its buffer and calls it again while it returns more
// than 0. GET is answered in one go on the worker, so one state serves.
type pages struct {
	build func(r *httpd.Req) []string // the page's parts, as the sample's http_write calls
	rest  []byte                      // what is left to send; nil between requests
}

func (p *pages) callback(r *httpd.Req, status httpd.DataStatus, _ []byte, userData any) (int, error) {
	if status != httpd.DataFinal {
		return 0, nil // no body is expected; the sample ignores one
	}
	if p.rest == nil {
		p.rest = []byte(strings.Join(p.build(r), ""))
	}
	buf := userData.([]byte)
	n := copy(buf, p.rest)
	p.rest = p.rest[n:]
	if n == 0 {
		p.rest = nil // done: the next request starts afresh
	}
	return n, nil
}

// resource is the dynamic resource that serves build's page.
func resource(build func(r *httpd.Req) []string) *httpd.DynamicResource {
	buf := make([]byte, 1024)
	p := &pages{build: build}
	return &httpd.DynamicResource{
		ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST, httpd.PUT, httpd.DELETE)},
		Callback:       p.callback,
		Buffer:         buf,
		UserData:       buf,
	}
}

// itWorks is http_write_it_works.
func itWorks(*httpd.Req) []string {
	return []string{htmlHeader, "<body><h1><center>It Works!</center></h1></body>\r\n", "</html>\r\n"}
}

// headerFields is http_write_header_fields: the request's header fields,
// method and URL as an HTML page.
func headerFields(r *httpd.Req) []string {
	parts := []string{htmlHeader, "<h1>Zephyr HTTP server</h1>\r\n", "<h2>HTTP Header Fields</h2>\r\n<ul>\r\n"}
	for name, value := range r.HdrAll() {
		parts = append(parts, "<li>"+html.EscapeString(name)+": "+html.EscapeString(value)+"</li>\r\n")
	}
	return append(parts, "</ul>\r\n",
		"<h2>HTTP Method: "+r.Method.String()+"</h2>\r\n",
		"<h2>URL: "+html.EscapeString(r.URI)+"</h2>\r\n",
		"<h2>Server: "+runtime.GOARCH+"</h2>\r\n",
		htmlFooter)
}

// soft404 is http_write_soft_404_not_found: 200 OK with a 404 page.
func soft404(*httpd.Req) []string {
	return []string{htmlHeader, "<body><h1><center>404 Not Found</center></h1></body>\r\n", "</html>\r\n"}
}

// startHTTP starts the HTTP service with the sample's URL table as a
// Zephyr 3.7 port would write it: one dynamic resource per URL, wildcard
// paths (HTTP_URL_STANDARD also served every path below a URL), and a
// catch-all "/*" registered last in place of http_url_default_handler
// (resources match in registration order).
func startHTTP(host string, port uint16, log *slog.Logger) (*httpd.Handle, error) {
	cfg := httpd.ServiceConfig(host, port, 4, 4)
	cfg.Logger = espconsole.WithTag(log, "httpd")
	h, err := httpd.Start(cfg)
	if err != nil {
		return nil, err
	}
	for _, res := range []struct {
		path  string
		build func(*httpd.Req) []string
	}{
		{"/headers", headerFields},
		{"/index.html", itWorks},
		{"/*", soft404},
	} {
		if err := h.RegisterResource(res.path, resource(res.build)); err != nil {
			h.Stop()
			return nil, err
		}
	}
	log.Info("Zephyr HTTP Server")
	log.Info("Address: " + host + ", port: " + strconv.Itoa(h.Port()))
	return h, nil
}

// startHTTPS starts the side-by-side HTTPS server: only /index.html, 404
// for everything else.
func startHTTPS(host string, port uint16, cert, key []byte, log *slog.Logger) (*httpd.Handle, error) {
	cfg := httpd_ssl.DefaultConfig()
	cfg.Httpd.Host = host
	cfg.Httpd.Logger = espconsole.WithTag(log, "httpd_ssl")
	cfg.PortSecure = port
	cfg.ServerCert, cfg.PrivateKey = cert, key
	h, err := httpd_ssl.Start(cfg)
	if err != nil {
		return nil, err
	}
	if err := h.RegisterResource("/index.html", resource(itWorks)); err != nil {
		h.Stop()
		return nil, err
	}
	log.Info("Zephyr HTTPS Server")
	log.Info("Address: " + host + ", port: " + strconv.Itoa(h.Port()))
	return h, nil
}

// tag is the sample's log module.
const tag = "http_server"

func main() {
	p := exmain.New("zephyr_sample", tag)
	tlsPort := exmain.Port("tls-port", 8443, "HTTPS port, self-signed certificate (1-65535)")
	p.Parse()
	p.Exit(p.Serve("", func() (exmain.Server, error) {
		return startServers(p.Host, p.Port, *tlsPort, p.Log)
	}))
}

// startServers starts the HTTP server, then the HTTPS server beside it
// with a fresh self-signed certificate, as the sample's main does. When
// the HTTPS server cannot start, the HTTP server is stopped again. The
// Server returned stops HTTPS, then HTTP.
func startServers(host string, port, tlsPort uint16, log *slog.Logger) (exmain.Server, error) {
	httpH, err := startHTTP(host, port, log)
	if err != nil {
		return nil, err
	}
	cert, key := httpd_ssl.SelfSigned("localhost", host)
	httpsH, err := startHTTPS(host, tlsPort, cert, key, log)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("HTTPS server: %w", err), httpH.Stop())
	}
	return exmain.StopFunc(func() error {
		return errors.Join(httpd_ssl.Stop(httpsH), httpH.Stop())
	}), nil
}
