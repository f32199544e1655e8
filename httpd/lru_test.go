package httpd_test

// MaxOpenSockets and LRU purge (issue 8): a connection storm of
// misbehaving clients never exceeds the limit and leaves nothing behind,
// and a purge never drops a request the server has already read.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestHostileConnectionStorm opens 2 000 connections, 32 at a time, that
// mostly misbehave (close at once, reset, half a head, idle), against
// MaxOpenSockets 7, with LRU purge on and off. Open sessions never exceed
// 7, the server keeps answering, and afterwards no session, goroutine or
// slot is left.
func TestHostileConnectionStorm(t *testing.T) {
	for _, lru := range []bool{true, false} {
		t.Run(fmt.Sprintf("LRU=%v", lru), func(t *testing.T) {
			const total, parallel = 2000, 32
			cfg := testConfig()
			cfg.MaxOpenSockets = 7
			cfg.LRUPurgeEnable = lru
			cfg.BacklogConn = 128
			cfg.RecvWaitTimeout = 500 * time.Millisecond
			var open, maxOpen, opened, closedN atomic.Int64
			cfg.OpenFn = func(*httpd.Handle, int) error {
				opened.Add(1)
				cur := open.Add(1)
				for {
					m := maxOpen.Load()
					if cur <= m || maxOpen.CompareAndSwap(m, cur) {
						break
					}
				}
				return nil
			}
			cfg.CloseFn = func(*httpd.Handle, int) {
				closedN.Add(1)
				open.Add(-1)
			}
			h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
			baseline := liveGoroutines()
			probe := hsStartProbeLRU(t, h, lru)

			var next, served, purged, failed atomic.Int64
			var firstErr atomic.Value
			var wg sync.WaitGroup
			for range parallel {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= total {
							return
						}
						switch err := hsStormClient(addr(h), int(i), lru); {
						case err == nil:
							served.Add(1)
						case errors.Is(err, errHsPurged):
							purged.Add(1)
						case errors.Is(err, errHsNoRequest):
						default:
							failed.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
						}
					}
				}()
			}
			wg.Wait()
			probe.check(t, time.Second)
			t.Logf("storm: %d served, %d closed by a purge before an answer, %d failed; sessions opened %d, at most %d open",
				served.Load(), purged.Load(), failed.Load(), opened.Load(), maxOpen.Load())
			if m := maxOpen.Load(); m > 7 {
				t.Errorf("%d sessions open at once, MaxOpenSockets is 7", m)
			}
			if f := failed.Load(); f > 0 {
				t.Errorf("%d storm clients failed, first: %v", f, firstErr.Load())
			}
			if served.Load() == 0 {
				t.Error("no storm request was served")
			}
			if !lru && purged.Load() > 0 {
				t.Errorf("%d requests lost without LRU purge", purged.Load())
			}
			// The server still answers after the storm.
			if err := hsGet(addr(h), "/hello", "Hello World!"); err != nil {
				t.Errorf("after the storm: %v", err)
			}
			if !hsWaitFor(3*time.Second, func() bool { return len(h.GetClientList()) == 0 }) {
				t.Errorf("sessions left after the storm: %v", h.GetClientList())
			}
			if o, c := opened.Load(), closedN.Load(); o != c {
				t.Errorf("%d sessions opened, %d closed", o, c)
			}
			if !hsWaitFor(3*time.Second, func() bool { return liveGoroutines() <= baseline }) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d at start, %d after the storm\n%s", baseline, liveGoroutines(),
					buf[:runtime.Stack(buf, true)])
			}
			// Without LRU purge every permit came back: 7 clients at once
			// are served.
			var cs []net.Conn
			for range 7 {
				c := dial(t, h)
				io.WriteString(c, get("/hello"))
				cs = append(cs, c)
			}
			for i, c := range cs {
				if resp, _, err := hsRead(bufio.NewReader(c), "GET"); err != nil || resp.StatusCode != 200 {
					t.Errorf("client %d of 7 after the storm: %v", i, err)
				}
			}
		})
	}
}

