package main

import (
	_ "embed"
	"log/slog"
	"strconv"

	"github.com/esphttpd/esphttpd/httpd"
)

// rootHTML is the portal page (the C example's root.html).
//
//go:embed root.html
var rootHTML []byte

// redirectBody goes with every redirect: iOS needs content in the response
// to detect a captive portal, a bare redirect is not enough.
const redirectBody = "Redirect to the captive portal"

// portal holds the example's logger (the C example's TAG).
type portal struct{ log *slog.Logger }

// rootGetHandler is root_get_handler.
func (p *portal) rootGetHandler(r *httpd.Req) error {
	p.log.Info("Serve root")
	r.RespSetType("text/html")
	return r.RespSend(rootHTML)
}

// http404ErrorHandler is http_404_error_handler: every unknown URI is
// redirected to the root page, which is how an operating system's
// captive-portal probe (for example /generate_204 or
// /hotspot-detect.html) lands on the portal.
func (p *portal) http404ErrorHandler(r *httpd.Req, _ httpd.ErrCode) error {
	r.RespSetStatus("302 Temporary Redirect")
	r.RespSetHdr("Location", "/")
	err := r.RespSendStr(redirectBody)
	p.log.Info("Redirecting to root")
	return err
}

// startWebserver is start_webserver: many sockets with LRU purge, since
// every device on the network probes the portal, and quiet server logs
// (httpd logs only errors), since redirecting all traffic yields many
// invalid requests.
func startWebserver(host string, port uint16, log, httpdLog *slog.Logger) (*httpd.Handle, error) {
	p := &portal{log: log}
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.MaxOpenSockets = 13
	cfg.LRUPurgeEnable = true
	cfg.Logger = httpdLog

	log.Info("Starting server on port: '" + strconv.Itoa(int(port)) + "'")
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		return nil, err
	}
	log.Info("Registering URI handlers")
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/", Method: httpd.GET, Handler: p.rootGetHandler}); err != nil {
		h.Stop()
		return nil, err
	}
	if err := h.RegisterErrHandler(httpd.Code404NotFound, p.http404ErrorHandler); err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}
