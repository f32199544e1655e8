package main

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// static holds the page and its script, served gzip-compressed as Zephyr's
// build compresses them (generate_inc_file_for_target --gzip).
//
//go:embed static/index.html static/main.js
var static embed.FS

// gzipped compresses at start-up what Zephyr's build compresses.
func gzipped(name string) []byte {
	raw, err := static.ReadFile(name)
	if err != nil {
		panic(err) // embedded above: cannot be missing
	}
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	return b.Bytes()
}

// sample is the state of Zephyr's sample: the payload /dynamic keeps, the
// LEDs, the start time for /uptime.
type sample struct {
	log     *slog.Logger
	started time.Time
	h       *httpd.Handle

	// Worker only (callbacks run on the worker).
	stored    []byte
	processed int
	leds      [2]bool
}

// dynamic is the sample's dyn_handler, extended to the methods Zephyr's
// tests use: POST, PUT and PATCH echo the body and keep it, GET answers
// what was kept, DELETE forgets it.
func (s *sample) dynamic(client *httpd.Req, status httpd.DataStatus, req *httpd.RequestCtx, resp *httpd.ResponseCtx, _ any) error {
	if status == httpd.DataAborted {
		s.processed = 0
		return nil
	}
	switch req.Method {
	case httpd.GET:
		resp.Body, resp.FinalChunk = s.stored, true
		return nil
	case httpd.DELETE:
		s.stored, resp.FinalChunk = nil, true
		return nil
	}
	if s.processed == 0 {
		s.stored = s.stored[:0]
	}
	s.processed += len(req.Data)
	s.stored = append(s.stored, req.Data...)
	s.log.Debug(fmt.Sprintf("%s received (%d bytes)", req.Method, len(req.Data)))
	if status == httpd.DataFinal {
		s.log.Debug(fmt.Sprintf("All data received (%d bytes).", s.processed))
		s.processed = 0
	}
	resp.Body = req.Data // echo
	resp.FinalChunk = status == httpd.DataFinal
	return nil
}

// uptime is the sample's uptime_handler: milliseconds since start.
func (s *sample) uptime(_ *httpd.Req, status httpd.DataStatus, _ *httpd.RequestCtx, resp *httpd.ResponseCtx, _ any) error {
	if status == httpd.DataFinal {
		resp.Body = strconv.AppendInt(nil, time.Since(s.started).Milliseconds(), 10)
		resp.FinalChunk = true
	}
	return nil
}

// ledCommand is the JSON /led takes, as the sample's led_command struct.
type ledCommand struct {
	LEDNum   *int  `json:"led_num"`
	LEDState *bool `json:"led_state"`
}

// led is the sample's led_handler: it collects the JSON body and sets the
// LED; a PC has none, so the state is kept and logged.
func (s *sample) led(_ *httpd.Req, status httpd.DataStatus, req *httpd.RequestCtx, resp *httpd.ResponseCtx, body any) error {
	buf := body.(*bytes.Buffer)
	if status == httpd.DataAborted {
		buf.Reset()
		return nil
	}
	if buf.Len()+len(req.Data) > 256 {
		buf.Reset()
		resp.Status, resp.FinalChunk = 413, true
		return nil
	}
	buf.Write(req.Data)
	if status != httpd.DataFinal {
		return nil
	}
	defer buf.Reset()
	var cmd ledCommand
	if err := json.Unmarshal(buf.Bytes(), &cmd); err != nil || cmd.LEDNum == nil || cmd.LEDState == nil ||
		*cmd.LEDNum < 0 || *cmd.LEDNum >= len(s.leds) {
		s.log.Info("Failed to parse JSON")
		resp.Status, resp.Body, resp.FinalChunk = 400, []byte("Bad LED command"), true
		return nil
	}
	s.leds[*cmd.LEDNum] = *cmd.LEDState
	s.log.Info(fmt.Sprintf("POST request setting LED %d to state %t", *cmd.LEDNum, *cmd.LEDState))
	return nil
}

// wsEcho is the sample's ws_echo_setup: a goroutine echoes every message.
func (s *sample) wsEcho(conn net.Conn, _ any) error {
	go func() {
		ws := httpd.NewWebsocketConn(conn, 64<<10)
		defer ws.Close()
		for {
			text, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(text, msg); err != nil {
				return
			}
		}
	}()
	return nil
}

// statsInterval is how often the WebSocket at / pushes statistics.
const statsInterval = time.Second

// stats is what the WebSocket at / pushes: the sample pushes the network
// stack's counters; a PC's equivalents are the server's.
type stats struct {
	UptimeMS int64 `json:"uptime_ms"`
	Clients  int   `json:"clients"`
	Sent     int   `json:"updates_sent"`
}

// wsStats is the sample's ws_netstats_setup: it pushes statistics every
// statsInterval until the client goes away.
func (s *sample) wsStats(conn net.Conn, _ any) error {
	ws := httpd.NewWebsocketConn(conn, 4<<10)
	gone := make(chan struct{})
	go func() { // reads only to notice the close
		defer close(gone)
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	go func() {
		defer ws.Close()
		tick := time.NewTicker(statsInterval)
		defer tick.Stop()
		for sent := 1; ; sent++ {
			msg, _ := json.Marshal(stats{time.Since(s.started).Milliseconds(), len(s.h.GetClientList()), sent})
			if ws.WriteMessage(true, msg) != nil {
				return
			}
			select {
			case <-gone:
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

// register registers the sample's resources on h.
func (s *sample) register(h *httpd.Handle) error {
	s.h = h
	dyn := func(methods ...httpd.Method) httpd.ResourceDetail {
		return httpd.ResourceDetail{Methods: httpd.Methods(methods...), ContentType: "text/plain"}
	}
	var ledBody bytes.Buffer
	resources := []struct {
		path   string
		detail any
	}{
		{"/", &httpd.StaticResource{
			ResourceDetail: httpd.ResourceDetail{ContentEncoding: "gzip", ContentType: "text/html"},
			Data:           gzipped("static/index.html"),
		}},
		{"/main.js", &httpd.StaticResource{
			ResourceDetail: httpd.ResourceDetail{ContentEncoding: "gzip", ContentType: "text/javascript"},
			Data:           gzipped("static/main.js"),
		}},
		{"/", &httpd.WebsocketResource{Callback: s.wsStats}},
		{"/ws_echo", &httpd.WebsocketResource{Callback: s.wsEcho}},
		{"/dynamic", &httpd.DynamicResource{
			ResourceDetail: dyn(httpd.GET, httpd.POST, httpd.PUT, httpd.PATCH, httpd.DELETE),
			Handler:        s.dynamic,
		}},
		{"/uptime", &httpd.DynamicResource{ResourceDetail: dyn(httpd.GET), Handler: s.uptime}},
		{"/led", &httpd.DynamicResource{ResourceDetail: dyn(httpd.POST), Handler: s.led, UserData: &ledBody}},
	}
	for _, res := range resources {
		if err := h.RegisterResource(res.path, res.detail); err != nil {
			return fmt.Errorf("resource %s: %w", res.path, err)
		}
	}
	return h.RegisterURIHandler(&httpd.URI{URI: "/headers", Method: httpd.ANY, Handler: headers})
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
