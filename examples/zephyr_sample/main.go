// Command zephyr_sample is Zephyr 1.7's samples/net/http_server on the
// esphttpd handle: a URL table with a soft-404 default handler, /headers
// printing the request's header fields as HTML, /index.html answering "It
// Works!", every response chunked, and an HTTPS server side by side that
// serves only /index.html.
//
//	go run ./examples/zephyr_sample [-host 127.0.0.1] [-port 8080] [-tls-port 8443]
package main

import (
	"flag"
	"html"
	"log/slog"
	"os"
	"runtime"
	"strconv"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
	"github.com/esphttpd/esphttpd/uri_match"
)

const (
	htmlHeader = "<html>\r\n<head>\r\n<title>Zephyr HTTP Server</title>\r\n</head>\r\n<body>\r\n"
	htmlFooter = "</body>\r\n</html>\r\n"
)

// sendChunks sends each part as a chunk, then ends the response, as the
// sample's http_write helpers do.
func sendChunks(r *httpd.Req, parts ...string) error {
	for _, p := range parts {
		if err := r.RespSendStrChunk(p); err != nil {
			return err
		}
	}
	return r.RespSendStrChunk("")
}

// itWorks is http_write_it_works.
func itWorks(r *httpd.Req) error {
	return sendChunks(r, htmlHeader, "<body><h1><center>It Works!</center></h1></body>\r\n", "</html>\r\n")
}

// headerFields is http_write_header_fields: the request's header fields,
// method and URL as an HTML page.
func headerFields(r *httpd.Req) error {
	parts := []string{htmlHeader, "<h1>Zephyr HTTP server</h1>\r\n", "<h2>HTTP Header Fields</h2>\r\n<ul>\r\n"}
	for name, value := range r.HdrAll() {
		parts = append(parts, "<li>"+html.EscapeString(name)+": "+html.EscapeString(value)+"</li>\r\n")
	}
	parts = append(parts, "</ul>\r\n",
		"<h2>HTTP Method: "+r.Method.String()+"</h2>\r\n",
		"<h2>URL: "+html.EscapeString(r.URI)+"</h2>\r\n",
		"<h2>Server: "+runtime.GOARCH+"</h2>\r\n",
		htmlFooter)
	return sendChunks(r, parts...)
}

// soft404 is http_write_soft_404_not_found: 200 OK with a 404 page, the
// session kept open.
func soft404(r *httpd.Req, _ httpd.ErrCode) error {
	return sendChunks(r, htmlHeader, "<body><h1><center>404 Not Found</center></h1></body>\r\n", "</html>\r\n")
}

// startHTTP starts the HTTP server with the sample's URL table. As in the
// sample, /headers and /index.html also serve any path below them.
func startHTTP(host string, port uint16, log *slog.Logger) (*httpd.Handle, error) {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.URIMatchFn = uri_match.Wildcard
	cfg.Logger = espconsole.WithTag(log, "httpd")
	h, err := httpd.Start(cfg)
	if err != nil {
		return nil, err
	}
	// http_url_default_handler(http_write_soft_404_not_found)
	h.RegisterErrHandler(httpd.Code404NotFound, soft404)
	for _, u := range []*httpd.URI{
		{URI: "/headers/?*", Method: httpd.ANY, Handler: headerFields},
		{URI: "/index.html/?*", Method: httpd.ANY, Handler: itWorks},
	} {
		if err := h.RegisterURIHandler(u); err != nil {
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
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/index.html", Method: httpd.GET, Handler: itWorks}); err != nil {
		h.Stop()
		return nil, err
	}
	log.Info("Zephyr HTTPS Server")
	log.Info("Address: " + host + ", port: " + strconv.Itoa(h.Port()))
	return h, nil
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := exmain.Port("port", 8080, "HTTP port (1-65535)")
	tlsPort := exmain.Port("tls-port", 8443, "HTTPS port, self-signed certificate (1-65535)")
	flag.Parse()
	stop := exmain.StopRequested()
	log := espconsole.New("http_server")
	httpH, err := startHTTP(*host, *port, log)
	if err != nil {
		log.Error(err.Error())
		os.Exit(1)
	}
	cert, key := httpd_ssl.SelfSigned("localhost", *host)
	httpsH, err := startHTTPS(*host, *tlsPort, cert, key, log)
	if err != nil {
		log.Error(err.Error())
		httpH.Stop()
		os.Exit(1)
	}
	<-stop
	httpsH.Stop()
	httpH.Stop()
}
