// Command async_handlers is a port of ESP-IDF's
// examples/protocols/http_server/async_handlers: long running requests
// served by a pool of async workers while the server keeps answering quick
// ones.
//
//   - GET /long is handed to a worker through Req.AsyncHandlerBegin
//     (httpd_req_async_handler_begin) and streams "<div>req: N</div>", then
//     one "<div>i</div>" chunk per second, -long-ticks times (60), before
//     completing. When every worker is busy it answers "503 Busy" at once.
//   - GET /quick answers "random: N" at once, even while /long requests
//     stream.
//   - GET / links both.
//
// As the C example configures, the server has one socket more than there
// are workers (-workers, CONFIG_EXAMPLE_MAX_ASYNC_REQUESTS, 2 by default),
// so that a quick request always finds one, and LRU purge on.
//
//	go run ./examples/async_handlers [-host 127.0.0.1] [-port 8080] [-workers 2] [-long-ticks 60] [-v]
//	curl -N http://127.0.0.1:8080/long & curl http://127.0.0.1:8080/quick
//
// Log lines print as on the ESP-IDF console ("I (1234) example: uri: /long");
// the server's own lines carry the tag "httpd". SIGINT or SIGTERM stops it.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
)

// tag is the C example's log tag.
const tag = "example"

// maxWorkers bounds -workers: each worker costs a session slot.
const maxWorkers = 64

// options are the example's command-line choices.
type options struct {
	host    string
	port    uint16
	workers int           // CONFIG_EXAMPLE_MAX_ASYNC_REQUESTS
	ticks   int           // chunks /long sends after its first
	tick    time.Duration // between them: one second
}

func main() {
	p := exmain.New("async_handlers", tag)
	workers := flag.Int("workers", 2, "async workers serving /long (1-"+strconv.Itoa(maxWorkers)+")")
	ticks := flag.Int("long-ticks", 60, "one-second ticks /long streams before it completes")
	p.Parse()
	o := options{host: p.Host, port: p.Port, workers: *workers, ticks: *ticks, tick: time.Second}
	p.RefuseFlags(checkFlags(o))

	p.Exit(p.Serve("Stopping webserver", func() (exmain.Server, error) { return start(o, p.Log) }))
}

// checkFlags rejects a pool outside 1..maxWorkers and a negative tick
// count. (exmain.Port already refused a port outside 1..65535.)
func checkFlags(o options) error {
	switch {
	case o.workers < 1 || o.workers > maxWorkers:
		return fmt.Errorf("invalid -workers %d: must be 1-%d", o.workers, maxWorkers)
	case o.ticks < 0:
		return fmt.Errorf("invalid -long-ticks %d: must be 0 or more", o.ticks)
	}
	return nil
}

// app is the running example: the workers and the server.
type app struct {
	srv *server
	h   *httpd.Handle
}

// start is app_main's part: the workers first, then the server.
func start(o options, log *slog.Logger) (*app, error) {
	s := &server{log: log, ticks: o.ticks, tick: o.tick}
	s.workers = startWorkers(o.workers, log)
	h, err := startWebserver(s, o.host, o.port, o.workers)
	if err != nil {
		s.workers.stop()
		s.workers.wait()
		return nil, err
	}
	return &app{srv: s, h: h}, nil
}

// Stop ends the long requests, stops the server and waits for the workers.
// The server stops before the wait so that a worker blocked sending to a
// client that does not read is released at once.
func (a *app) Stop() error {
	a.srv.workers.stop()
	err := a.h.Stop()
	a.srv.workers.wait()
	return err
}

// startWebserver is start_webserver.
func startWebserver(s *server, host string, port uint16, workers int) (*httpd.Handle, error) {
	log := s.log
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.Logger = espconsole.WithTag(log, "httpd")
	cfg.LRUPurgeEnable = true
	// More sockets than workers leaves at least one for quick requests;
	// otherwise long requests could take every socket and the server would
	// no longer answer.
	cfg.MaxOpenSockets = workers + 1

	log.Info("Starting server on port: '" + strconv.Itoa(int(port)) + "'")
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		return nil, err
	}
	log.Info("Registering URI handlers")
	long := func(r *httpd.Req) error { return s.longAsyncHandler(r, false) }
	for _, u := range []*httpd.URI{
		{URI: "/", Method: httpd.GET, Handler: s.indexHandler},
		{URI: "/long", Method: httpd.GET, Handler: long},
		{URI: "/quick", Method: httpd.GET, Handler: s.quickHandler},
	} {
		if err := h.RegisterURIHandler(u); err != nil {
			h.Stop()
			return nil, err
		}
	}
	return h, nil
}
