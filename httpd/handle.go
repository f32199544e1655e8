// Package httpd is ESP-IDF's esp_http_server for Go: a handle-based HTTP
// server whose single worker goroutine runs every URI handler, error
// handler, queued work function and session callback, so handlers need no
// locks, exactly as on the device.
//
// Start returns a *Handle; register URI handlers on it; each handler gets a
// *Req and answers with the Resp* methods. docs/porting.md maps every
// ESP-IDF name to its Go counterpart.
package httpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"github.com/esphttpd/esphttpd/sess"
	"github.com/esphttpd/esphttpd/uri_match"
)

// Handle is a running server instance (httpd_handle_t).
type Handle struct {
	cfg   Config
	log   *slog.Logger
	ln    net.Listener
	port  int
	match uri_match.MatchFunc // nil: exact match without a call

	uriMu sync.Mutex            // serialises registry writers
	uris  atomic.Pointer[[]URI] // copy on write: the worker reads without locking

	errMu       sync.Mutex
	errHandlers [codeMax]ErrHandlerFunc

	// mu guards the session table against goroutines other than the
	// worker; the worker, its only writer, reads it without locking.
	mu       sync.Mutex
	sessions *sess.Table[*conn]

	// Closed sessions' sockets still draining (closeConn), so that Stop
	// can end their wait at once.
	lingerMu  sync.Mutex
	lingering map[*net.TCPConn]struct{}

	accepted chan net.Conn
	ready    chan *conn    // sessions whose reader finished collecting
	runq     []*conn       // HTTP/2 sessions with more queued streams (worker-owned)
	slots    chan struct{} // accept permits when LRU purge is off

	ctrlMu     sync.Mutex
	ctrlQ      []ctrlMsg
	ctrlPosted atomic.Bool // ctrlQ has messages (set under ctrlMu, read by the worker without it)
	wakeQueued atomic.Bool // a wakeUp is in ready (wake)

	// baseCtx is the parent of every session's context; Stop cancels it.
	baseCtx     context.Context
	cancelBase  context.CancelFunc
	draining    atomic.Bool // Shutdown has begun: sessions close after their request
	sweepQueued atomic.Bool // a Shutdown sweep (closeIdle) waits for the worker

	readers readerPool // goroutines of ended sessions' readers, waiting for new sessions

	quit      chan struct{}
	closing   atomic.Bool // Stop has begun: the listener's closing is expected
	stopping  atomic.Bool // set before quit closes; fails every transport call at once
	stopOnce  sync.Once
	wg        sync.WaitGroup
	workerGID atomic.Uint64
}

// maxQueuedCtrl bounds QueueWork and SessTriggerClose requests waiting for
// the worker; beyond it they fail with ErrFail, as a full control socket
// does on ESP-IDF.
const maxQueuedCtrl = 4096

// Start creates a server from cfg and starts its worker (httpd_start). A
// config that cannot work is an error naming the field.
func Start(cfg Config) (*Handle, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &Handle{
		cfg:       cfg,
		log:       cfg.Logger,
		match:     cfg.URIMatchFn,
		sessions:  sess.NewTable[*conn](cfg.MaxOpenSockets),
		lingering: make(map[*net.TCPConn]struct{}),
		ready:     make(chan *conn, cfg.MaxOpenSockets+1), // every session once, and a wakeUp
		accepted:  make(chan net.Conn, 1),
		quit:      make(chan struct{}),
		readers:   readerPool{idle: spareReaderIdle, handOff: make(chan *conn)},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.baseCtx, h.cancelBase = context.WithCancel(context.Background())
	h.uris.Store(&[]URI{})
	if !cfg.LRUPurgeEnable {
		h.slots = make(chan struct{}, cfg.MaxOpenSockets)
		for range cfg.MaxOpenSockets {
			h.slots <- struct{}{}
		}
	}
	ln := cfg.Listener
	if ln == nil {
		var err error
		ln, err = listenTCP(&cfg)
		if err != nil {
			return nil, fmt.Errorf("httpd: listen on port %d: %w", cfg.ServerPort, err)
		}
	}
	h.ln = ln
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		h.port = a.Port
	}
	h.log.Info("Started server", "port", h.port)
	h.wg.Add(2)
	go h.worker()
	go h.acceptLoop()
	return h, nil
}

