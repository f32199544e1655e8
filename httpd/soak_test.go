package httpd_test

// A bounded soak on loopback (issue 8): mixed keep-alive and short
// connections, buffered, streamed, chunked and discarded bodies, chunked
// responses and pipelining, from more clients than MaxOpenSockets with LRU
// purge on, so sessions churn all the time. Every request must get exactly
// one well-formed response with the right content (a request whose session
// was purged before a byte of its response is retried on a new connection,
// as any HTTP client does), and afterwards the goroutine count, the heap
// and the session table return to where they started.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// soakDuration is 20 s, 2 s with -short; SOAK_DURATION (a Go duration, at
// most 60 s) overrides it.
func soakDuration(t *testing.T) time.Duration {
	d := 20 * time.Second
	if testing.Short() {
		d = 2 * time.Second
	}
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 || v > time.Minute {
			t.Fatalf("SOAK_DURATION=%q: want a duration up to 1m", s)
		}
		d = v
	}
	return d
}

// soakReq is one request and what its response must be.
type soakReq struct {
	raw    string
	method string
	body   string // expected response body
}

// soakStats are counted across all clients.
type soakStats struct {
	requests, retried, reconnects atomic.Int64
	// truncated counts responses cut short by a connection reset: the
	// server closed the session abortively (see TestSoak's skip).
	truncated atomic.Int64
}

// soakConn counts the bytes read, to tell a session
// closed before its response (purged: retry) from a broken response.
type soakConn struct {
	net.Conn
	n int
}

func (c *soakConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n += n
	return n, err
}

// soakClient is one client goroutine's connection.
type soakClient struct {
	address   string
	keepAlive bool
	rng       *rand.Rand
	id        int
	seq       int
	stats     *soakStats

	nc *soakConn
	br *bufio.Reader
}

func (c *soakClient) close() {
	if c.nc != nil {
		c.nc.Close()
		c.nc, c.br = nil, nil
	}
}

// next makes a random request whose expected answer is known.
func (c *soakClient) next() soakReq {
	c.seq++
	tag := fmt.Sprintf("c%d-%d", c.id, c.seq)
	conn := ""
	if !c.keepAlive {
		conn = "Connection: close\r\n"
	}
	switch k := c.rng.IntN(10); {
	case k < 3:
		return soakReq{"GET /hello?" + tag + " HTTP/1.1\r\nHost: soak\r\n" + conn + "\r\n", "GET", "Hello World!"}
	case k < 5: // Content-Length body: buffered below 4 KiB, streamed above
		sizes := []int{0, 1, 100, 4000, 5000, 20000, 100000}
		body := soakBody(tag, sizes[c.rng.IntN(len(sizes))])
		return soakReq{fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: soak\r\n%sContent-Length: %d\r\n\r\n%s", conn, len(body), body),
			"POST", body}
	case k < 6: // chunked request body
		body := soakBody(tag, c.rng.IntN(30000))
		var b strings.Builder
		fmt.Fprintf(&b, "POST /echo HTTP/1.1\r\nHost: soak\r\n%sTransfer-Encoding: chunked\r\n\r\n", conn)
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 1+c.rng.IntN(5000))
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
		return soakReq{b.String(), "POST", body}
	case k < 8: // chunked response
		n := 1 + c.rng.IntN(20)
		var want strings.Builder
		for i := range n {
			fmt.Fprintf(&want, "%s:%d;", tag, i)
		}
		return soakReq{fmt.Sprintf("GET /chunks?n=%d&tag=%s HTTP/1.1\r\nHost: soak\r\n%s\r\n", n, tag, conn), "GET", want.String()}
	default: // a body the handler never reads: the server discards it
		body := soakBody(tag, c.rng.IntN(60000))
		return soakReq{fmt.Sprintf("POST /sink HTTP/1.1\r\nHost: soak\r\n%sContent-Length: %d\r\n\r\n%s", conn, len(body), body),
			"POST", "sink"}
	}
}

func soakBody(tag string, n int) string {
	if n == 0 {
		return ""
	}
	return strings.Repeat(tag+".", n/(len(tag)+1)+1)[:n]
}