var (
	errHsPurged    = errors.New("closed before an answer (LRU purge)")
	errHsNoRequest = errors.New("sent no complete request")
)

// hsStormClient is one storm connection; its behaviour depends on i.
func hsStormClient(address string, i int, lru bool) error {
	nc, err := net.DialTimeout("tcp", address, 10*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	switch i % 6 {
	case 0: // connect and close
		return errHsNoRequest
	case 1: // half a head, then close
		io.WriteString(nc, "GET /hello HTTP/1.1\r\nHo")
		return errHsNoRequest
	case 2: // half a head, then reset
		io.WriteString(nc, "GET /hel")
		nc.(*net.TCPConn).SetLinger(0)
		return errHsNoRequest
	case 3: // idle, then close: with LRU on it holds its slot until purged
		if lru {
			time.Sleep(50 * time.Millisecond) // idling is the behaviour under test
		}
		return errHsNoRequest
	}
	// A real request, keep-alive (4) or close (5).
	req := get("/hello")
	if i%6 == 5 {
		req = "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"
	}
	if _, err := io.WriteString(nc, req); err != nil {
		if lru {
			return errHsPurged
		}
		return err
	}
	resp, body, err := hsRead(bufio.NewReader(nc), "GET")
	if err != nil {
		var ne net.Error
		if lru && !(errors.As(err, &ne) && ne.Timeout()) {
			// Closed by the purge before the request was served: the
			// client sees the close and may retry.
			return fmt.Errorf("%w: %v", errHsPurged, err)
		}
		return err
	}
	if resp.StatusCode != 200 || body != "Hello World!" {
		return fmt.Errorf("storm request: %d %q", resp.StatusCode, body)
	}
	return nil
}

// TestHostileLRUPurgeSparesPendingRequest: with LRU purge on and every slot
// taken, a new connection must not purge a session whose complete request
// the server has already read, while an idle session that never sent a
// byte survives. ESP-IDF's server task processes sessions with pending data
// before it accepts (httpd_main.c: httpd_sess_enum, then httpd_accept_conn),
// so there the pending request is always answered.
func TestHostileLRUPurgeSparesPendingRequest(t *testing.T) {
	cfg := testConfig()
	cfg.MaxOpenSockets = 3
	cfg.LRUPurgeEnable = true
	opened := make(chan int, 8)
	cfg.OpenFn = func(_ *httpd.Handle, fd int) error { opened <- fd; return nil }
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/busy", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			entered <- struct{}{}
			select { // holds the worker until the test lets go (or Stop)
			case <-release:
			case <-r.Context().Done():
			}
			return r.RespSendStr("busy")
		}})
	lost := 0
	const rounds = 12
	for round := range rounds {
		// pending opens first (oldest stamp), idle second, busy third.
		pending := dial(t, h)
		waitChan(t, opened, "pending's session opened")
		idle := dial(t, h)
		waitChan(t, opened, "idle's session opened")
		busy := dial(t, h)
		waitChan(t, opened, "busy's session opened")
		io.WriteString(busy, get("/busy"))
		waitChan(t, entered, "the worker entered /busy")
		io.WriteString(pending, get("/hello"))
		if !hsWaitFor(3*time.Second, func() bool { return h.QueuedForWorker() == 1 }) {
			t.Fatal("pending's request never reached the worker's queue")
		}
		newcomer := dial(t, h) // accepted while the worker is busy
		release <- struct{}{}
		waitChan(t, opened, "the newcomer's session opened")
		resp, _, err := hsRead(bufio.NewReader(pending), "GET")
		if err != nil || resp.StatusCode != 200 {
			lost++
			t.Logf("round %d: pending request lost (%v); idle session kept: %v", round, err,
				hsClosed(idle, bufio.NewReader(idle), 50*time.Millisecond) != nil)
		}
		for _, c := range []net.Conn{pending, idle, busy, newcomer} {
			c.Close()
		}
		hsWaitFor(2*time.Second, func() bool { return len(h.GetClientList()) == 0 })
	}
	if lost > 0 {
		t.Errorf("LRU purge dropped %d of %d complete, already-read requests while an idle session survived", lost, rounds)
	}
}
