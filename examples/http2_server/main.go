// Command http2_server ports the resources of Zephyr's http_server sample
// to this API: a gzip-compressed static index page at /, a dynamic resource
// at /dynamic that echoes the request body, and /headers, which lists the
// request's header fields as JSON. One port serves HTTP/1.1, HTTP/2 with
// prior knowledge and h2c upgrade; with -tls it serves HTTPS with ALPN h2
// and a self-signed certificate made at start-up.
//
//	go run ./examples/http2_server [-host 127.0.0.1] [-port 8080] [-tls]
//	curl --http2-prior-knowledge http://127.0.0.1:8080/
//	nghttp -nv http://127.0.0.1:8080/headers
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"log/slog"
	"os"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

const indexHTML = `<html>
<head><title>Zephyr HTTP Server</title></head>
<body>
<h1>Zephyr HTTP server sample</h1>
<p>Served over HTTP/1.1 or HTTP/2 by esphttpd.</p>
</body>
</html>
`

// gzipped compresses at start-up what Zephyr's build compresses with
// generate_inc_file_for_target(--gzip).
func gzipped(s string) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// echo is the sample's dyn_handler: it returns what it received, so the
// server sends the shared buffer back.
func echo(client *httpd.Req, status httpd.DataStatus, data []byte, _ any) (int, error) {
	if status == httpd.DataAborted {
		return 0, nil
	}
	return len(data), nil
}

// headers answers the request's method, path and header fields as JSON.
func headers(r *httpd.Req) error {
	fields := map[string]string{}
	for name, value := range r.HdrAll() {
		fields[name] = value
	}
	body, err := json.Marshal(struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
	}{r.Method.String(), r.URI, fields})
	if err != nil {
		return err
	}
	r.RespSetType(httpd.TypeJSON)
	return r.RespSend(body)
}

// options are the command line.
type options struct {
	host      string
	port      uint16
	tls       bool
	cert, key []byte
}

// startServer starts the service and registers the resources.
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
	resources := []struct {
		path   string
		detail any
	}{
		{"/", &httpd.StaticResource{
			ResourceDetail: httpd.ResourceDetail{ContentEncoding: "gzip", ContentType: "text/html"},
			Data:           gzipped(indexHTML),
		}},
		{"/dynamic", &httpd.DynamicResource{
			ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
			Callback:       echo,
			Buffer:         make([]byte, 1024),
		}},
	}
	for _, res := range resources {
		if err := h.RegisterResource(res.path, res.detail); err != nil {
			h.Stop()
			return nil, err
		}
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/headers", Method: httpd.ANY, Handler: headers}); err != nil {
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
	flag.Parse()
	stop := exmain.StopRequested()
	log := espconsole.New("net_http_server_sample")
	o := options{host: *host, port: *port, tls: *useTLS}
	if o.tls {
		o.cert, o.key = httpd_ssl.SelfSigned("localhost", *host)
		log.Info("self-signed certificate, SHA-256 fingerprint " + httpd_ssl.Fingerprint(o.cert))
	}
	h, err := startServer(o, log)
	if err != nil {
		log.Error(err.Error())
		os.Exit(1)
	}
	<-stop
	h.Stop()
}
