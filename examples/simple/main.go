// Command simple is a port of ESP-IDF's examples/protocols/http_server/simple
// (main/main.c) to esphttpd: the same URI handlers, responses and console log
// lines, served from a PC instead of a device.
//
// Run it with
//
//	go run ./examples/simple                    # http://127.0.0.1:8080
//	go run ./examples/simple -port 9000 -host 0.0.0.0
//
// and try it as the original's README does:
//
//	curl -v 'http://127.0.0.1:8080/hello?query1=value1' -H 'Test-Header-1: Test-Value-1'
//	curl -X POST --data-binary @anyfile http://127.0.0.1:8080/echo > tmpfile
//	curl -X PUT -d 0 http://127.0.0.1:8080/ctrl   # unregister /hello and /echo
//	curl -X PUT -d 1 http://127.0.0.1:8080/ctrl   # register them back
//	curl -X DELETE http://127.0.0.1:8080/any      # HTTP_ANY handler
//
// Endpoints:
//
//   - GET /hello logs the Host, Test-Header-2 and Test-Header-1 request
//     headers and the query parameters query1, query3 and query2 (raw and
//     decoded), answers "Hello World!" (the handler's user context) with
//     the response headers Custom-Header-1 and Custom-Header-2, then logs
//     "Request headers lost": once a response is sent the request headers
//     are gone.
//   - POST /echo streams the body back in chunks of 100 bytes, logging each.
//   - PUT /ctrl with body "0" unregisters /hello and /echo and installs a
//     custom 404 handler ("/hello URI is not available" keeps the
//     connection open, "/echo URI is not available" and "Some 404 error
//     message" close it); any other body registers them back and restores
//     the default 404.
//   - /any answers "Hello World!" to every method (HTTP_ANY).
//   - GET /basic_auth with -basic-auth (CONFIG_EXAMPLE_BASIC_AUTH): HTTP
//     basic authentication against -basic-auth-user/-basic-auth-password.
//   - GET /sse with -sse (CONFIG_EXAMPLE_ENABLE_SSE_HANDLER): a server-sent
//     event every second. Unlike the original, whose handler loops on the
//     server task and so blocks every other client, the stream runs as an
//     async request (AsyncHandlerBegin) and the server keeps serving.
//
// Like the device, the server purges the least recently used connection
// when all sessions are taken (lru_purge_enable). Log lines print as on the
// ESP-IDF console ("I (1234) example: ..."); the server's own lines carry
// the tag "httpd". SIGINT or SIGTERM stops the server.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
)

// tag is the example's ESP-IDF log tag.
const tag = "example"

// config is what the original takes from menuconfig, plus where to listen.
type config struct {
	Host string
	Port uint16

	BasicAuth         bool   // CONFIG_EXAMPLE_BASIC_AUTH
	BasicAuthUser     string // CONFIG_EXAMPLE_BASIC_AUTH_USERNAME
	BasicAuthPassword string // CONFIG_EXAMPLE_BASIC_AUTH_PASSWORD
	SSE               bool   // CONFIG_EXAMPLE_ENABLE_SSE_HANDLER
}

// defaultConfig is the original's sdkconfig defaults, served on
// 127.0.0.1:8080.
func defaultConfig() config {
	return config{
		Host:              "127.0.0.1",
		Port:              8080,
		BasicAuthUser:     "ESP32",
		BasicAuthPassword: "ESP32Webserver",
	}
}

func main() {
	p := exmain.New("simple", tag)
	cfg := defaultConfig()
	flag.BoolVar(&cfg.BasicAuth, "basic-auth", cfg.BasicAuth, "register GET /basic_auth (CONFIG_EXAMPLE_BASIC_AUTH)")
	flag.StringVar(&cfg.BasicAuthUser, "basic-auth-user", cfg.BasicAuthUser, "user name /basic_auth accepts")
	flag.StringVar(&cfg.BasicAuthPassword, "basic-auth-password", cfg.BasicAuthPassword, "password /basic_auth accepts")
	flag.BoolVar(&cfg.SSE, "sse", cfg.SSE, "register GET /sse (CONFIG_EXAMPLE_ENABLE_SSE_HANDLER)")
	p.Parse()
	cfg.Host, cfg.Port = p.Host, p.Port

	p.Exit(p.Serve("Stopping webserver", func() (exmain.Server, error) {
		h, err := startWebserver(cfg, p.Log)
		if err != nil {
			return nil, err
		}
		return exmain.StopFunc(func() error { return stopWebserver(h, p.Log) }), nil
	}))
}

// stopWebserver stops the server, as the original's disconnect handler
// does, logging a failure.
func stopWebserver(h *httpd.Handle, log *slog.Logger) error {
	if err := h.Stop(); err != nil {
		log.Error("Failed to stop http server")
		return err
	}
	return nil
}

// startWebserver starts the server and registers the URI handlers, as the
// original's start_webserver does. Port 0 picks a free port (h.Port()).
// h.Stop() stops everything it started, SSE streams included.
func startWebserver(cfg config, log *slog.Logger) (*httpd.Handle, error) {
	ex := newExample(log, cfg.BasicAuthUser, cfg.BasicAuthPassword)

	hc := httpd.DefaultConfig()
	hc.Host = cfg.Host
	hc.ServerPort = cfg.Port
	hc.LRUPurgeEnable = true
	hc.Logger = espconsole.WithTag(log, "httpd")
	// The SSE streams are the server's global user context: Stop frees it,
	// which ends the streams and waits for them.
	hc.GlobalUserCtx = ex.sse
	hc.GlobalUserCtxFreeFn = func(any) { ex.sse.stop() }

	// Start the httpd server
	log.Info(fmt.Sprintf("Starting server on port: '%d'", hc.ServerPort))
	h, err := httpd.Start(hc)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		return nil, err
	}
	// Set URI handlers
	log.Info("Registering URI handlers")
	uris := []httpd.URI{ex.hello, ex.echo, ex.ctrl, ex.any}
	if cfg.BasicAuth {
		uris = append(uris, ex.basicAuth)
	}
	if cfg.SSE {
		uris = append(uris, ex.sseURI)
	}
	for i := range uris {
		if err := h.RegisterURIHandler(&uris[i]); err != nil {
			log.Error(fmt.Sprintf("Failed to register %s: %v", uris[i].URI, err))
			h.Stop()
			return nil, err
		}
	}
	return h, nil
}

// errFail stands for ESP_FAIL: a handler returning it has the session closed.
var errFail = errors.New("ESP_FAIL")
