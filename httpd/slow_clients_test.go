package httpd_test

// Slow and stalling clients (issue 8): a dripped head, stalled and
// trickled bodies, a client that never reads. Each is cut after its
// timeout, and a well-behaved probe client keeps being served meanwhile.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestHostileSlowloris drips a request head one byte per 100 ms: the server
// answers 408 and closes RecvWaitTimeout after the first byte, while another
// client is served without delay.
func TestHostileSlowloris(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 500 * time.Millisecond
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	probe := hsStartProbe(t, h)

	nc := dial(t, h)
	br := bufio.NewReader(nc)
	req := "GET /hello HTTP/1.1\r\nHost: slowloris\r\nX-Padding: " + strings.Repeat("p", 60) + "\r\n\r\n"
	first := make(chan time.Time, 1)
	dripDone := make(chan struct{})
	go func() {
		defer close(dripDone)
		for i := range len(req) {
			if _, err := nc.Write([]byte{req[i]}); err != nil {
				return // closed by the server, as it should be
			}
			if i == 0 {
				first <- time.Now()
			}
			time.Sleep(100 * time.Millisecond) // the drip is the behaviour under test
		}
	}()
	t.Cleanup(func() { nc.Close(); <-dripDone })
	resp, body, err := hsRead(br, "GET")
	got := time.Now()
	if err != nil {
		t.Fatalf("no 408: %v", err)
	}
	if resp.StatusCode != 408 {
		t.Fatalf("status %d %q, want 408", resp.StatusCode, body)
	}
	if err := hsClosed(nc, br, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := got.Sub(<-first); d < 400*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("408 came %v after the first byte, want about RecvWaitTimeout (500ms)", d)
	}
	probe.check(t, time.Second)
}