// Port returns the TCP port the server listens on: ServerPort, or the one
// the system picked when ServerPort was 0.
func (h *Handle) Port() int { return h.port }

// Addr returns the listener's address.
func (h *Handle) Addr() net.Addr { return h.ln.Addr() }

// Stop closes the listener and every session (close callback, then the free
// functions of the session's contexts, then the socket), frees the global
// contexts and returns once every goroutine and socket the server started is
// gone (httpd_stop). It must not be called from the worker (a handler, work
// function or callback): the worker would wait for itself. Calling Stop
// again is a no-op.
func (h *Handle) Stop() error {
	if h.onWorker() {
		return fmt.Errorf("%w: Stop called from the server's own worker goroutine", ErrInvalidArg)
	}
	h.stopOnce.Do(func() {
		h.closing.Store(true)
		h.ln.Close()
		h.drainHTTP2()
		h.cancelBase()
		h.stopping.Store(true)
		close(h.quit)
		h.wake()
		// A handler blocked in Recv or a send must not keep Stop waiting for
		// its timeout: expire every session's deadlines.
		h.mu.Lock()
		h.sessions.All(func(s *sess.Session[*conn]) bool {
			s.Data.nc.SetDeadline(longAgo)
			return true
		})
		h.mu.Unlock()
		h.lingerMu.Lock()
		for tc := range h.lingering {
			tc.SetDeadline(longAgo)
		}
		h.lingerMu.Unlock()
		h.wg.Wait()
		h.guard("global user context free function", func() {
			sess.Freeable{Ctx: h.cfg.GlobalUserCtx, Free: h.cfg.GlobalUserCtxFreeFn}.Release()
		})
		h.guard("global transport context free function", func() {
			sess.Freeable{Ctx: h.cfg.GlobalTransportCtx, Free: h.cfg.GlobalTransportCtxFreeFn}.Release()
		})
		h.emit(EventStop, -1, 0)
		h.log.Info("Stopped server", "port", h.port)
	})
	return nil
}

// http2StopGrace bounds how long Stop lets HTTP/2 streams already accepted
// finish after telling their clients (GOAWAY) that no new one will be.
const http2StopGrace = time.Second

