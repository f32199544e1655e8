package main

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// bootTime is what "Time since boot" counts from.
var bootTime = time.Now()

// sseInterval is how often the original's SSE handler sends an event.
const sseInterval = time.Second

// sseStreams runs the /sse event streams (CONFIG_EXAMPLE_ENABLE_SSE_HANDLER).
// Each stream is an async request answered from its own goroutine; stop
// ends them all and waits, and runs when the server stops.
type sseStreams struct {
	log  *slog.Logger
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newSSEStreams(log *slog.Logger) *sseStreams {
	return &sseStreams{log: log, quit: make(chan struct{})}
}

// handler is sse_handler: GET /sse.
func (s *sseStreams) handler(r *httpd.Req) error {
	r.RespSetType("text/event-stream")
	r.RespSetHdr("Cache-Control", "no-cache")
	r.RespSetHdr("Connection", "keep-alive")
	// The original loops here, on the server task, until a send fails. Hand
	// the request to a goroutine instead so the server keeps serving.
	ar, err := r.AsyncHandlerBegin()
	if err != nil {
		return errFail
	}
	s.wg.Add(1)
	go s.stream(ar)
	return nil
}

func (s *sseStreams) stream(r *httpd.Req) {
	defer s.wg.Done()
	tick := time.NewTicker(sseInterval)
	defer tick.Stop()
	for {
		secs := int64(time.Since(bootTime) / time.Second)
		data := fmt.Sprintf("data: Time since boot: %d seconds\n\n", secs)
		if err := r.RespSendStrChunk(data); err != nil {
			s.log.Error(fmt.Sprintf("Failed to send sse data (returned %v)", err))
			break
		}
		select {
		case <-tick.C:
			continue
		case <-s.quit:
			// The server is stopping: its sessions are closed already.
			r.AsyncHandlerComplete()
			return
		}
	}
	r.RespSendChunk(nil) // End response
	r.AsyncHandlerComplete()
}

// stop ends every stream and waits for its goroutine.
func (s *sseStreams) stop() {
	s.once.Do(func() { close(s.quit) })
	s.wg.Wait()
}