// TestHostileSlowBody stalls a body. A body over MaxBufferedBody streams
// through the handler's Recv, which times out with ErrSockTimeout after
// RecvWaitTimeout; the worker is held for at most that long per Recv call.
// A small body is collected by the session's reader, which answers 408
// without the worker.
func TestHostileSlowBody(t *testing.T) {
	const timeout = 500 * time.Millisecond
	t.Run("streamed", func(t *testing.T) {
		cfg := testConfig()
		cfg.RecvWaitTimeout = timeout
		cfg.MaxBufferedBody = 1024
		type result struct {
			err  error
			read int
			held time.Duration // from the last data to Recv giving up
		}
		got := make(chan result, 1)
		h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
			&httpd.URI{URI: "/upload", Method: httpd.POST, Handler: func(r *httpd.Req) error {
				buf := make([]byte, 512)
				total := 0
				last := time.Now()
				for {
					n, err := r.Recv(buf)
					total += n
					if err != nil {
						got <- result{err, total, time.Since(last)}
						if errors.Is(err, httpd.ErrSockTimeout) {
							r.RespSend408()
						}
						return err
					}
					last = time.Now()
				}
			}})
		probe := hsStartProbe(t, h)
		nc := dial(t, h)
		br := bufio.NewReader(nc)
		fmt.Fprintf(nc, "POST /upload HTTP/1.1\r\nContent-Length: 8192\r\n\r\n%s", strings.Repeat("b", 2000))
		res := <-got
		if !errors.Is(res.err, httpd.ErrSockTimeout) {
			t.Fatalf("Recv: %v after %d bytes, want ErrSockTimeout", res.err, res.read)
		}
		if res.read != 2000 {
			t.Errorf("read %d bytes before the stall, want 2000", res.read)
		}
		if res.held < timeout-50*time.Millisecond || res.held > timeout+500*time.Millisecond {
			t.Errorf("Recv held the worker %v, want about RecvWaitTimeout (%v)", res.held, timeout)
		}
		if resp, _, err := hsRead(br, "POST"); err != nil || resp.StatusCode != 408 {
			t.Fatalf("response: %v %v, want 408", resp, err)
		}
		if err := hsClosed(nc, br, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		probe.check(t, time.Second)
	})

	t.Run("buffered", func(t *testing.T) {
		cfg := testConfig()
		cfg.RecvWaitTimeout = timeout
		var ran atomic.Int32
		h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
			&httpd.URI{URI: "/upload", Method: httpd.POST, Handler: func(r *httpd.Req) error {
				ran.Add(1)
				return echo(r)
			}})
		probe := hsStartProbe(t, h)
		nc := dial(t, h)
		br := bufio.NewReader(nc)
		t0 := time.Now()
		fmt.Fprintf(nc, "POST /upload HTTP/1.1\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("b", 100))
		resp, _, err := hsRead(br, "POST")
		if err != nil || resp.StatusCode != 408 {
			t.Fatalf("response: %v %v, want 408", resp, err)
		}
		if d := time.Since(t0); d > timeout+time.Second {
			t.Errorf("408 after %v", d)
		}
		if err := hsClosed(nc, br, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if ran.Load() != 0 {
			t.Error("handler ran for an incomplete buffered body")
		}
		probe.check(t, time.Second)
	})

	// A body trickled one byte per 200 ms, each byte inside RecvWaitTimeout,
	// to a handler that streams it: every single Recv would succeed, so
	// only the server's minimum body rate (Config.MinBodyRate, on by
	// default) stops the client from holding the worker for ever. Recv
	// times out about RecvWaitTimeout after streaming began, and the probe
	// is served meanwhile.
	t.Run("trickled", func(t *testing.T) {
		cfg := testConfig()
		cfg.RecvWaitTimeout = timeout
		cfg.MaxBufferedBody = 16
		type result struct {
			err  error
			read int
			held time.Duration
		}
		got := make(chan result, 1)
		h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
			&httpd.URI{URI: "/upload", Method: httpd.POST, Handler: func(r *httpd.Req) error {
				t0 := time.Now()
				buf := make([]byte, 100)
				total := 0
				for {
					n, err := r.Recv(buf)
					total += n
					if err != nil {
						got <- result{err, total, time.Since(t0)}
						return err
					}
				}
			}})
		probe := hsStartProbe(t, h)
		nc := dial(t, h)
		br := bufio.NewReader(nc)
		io.WriteString(nc, "POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n")
		stop := make(chan struct{})
		trickled := make(chan struct{})
		go func() {
			defer close(trickled)
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := nc.Write([]byte("x")); err != nil {
					return
				}
			}
		}()
		t.Cleanup(func() { close(stop); <-trickled })
		var res result
		select {
		case res = <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("a client trickling a streamed body (1 byte / 200 ms, RecvWaitTimeout 500 ms) held the worker for 5 s")
		}
		// Not a timeout: a handler's retry loop must end (issue 12).
		if !errors.Is(res.err, httpd.ErrSockFail) || errors.Is(res.err, httpd.ErrSockTimeout) {
			t.Errorf("Recv of a trickled body: %v after %d bytes, want ErrSockFail", res.err, res.read)
		}
		if res.held > 3*timeout {
			t.Errorf("the trickling client held the worker %v (%d bytes), want about RecvWaitTimeout", res.held, res.read)
		}
		t.Logf("trickled body: Recv gave up after %v and %d bytes: %v", res.held, res.read, res.err)
		nc.SetReadDeadline(time.Now().Add(3 * time.Second))
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 408 {
			t.Fatalf("the too-slow client's answer: %v %v, want 408", resp, err)
		} else {
			io.Copy(io.Discard, resp.Body)
		}
		if err := hsClosed(nc, br, 3*time.Second); err != nil {
			t.Error(err)
		}
		probe.check(t, time.Second)
	})
}