// do sends reqs in one write (pipelined) and reads their responses in
// order. Requests whose session closed before a byte of their response are
// sent again on a new connection.
func (c *soakClient) do(reqs []soakReq) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 20 {
			return fmt.Errorf("%d requests still unanswered after %d connections", len(reqs), attempt)
		}
		if c.nc == nil {
			nc, err := net.DialTimeout("tcp", c.address, 5*time.Second)
			if err != nil {
				return err
			}
			c.nc = &soakConn{Conn: nc}
			c.br = bufio.NewReader(c.nc)
			c.stats.reconnects.Add(1)
		}
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		var raw strings.Builder
		for _, r := range reqs {
			raw.WriteString(r.raw)
		}
		// A write error means the session is gone; the read below tells.
		io.WriteString(c.nc, raw.String())
		answered := 0
		for _, r := range reqs {
			mark := c.nc.n - c.br.Buffered() // bytes of earlier responses
			resp, body, err := hsRead(c.br, r.method)
			if err != nil {
				if c.nc.n == mark && hsPurged(err) {
					break // closed before this response began: retry
				}
				if errors.Is(err, syscall.ECONNRESET) {
					c.stats.truncated.Add(1)
					break // cut short by a reset: retry, and report below
				}
				return fmt.Errorf("request %.60q: broken response after %d bytes: %v", r.raw, c.nc.n-mark, err)
			}
			if resp.StatusCode != 200 || body != r.body {
				return fmt.Errorf("request %.60q: got %d %.60q, want 200 %.60q", r.raw, resp.StatusCode, body, r.body)
			}
			answered++
			if !c.keepAlive && !resp.Close {
				return fmt.Errorf("request %.60q with Connection: close answered without it", r.raw)
			}
			if resp.Close {
				break
			}
		}
		if answered == len(reqs) && c.br.Buffered() > 0 {
			extra, _ := c.br.Peek(c.br.Buffered())
			return fmt.Errorf("%d unexpected bytes after the last response: %.80q", len(extra), extra)
		}
		c.stats.requests.Add(int64(answered))
		if answered < len(reqs) {
			c.stats.retried.Add(int64(len(reqs) - answered))
			c.close()
		} else if !c.keepAlive {
			if err := hsClosed(c.nc, c.br, 3*time.Second); err != nil {
				return fmt.Errorf("after Connection: close: %v", err)
			}
			c.close()
		}
		reqs = reqs[answered:]
	}
	return nil
}

func TestSoak(t *testing.T) {
	dur := soakDuration(t)
	cfg := testConfig()
	cfg.MaxOpenSockets = 7
	cfg.LRUPurgeEnable = true
	cfg.MaxBufferedBody = 4096
	var opened, closed atomic.Int64
	cfg.OpenFn = func(*httpd.Handle, int) error { opened.Add(1); return nil }
	cfg.CloseFn = func(*httpd.Handle, int) { closed.Add(1) }
	h := start(t, cfg,
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo},
		&httpd.URI{URI: "/sink", Method: httpd.POST, Handler: func(r *httpd.Req) error { return r.RespSendStr("sink") }},
		&httpd.URI{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			q, _ := r.URLQueryStr()
			ns, _ := httpd.QueryKeyValue(q, "n")
			tag, _ := httpd.QueryKeyValue(q, "tag")
			n, _ := strconv.Atoi(ns)
			r.RespSetType("text/plain")
			for i := range n {
				if err := r.RespSendStrChunk(tag + ":" + strconv.Itoa(i) + ";"); err != nil {
					return err
				}
			}
			return r.RespSendStrChunk("")
		}},
	)
	runtime.GC()
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := liveGoroutines()

	const clients = 10 // 6 keep-alive and 4 short-connection: more than 7 slots
	var stats soakStats
	errs := make(chan error, clients)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &soakClient{address: addr(h), keepAlive: i < 6, id: i, stats: &stats,
				rng: rand.New(rand.NewPCG(uint64(i), 8))}
			defer c.close()
			for time.Now().Before(deadline) {
				batch := []soakReq{c.next()}
				if c.keepAlive && c.rng.IntN(4) == 0 {
					batch = append(batch, c.next(), c.next()) // pipelined
				}
				if err := c.do(batch); err != nil {
					errs <- fmt.Errorf("client %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("soak %v: %d requests answered, %d resent after a purge, %d connections, %d sessions opened",
		dur, stats.requests.Load(), stats.retried.Load(), stats.reconnects.Load(), opened.Load())
	if stats.requests.Load() == 0 {
		t.Fatal("no request answered")
	}

	// Everything returns to its starting level.
	if !hsWaitFor(5*time.Second, func() bool { return len(h.GetClientList()) == 0 }) {
		t.Errorf("sessions left open: %v", h.GetClientList())
	}
	if o, c := opened.Load(), closed.Load(); o != c {
		t.Errorf("%d sessions opened, %d closed", o, c)
	}
	if !hsWaitFor(5*time.Second, func() bool { return liveGoroutines() <= g0 }) {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before the soak, %d after\n%s", g0, liveGoroutines(), buf[:runtime.Stack(buf, true)])
	}
	var m1 runtime.MemStats
	const slack = 1 << 20
	ok := hsWaitFor(5*time.Second, func() bool {
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		return m1.HeapAlloc <= m0.HeapAlloc+slack
	})
	t.Logf("heap: %d KiB before, %d KiB after; goroutines %d before, %d after",
		m0.HeapAlloc>>10, m1.HeapAlloc>>10, g0, liveGoroutines())
	if !ok {
		t.Errorf("heap grew from %d KiB to %d KiB (slack %d KiB)", m0.HeapAlloc>>10, m1.HeapAlloc>>10, slack>>10)
	}
	if n := stats.truncated.Load(); n > 0 {
		t.Fatalf("%d responses were cut short by a connection reset: a session closed with unread input "+
			"(see TestHostileCloseKeepsResponse)", n)
	}
}
