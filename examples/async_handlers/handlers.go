package main

import (
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// busyBody is what /long answers when every worker is busy.
const busyBody = "<div> no workers available. server busy.</div>"

// indexHTML is the page at /.
const indexHTML = "<div><a href=\"/long\">long</a></div>" +
	"<div><a href=\"/quick\">quick</a></div>"

// server holds what the C example keeps in globals and statics.
type server struct {
	log     *slog.Logger
	workers *workerPool
	// ticks and tick are how many "<div>i</div>" chunks /long sends and
	// how far apart (60 and one second in the C example).
	ticks int
	tick  time.Duration
	// reqCount counts the long requests served (long_async_handler's
	// static reqCount).
	reqCount atomic.Uint32
}

// longAsyncHandler is long_async_handler, a long running GET handler. On
// the server's worker it hands the request to an async worker, so that the
// server stays free for other requests; there it streams its chunks.
func (s *server) longAsyncHandler(r *httpd.Req, onWorker bool) error {
	log := s.log
	log.Info("uri: /long")
	if !onWorker {
		if s.workers.submit(r, s.longAsyncHandler) == nil {
			return nil
		}
		// No worker took it: answer on the original request, as the C
		// example does.
		if err := r.RespSetStatus("503 Busy"); err != nil {
			log.Error("httpd_resp_set_status failed with " + err.Error())
		}
		if err := r.RespSendStr(busyBody); err != nil {
			log.Error("httpd_resp_sendstr failed with " + err.Error())
		}
		return nil
	}

	n := s.reqCount.Add(1)
	if r.RespSendStrChunk("<div>req: "+strconv.FormatUint(uint64(n), 10)+"</div>\n") != nil {
		return nil // the client went away; AsyncHandlerComplete still follows
	}
	// Then every tick, a "tick": this delay makes it a long running task,
	// as a long calculation or slow I/O would in a real application.
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for i := range s.ticks {
		select {
		case <-t.C:
		case <-s.workers.stopping():
			return nil
		}
		if r.RespSendStrChunk("<div>"+strconv.Itoa(i)+"</div>\n") != nil {
			return nil
		}
	}
	// Send "complete".
	return r.RespSendStrChunk("")
}

// quickHandler is quick_handler: it answers at once, without any
// asynchronous feature, even while long requests stream.
func (s *server) quickHandler(r *httpd.Req) error {
	s.log.Info("uri: /quick")
	return r.RespSendStr("random: " + strconv.Itoa(int(rand.Int32())) + "\n")
}

// indexHandler is index_handler.
func (s *server) indexHandler(r *httpd.Req) error {
	s.log.Info("uri: /")
	return r.RespSendStr(indexHTML)
}