// TestHostileNeverReads never reads its responses while the handler sends
// a large body. The send times out after SendWaitTimeout and the session
// closes: the worker is held for at most one SendWaitTimeout per response,
// since a timed-out response refuses further sends at once.
func TestHostileNeverReads(t *testing.T) {
	const sendTimeout = 300 * time.Millisecond
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
	type result struct {
		err   error
		calls int
		held  time.Duration
	}
	for _, mode := range []string{"RespSend", "RespSendChunk"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig()
			cfg.SendWaitTimeout = sendTimeout
			closed := make(chan int, 1024)
			cfg.CloseFn = func(_ *httpd.Handle, fd int) { closed <- fd }
			got := make(chan result, 1)
			var fd atomic.Int32
			h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
				&httpd.URI{URI: "/big", Method: httpd.GET, Handler: func(r *httpd.Req) error {
					fd.Store(int32(r.Sockfd()))
					t0 := time.Now()
					if mode == "RespSend" {
						err := r.RespSend(big)
						got <- result{err, 1, time.Since(t0)}
						return err
					}
					// A careless handler: it sends 512 chunks of 64 KiB
					// and only looks at the errors afterwards.
					var first error
					calls := 0
					for off := 0; off < len(big); off += 64 << 10 {
						calls++
						if err := r.RespSendChunk(big[off : off+64<<10]); err != nil && first == nil {
							first = err
						}
					}
					r.RespSendChunk(nil)
					got <- result{first, calls, time.Since(t0)}
					return first
				}})
			probe := hsStartProbe(t, h)
			nc := dial(t, h)
			nc.(*net.TCPConn).SetReadBuffer(4096)
			io.WriteString(nc, get("/big"))
			res := <-got
			if !errors.Is(res.err, httpd.ErrRespSend) || !errors.Is(res.err, httpd.ErrSockTimeout) {
				t.Fatalf("send error %v, want ErrRespSend wrapping ErrSockTimeout", res.err)
			}
			if res.held > sendTimeout+700*time.Millisecond {
				t.Errorf("handler held the worker %v over %d send calls, want at most SendWaitTimeout (%v) and slack",
					res.held, res.calls, sendTimeout)
			}
			if res.held < sendTimeout-50*time.Millisecond {
				t.Errorf("send gave up after %v, before SendWaitTimeout (%v)", res.held, sendTimeout)
			}
			t.Logf("worker held %v (SendWaitTimeout %v, %d send calls)", res.held, sendTimeout, res.calls)
			if !hsClosedFD(closed, int(fd.Load()), 3*time.Second) {
				t.Fatal("session not closed after the send timeout")
			}
			probe.check(t, time.Second)
		})
	}
}

func TestRecvTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 200 * time.Millisecond
	cfg.MaxBufferedBody = 0 // make the handler read from the socket
	got := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/r", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		buf := make([]byte, 10)
		_, err := r.Recv(buf)
		got <- err
		if errors.Is(err, httpd.ErrSockTimeout) {
			r.RespSend408()
		}
		return err
	}})
	c := newClient(t, h)
	c.send("POST /r HTTP/1.1\r\nContent-Length: 10\r\n\r\n")
	if err := <-got; !errors.Is(err, httpd.ErrSockTimeout) {
		t.Fatalf("Recv: %v, want ErrSockTimeout", err)
	}
	if resp := c.read("POST"); resp.StatusCode != 408 {
		t.Fatalf("%d", resp.StatusCode)
	}
	c.expectClosed()
}

func TestMinBodyRateCutsTrickledBodies(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 400 * time.Millisecond
	cfg.MaxBufferedBody = 0
	cfg.MinBodyRate = 100
	got := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/up", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		_, err := io.ReadAll(reqReader{r})
		got <- err
		return err
	}}, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	c.send("POST /up HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // 10 bytes/s: each byte beats RecvWaitTimeout, the average does not
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				c.nc.Write([]byte("x"))
			}
		}
	}()
	t0 := time.Now()
	select {
	case err := <-got:
		if !errors.Is(err, httpd.ErrSockFail) || errors.Is(err, httpd.ErrSockTimeout) {
			t.Fatalf("Recv: %v, want a failure that is not a timeout", err)
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Fatalf("cut after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("trickled body held the worker for 5 s")
	}
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("server not serving after the trickle")
	}
}

func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 5 * time.Second
	opened := make(chan int, 16)
	cfg.OpenFn = func(_ *httpd.Handle, fd int) error {
		select {
		case opened <- fd:
		default:
		}
		return nil
	}
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	slow := newClient(t, h)
	waitChan(t, opened, "the slow client's session opened")
	stopDrip := make(chan struct{})
	dripped := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(dripped)
		req := get("/hello")
		for i := 0; i < len(req)-1; i++ {
			if i > 0 {
				select { // the drip is the behaviour under test
				case <-stopDrip:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
			slow.nc.Write([]byte{req[i]})
			if i == 0 {
				close(started)
			}
		}
	}()
	<-started // the slow session's reader has a head to wait for
	for range 5 {
		startAt := time.Now()
		resp := newClient(t, h).do(get("/hello"))
		if resp.body != "Hello World!" {
			t.Fatal(resp.body)
		}
		if d := time.Since(startAt); d > time.Second {
			t.Fatalf("fast client waited %v behind the dripping one", d)
		}
	}
	close(stopDrip)
	<-dripped
}