// drainHTTP2 sends GOAWAY (NO_ERROR) to every HTTP/2 session and waits, at
// most http2StopGrace, for the streams they had opened to be served.
func (h *Handle) drainHTTP2() {
	sessions := h.http2Sessions()
	for _, hs := range sessions {
		hs.conn.GoAway(h2.ErrCode(0), nil)
	}
	deadline := time.Now().Add(http2StopGrace)
	for _, hs := range sessions {
		for hs.conn.Streams() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// GetGlobalUserCtx returns Config.GlobalUserCtx (httpd_get_global_user_ctx).
func (h *Handle) GetGlobalUserCtx() any { return h.cfg.GlobalUserCtx }

// GetGlobalTransportCtx returns Config.GlobalTransportCtx
// (httpd_get_global_transport_ctx).
func (h *Handle) GetGlobalTransportCtx() any { return h.cfg.GlobalTransportCtx }

// acceptLoop takes connections from the listener and hands them to the
// worker. With LRU purge off it takes a permit first, so connections beyond
// MaxOpenSockets stay in the kernel's backlog instead of being served.
func (h *Handle) acceptLoop() {
	defer h.wg.Done()
	defer func() {
		if h.stopping.Load() {
			h.closeUnopened()
		}
	}()
	var backoff time.Duration
	for {
		if h.slots != nil {
			select {
			case <-h.slots:
			case <-h.quit:
				return
			}
		}
		nc, err := h.ln.Accept()
		if err != nil {
			h.releaseSlot()
			select {
			case <-h.quit:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				if !h.closing.Load() {
					h.log.Error("listener closed", "err", err)
				}
				return
			}
			// Out of descriptors and the like: wait, as net/http does, so
			// that closing sessions can make room.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			h.log.Warn("error in accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-h.quit:
				return
			}
		}
		backoff = 0
		select {
		case h.accepted <- nc:
			h.wake()
		case <-h.quit:
			nc.Close()
			h.releaseSlot()
			return
		}
	}
}

// closeUnopened closes a connection the acceptor left for the worker that
// the worker will not take: Stop came first. The worker calls it as it
// shuts down and the acceptor as it leaves during Stop, so whichever is
// last finds it. (An acceptor that leaves because the listener failed
// leaves the connection to be served.)
func (h *Handle) closeUnopened() {
	select {
	case nc := <-h.accepted:
		nc.Close()
		h.releaseSlot()
	default:
	}
}

func (h *Handle) releaseSlot() {
	if h.slots != nil {
		h.slots <- struct{}{}
	}
}

// worker is the server task: the only goroutine that runs user code or
// changes the session table.
//
// It waits on one channel, ready, which is cheaper than a select over
// several: sessions with a request come through it, and so does wakeUp,
// which the acceptor, the control queue and Stop send after they leave
// something for the worker (wake). After every turn the worker looks at
// the accepted connection, the control queue and the stop signal.
func (h *Handle) worker() {
	defer h.wg.Done()
	h.workerGID.Store(goroutineID())
	h.emit(EventStart, -1, 0)
	for {
		if len(h.runq) > 0 {
			// Streams of HTTP/2 sessions are served one per turn, between
			// the other sessions' requests, which are looked at without
			// waiting.
			c := h.runq[0]
			h.runq = h.runq[1:]
			h.serve(c)
			h.serveReady(readyBatch)
		} else {
			h.serve(<-h.ready)
			h.serveReady(readyBatch - 1)
		}
		select {
		case <-h.quit:
			h.shutdown()
			return
		default:
		}
		select {
		case nc := <-h.accepted:
			h.openSession(nc)
		default:
		}
		if h.ctrlPosted.Load() {
			h.runCtrl()
		}
	}
}

// wakeUp in ready asks the worker to look at what wake announced; it is
// not a session.
var wakeUp = new(conn)

// wake makes sure the worker soon looks at the accepted connection, the
// control queue and the stop signal, after its caller left something
// there: a wakeUp in ready, unless one is there already, or ready is full
// (then the worker has sessions to serve and looks after each turn). Never
// blocks, so handlers on the worker can queue work.
func (h *Handle) wake() {
	if !h.wakeQueued.CompareAndSwap(false, true) {
		return // the worker clears the flag before it looks
	}
	select {
	case h.ready <- wakeUp:
	default:
		h.wakeQueued.Store(false)
	}
}

// readyBatch is how many waiting sessions the worker serves per wake-up
// before it looks at new connections and control messages again: nothing
// waits behind more than this many requests.
const readyBatch = 16

// serveReady serves up to n sessions that are already waiting, without
// waiting for more.
func (h *Handle) serveReady(n int) {
	for range n {
		select {
		case c := <-h.ready:
			h.serve(c)
		default:
			return
		}
	}
}

// shutdown closes every session; their readers see the closed socket or
// the done channel and exit.
func (h *Handle) shutdown() {
	h.closeUnopened()
	h.sessions.All(func(s *sess.Session[*conn]) bool {
		h.closeSession(s.Data)
		return true
	})
	h.ctrlMu.Lock()
	h.ctrlQ = nil
	h.ctrlMu.Unlock()
}

// guard runs user code and turns a panic into a log line, so no callback can
// take the server down. It reports whether fn returned normally.
func (h *Handle) guard(what string, fn func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("recovered from panic", "in", what, "panic", v, "stack", string(stack()))
			ok = false
		}
	}()
	fn()
	return true
}

func stack() []byte {
	buf := make([]byte, 4096)
	return buf[:runtime.Stack(buf, false)]
}

// onWorker reports whether the caller runs on this server's worker.
func (h *Handle) onWorker() bool {
	gid := h.workerGID.Load()
	return gid != 0 && gid == goroutineID()
}

// goroutineID parses the current goroutine's id from its stack header. It
// is slow, so it only guards rare calls such as Stop.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	// "goroutine 123 [running]:..."
	const prefix = "goroutine "
	if len(b) < len(prefix) {
		return 0
	}
	var id uint64
	for _, ch := range b[len(prefix):] {
		if ch < '0' || ch > '9' {
			break
		}
		id = id*10 + uint64(ch-'0')
	}
	return id
}
