// Command ws_echo_server is a port of ESP-IDF's
// examples/protocols/http_server/ws_echo_server: a WebSocket endpoint at /ws
// that echoes every message, and answers the text message "Trigger async"
// with an extra frame sent from queued work through WSSendFrameAsync. GET /
// serves a page whose script connects to /ws and shows the echo, so that a
// browser can try it (the C example leaves that to a Python client).
//
// The C example echoes each frame as a message of its own, which breaks
// fragmented messages; this port reads and echoes whole messages with
// WSRecvMessage (RFC 6455 section 5.4) and keeps the C example's log lines.
//
//	go run ./examples/ws_echo_server [-host 127.0.0.1] [-port 8080]
package main

import (
	"context"
	_ "embed"
	"log/slog"
	"strconv"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
)

// tag is the C example's log tag.
const tag = "ws_echo_server"

// indexHTML is the page GET / serves: a WebSocket client for /ws.
//
//go:embed index.html
var indexHTML string

// maxLoggedPayload is how much of a message the log shows: the C example
// prints whole payloads, which puts a 200 KB message on one console line.
const maxLoggedPayload = 128

// loggedPayload returns p for the log, cut to maxLoggedPayload bytes with
// the full length appended when longer.
func loggedPayload(p []byte) string {
	if len(p) <= maxLoggedPayload {
		return string(p)
	}
	return string(p[:maxLoggedPayload]) + "... (" + strconv.Itoa(len(p)) + " bytes)"
}

// indexHandler serves the browser client page.
func indexHandler(r *httpd.Req) error {
	r.RespSetType("text/html; charset=utf-8")
	return r.RespSendStr(indexHTML)
}

// server holds what the C example keeps in globals: the log tag's logger,
// and the message buffer, reused for every message because handlers all
// run on the server's one worker.
type server struct {
	log *slog.Logger
	pkt httpd.WSFrame
}

// wsAsyncSend is the work function: it runs on the server's worker.
func (s *server) wsAsyncSend(h *httpd.Handle, fd int) {
	log := s.log
	frame := &httpd.WSFrame{Type: httpd.WSTypeText, Payload: []byte("Async data")}
	if err := h.WSSendFrameAsync(fd, frame); err != nil {
		log.Error("httpd_ws_send_frame_async failed with " + err.Error())
	}
}

func (s *server) triggerAsyncSend(h *httpd.Handle, r *httpd.Req) error {
	fd := r.Sockfd()
	return h.QueueWork(func() { s.wsAsyncSend(h, fd) })
}

// echoHandler is called once for the handshake (GET) and once per message
// (or control frame, none of which reach it here).
func (s *server) echoHandler(r *httpd.Req) error {
	log := s.log
	if r.Method == httpd.GET {
		log.Info("Handshake done, the new connection was opened")
		return nil
	}
	pkt := &s.pkt
	if err := r.WSRecvMessage(pkt, 0); err != nil {
		log.Error("httpd_ws_recv_frame failed with " + err.Error())
		return err
	}
	if log.Enabled(context.Background(), slog.LevelInfo) {
		log.Info("frame len is " + strconv.Itoa(pkt.Len))
		if pkt.Len > 0 {
			log.Info("Got packet with message: " + loggedPayload(pkt.Payload))
		}
		log.Info("Packet type: " + strconv.Itoa(int(pkt.Type)))
	}
	if pkt.Type == httpd.WSTypeText && string(pkt.Payload) == "Trigger async" {
		return s.triggerAsyncSend(r.Handle, r)
	}
	if err := r.WSSendFrame(pkt); err != nil {
		log.Error("httpd_ws_send_frame failed with " + err.Error())
		return err
	}
	return nil
}

// startWebserver starts the server on host:port (0 picks a port) and
// registers /ws; log lines go to log under the example's tag.
func startWebserver(host string, port uint16, log *slog.Logger) (*httpd.Handle, error) {
	s := &server{log: log}
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.Logger = espconsole.WithTag(log, "httpd")
	log.Info("Starting server on port: '" + strconv.Itoa(int(port)) + "'")
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		return nil, err
	}
	log.Info("Registering URI handlers")
	for _, u := range []httpd.URI{
		{URI: "/ws", Method: httpd.GET, Handler: s.echoHandler, IsWebsocket: true},
		{URI: "/", Method: httpd.GET, Handler: indexHandler},
	} {
		if err := h.RegisterURIHandler(&u); err != nil {
			h.Stop()
			return nil, err
		}
	}
	return h, nil
}

func main() {
	p := exmain.New("ws_echo_server", tag)
	p.Parse()
	p.Exit(p.Serve("Stopping webserver", func() (exmain.Server, error) {
		return startWebserver(p.Host, p.Port, p.Log)
	}))
}
