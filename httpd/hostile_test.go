package httpd_test

// Hostile input and faults (issue 8): request smuggling and framing over real
// TCP, abusive clients each watched by a well-behaved probe client that must
// keep being served, a connection storm against MaxOpenSockets, and panics in
// every kind of user code. docs/reliability.md tabulates every case.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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

// hsSmuggled is pipelined after every refused request: if the server ever
// answered it, the refused request's bytes were reinterpreted.
const hsSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

// hsQ quotes a raw request for a failure message, shortened.
func hsQ(s string) string {
	if len(s) > 160 {
		s = s[:120] + "..." + s[len(s)-30:]
	}
	return strconv.Quote(s)
}

// hsRead reads one response and its body without failing the test.
func hsRead(br *bufio.Reader, method string) (*http.Response, string, error) {
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), err
}

// hsClosed reports whether the server closed the connection (EOF or reset)
// within d, with nothing more to read.
func hsClosed(nc net.Conn, br *bufio.Reader, d time.Duration) error {
	nc.SetReadDeadline(time.Now().Add(d))
	b, err := br.ReadByte()
	if err == nil {
		rest, _ := br.Peek(br.Buffered())
		return fmt.Errorf("connection still open: read %q", append([]byte{b}, rest...))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("connection still open after %v", d)
	}
	return nil
}

// hsLog is a concurrency-safe log sink for the server's slog output.
type hsLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *hsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *hsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *hsLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor polls cond for up to d.
func hsWaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hsGet performs one GET on a fresh connection with "Connection: close" and
// checks the body.
func hsGet(address, path, want string) error {
	nc, err := net.DialTimeout("tcp", address, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, body, err := hsRead(bufio.NewReader(nc), "GET")
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || body != want {
		return fmt.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
	return nil
}

// hsPurged reports whether err is a connection closed or reset before any
// response byte: what a client sees when its session is purged.
func hsPurged(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// hsClosedFD waits for the close callback of session fd on closed, which
// also carries the probe client's sessions.
func hsClosedFD(closed <-chan int, fd int, d time.Duration) bool {
	timeout := time.After(d)
	for {
		select {
		case c := <-closed:
			if c == fd {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// hsProbe is the well-behaved client of the abusive-client tests: it GETs
// /hello on a fresh connection every 20 ms and records its latency.
type hsProbe struct {
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once

	// retryPurged lets a request whose connection was closed without a
	// byte of response (an LRU purge) be retried on a new connection, as
	// any client must under LRU purge; purged counts those.
	retryPurged bool

	mu     sync.Mutex
	n      int
	purged int
	maxLat time.Duration
	errs   []string
}

func hsStartProbe(t testing.TB, h *httpd.Handle) *hsProbe {
	return hsStartProbeLRU(t, h, false)
}

func hsStartProbeLRU(t testing.TB, h *httpd.Handle, retryPurged bool) *hsProbe {
	p := &hsProbe{stop: make(chan struct{}), done: make(chan struct{}), retryPurged: retryPurged}
	address := addr(h)
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			t0 := time.Now()
			err := hsGet(address, "/hello", "Hello World!")
			purged := 0
			for ; p.retryPurged && hsPurged(err) && purged < 5; purged++ {
				err = hsGet(address, "/hello", "Hello World!")
			}
			lat := time.Since(t0)
			p.mu.Lock()
			p.n++
			p.purged += purged
			p.maxLat = max(p.maxLat, lat)
			if err != nil && len(p.errs) < 10 {
				p.errs = append(p.errs, err.Error())
			}
			p.mu.Unlock()
			select {
			case <-p.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	// Stop the probe before the server stops (cleanups run last first).
	t.Cleanup(p.halt)
	return p
}

func (p *hsProbe) halt() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

// check stops the probe and asserts it was served every time, within limit.
func (p *hsProbe) check(t testing.TB, limit time.Duration) {
	t.Helper()
	p.halt()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		t.Errorf("probe client made no request")
	}
	if len(p.errs) > 0 {
		t.Errorf("probe client failed %d times, e.g. %v", len(p.errs), p.errs)
	}
	if p.maxLat > limit {
		t.Errorf("probe client waited up to %v (over %d requests), want < %v", p.maxLat, p.n, limit)
	}
	t.Logf("probe: %d requests (%d retried after a purge), max latency %v", p.n, p.purged, p.maxLat)
}

// TestHostileFramingRejected sends every malformed or ambiguous framing over
// raw TCP to a handler that reads the body and to one that ignores it, with
// a request pipelined behind. Each must get exactly one response with the
// wanted status, then the session must close, and the pipelined request
// must never be served.
func TestHostileFramingRejected(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 500 * time.Millisecond
	var smuggled, ran atomic.Int32
	h := start(t, cfg,
		&httpd.URI{URI: "/read", Method: httpd.POST, Handler: func(r *httpd.Req) error { ran.Add(1); return echo(r) }},
		&httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			ran.Add(1)
			return r.RespSendStr("ignored")
		}},
		&httpd.URI{URI: "/smuggled", Method: httpd.ANY, Handler: func(r *httpd.Req) error {
			smuggled.Add(1)
			return r.RespSendStr("SMUGGLED")
		}},
	)
	head := func(fields string) string {
		return "POST %s HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n"
	}
	chunked := func(body string) string { return head("Transfer-Encoding: chunked\r\n") + body }
	// Refused in the head: the handler never runs, so reading or not
	// cannot matter.
	headCases := []struct{ name, raw string }{
		{"CL and TE", head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n"},
		{"TE and CL", head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + "0\r\n\r\n"},
		{"CL and TE identity", head("Content-Length: 5\r\nTransfer-Encoding: identity\r\n") + "hello"},
		{"two different CLs", head("Content-Length: 3\r\nContent-Length: 4\r\n") + "abcd"},
		{"CL list of two values", head("Content-Length: 4, 4\r\n") + "abcd"},
		{"negative CL", head("Content-Length: -1\r\n")},
		{"plus-signed CL", head("Content-Length: +4\r\n") + "abcd"},
		{"non-numeric CL", head("Content-Length: abc\r\n")},
		{"hex CL", head("Content-Length: 0x4\r\n") + "abcd"},
		{"CL with trailing junk", head("Content-Length: 4x\r\n") + "abcd"},
		{"CL with inner space", head("Content-Length: 1 0\r\n") + "abcdefghij"},
		{"empty CL", head("Content-Length:\r\n")},
		{"overflowing CL", head("Content-Length: 99999999999999999999\r\n")},
		{"CL 2^63", head("Content-Length: 9223372036854775808\r\n")},
		{"fullwidth digit CL", head("Content-Length: \uff14\r\n") + "abcd"},
		{"TE chunked twice", head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n"},
		{"TE chunked not last", head("Transfer-Encoding: chunked, gzip\r\n") + "0\r\n\r\n"},
		{"empty TE", head("Transfer-Encoding: \r\n")},
		{"obs-fold", head("X-A: a\r\n b\r\n")},
		{"obs-fold with tab", head("X-A: a\r\n\tb\r\n")},
		{"obs-fold hiding TE", head("X-A: a\r\n Transfer-Encoding: chunked\r\n") + "0\r\n\r\n"},
		{"NUL in value", head("X-A: a\x00b\r\n")},
		{"CR in value", head("X-A: a\rb\r\n")},
		{"LF in value", head("X-A: a\nb\r\n")},
		{"CR in CL value", head("Content-Length: 4\rContent-Length: 0\r\n") + "abcd"},
		{"control byte in value", head("X-A: a\x01b\r\n")},
		{"DEL in value", head("X-A: a\x7fb\r\n")},
		{"space before colon", head("Content-Length : 4\r\n") + "abcd"},
		{"tab before colon", head("Transfer-Encoding\t: chunked\r\n") + "0\r\n\r\n"},
		{"empty header name", head(": x\r\n")},
		{"parenthesis in name", head("X(A): 1\r\n")},
		{"slash in name", head("X/A: 1\r\n")},
		{"at sign in name", head("X@A: 1\r\n")},
		{"quote in name", head("X\"A: 1\r\n")},
		{"brace in name", head("X{A}: 1\r\n")},
		{"NUL in name", head("X\x00A: 1\r\n")},
		{"DEL in name", head("X\x7fA: 1\r\n")},
		{"UTF-8 in name", head("X\u00e9: 1\r\n")},
		{"header line without colon", head("Transfer-Encoding chunked\r\n") + "0\r\n\r\n"},
		{"bare CR line end", "POST %s HTTP/1.1\rContent-Length: 4\r\n\r\nabcd"},
		{"space in request target", "POST %s HTTP/1.1 HTTP/1.1\r\n\r\n"},
	}
	// Refused in the chunked body: found by the handler's Recv, or by the
	// reader discarding the body the handler ignored.
	chunkCases := []struct{ name, raw string }{
		{"chunk size not hex", chunked("zz\r\nabc\r\n0\r\n\r\n")},
		{"chunk size overflow", chunked("fffffffffffffffff\r\nabc\r\n0\r\n\r\n")},
		{"chunk size 2^63", chunked("8000000000000000\r\nabc\r\n0\r\n\r\n")},
		{"negative chunk size", chunked("-5\r\nhello\r\n0\r\n\r\n")},
		{"chunk size 0x prefix", chunked("0x5\r\nhello\r\n0\r\n\r\n")},
		{"space before chunk size", chunked(" 5\r\nhello\r\n0\r\n\r\n")},
		{"empty chunk size", chunked("\r\nhello\r\n0\r\n\r\n")},
		{"chunk data longer than size", chunked("3\r\nhello\r\n0\r\n\r\n")},
		{"no CRLF after chunk data", chunked("5\r\nhelloX\r\n0\r\n\r\n")},
		{"bare CR after chunk size", chunked("5\rhello\r\n0\r\n\r\n")},
		{"control byte in chunk extension", chunked("5;a=\x01\r\nhello\r\n0\r\n\r\n")},
		{"chunk size line too long", chunked("1;" + strings.Repeat("a", 5000) + "\r\nx\r\n0\r\n\r\n")},
		{"obs-fold in trailer", chunked("0\r\nX-T: a\r\n b\r\n\r\n")},
		{"invalid trailer name", chunked("0\r\nX T: 1\r\n\r\n")},
	}

	type tcase struct {
		name, path, raw string
		status          int
		inHead          bool // refused in the head: no handler may run
	}
	var cases []tcase
	for _, path := range []string{"/read", "/ignore"} {
		for _, c := range headCases {
			cases = append(cases, tcase{c.name, path, c.raw, 400, true})
		}
		for _, c := range chunkCases {
			cases = append(cases, tcase{c.name, path, c.raw, 400, false})
		}
		for _, te := range []string{"gzip", "deflate", "compress", "identity", "gzip, chunked", "x-custom"} {
			raw := head("Transfer-Encoding: "+te+"\r\n") + "0\r\n\r\n"
			cases = append(cases, tcase{"TE " + te, path, raw, 501, true})
		}
	}
	// A framing error that arrives after the handler started: the reading
	// handler's Recv finds it and the server answers 400 for it; the
	// ignoring handler has answered 200 by then, so the server can only
	// close. Either way nothing after the bad chunk is served.
	for _, path := range []string{"/read", "/ignore"} {
		t.Run(strings.TrimPrefix(path, "/")+"/bad chunk size after the handler started", func(t *testing.T) {
			before := smuggled.Load()
			nc := dial(t, h)
			br := bufio.NewReader(nc)
			fmt.Fprintf(nc, "POST %s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s", path, 20000, strings.Repeat("d", 20000))
			want := 400
			if path == "/ignore" {
				want = 200
				if resp, body, err := hsRead(br, "POST"); err != nil || resp.StatusCode != 200 {
					t.Fatalf("ignoring handler: %v %q", err, body)
				}
			} else {
				time.Sleep(100 * time.Millisecond) // the handler is reading
			}
			io.WriteString(nc, "\r\nzz\r\n"+hsSmuggled)
			if want == 400 {
				resp, body, err := hsRead(br, "POST")
				if err != nil || resp.StatusCode != 400 || !resp.Close {
					t.Fatalf("reading handler after a late bad chunk: %v %v %q, want 400 and Connection: close", resp, err, body)
				}
			}
			if err := hsClosed(nc, br, 3*time.Second); err != nil {
				t.Error(err)
			}
			if smuggled.Load() != before {
				t.Error("the request after the bad chunk was served")
			}
		})
	}
	for _, tc := range cases {
		t.Run(strings.TrimPrefix(tc.path, "/")+"/"+tc.name, func(t *testing.T) {
			raw := strings.Replace(tc.raw, "%s", tc.path, 1)
			before, ranBefore := smuggled.Load(), ran.Load()
			nc := dial(t, h)
			br := bufio.NewReader(nc)
			if _, err := io.WriteString(nc, raw+hsSmuggled); err != nil {
				t.Fatal(err)
			}
			resp, body, err := hsRead(br, "POST")
			if err != nil {
				t.Fatalf("input %s: no response (%v), want %d then close", hsQ(raw), err, tc.status)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("input %s: status %q, want %d", hsQ(raw), resp.Status, tc.status)
			}
			if tc.status != 200 && !resp.Close { // net/http turns "Connection: close" into Close
				t.Errorf("input %s: error response without Connection: close: %v", hsQ(raw), resp.Header)
			}
			if err := hsClosed(nc, br, 3*time.Second); err != nil {
				t.Errorf("input %s: after %d %q: %v", hsQ(raw), resp.StatusCode, body, err)
			}
			if n := smuggled.Load() - before; n != 0 {
				t.Errorf("input %s: the pipelined request was served %d times", hsQ(raw), n)
			}
			if tc.inHead && ran.Load() != ranBefore {
				t.Errorf("input %s: a handler ran for a refused head", hsQ(raw))
			}
		})
	}
}

// TestHostileAcceptedForms checks the lenient forms the server documents as
// accepted: each is answered 200 with the right body and the session stays
// usable for the next request (except HTTP/1.0 with Transfer-Encoding,
// which is served and then closed, RFC 9112 section 6.1).
func TestHostileAcceptedForms(t *testing.T) {
	h := start(t, testConfig(),
		&httpd.URI{URI: "/read", Method: httpd.POST, Handler: echo},
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
	)
	cases := []struct {
		name, raw, body string
		closes          bool
	}{
		{"bare LF everywhere", "POST /read HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n", "hello", false},
		{"bare LF with Content-Length", "POST /read HTTP/1.1\nContent-Length: 5\n\nhello", "hello", false},
		{"leading empty lines", "\r\n\r\nPOST /read HTTP/1.1\r\nContent-Length: 2\r\n\r\nok", "ok", false},
		{"chunk extensions", "POST /read HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;name=value\r\nhello\r\n1 ; a=\"q;u=o\\\"te\" ;b\r\n,\r\n6;x\r\n world\r\n0;last=1\r\n\r\n", "hello, world", false},
		{"trailers", "POST /read HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other:\tv\r\n\r\n", "abc", false},
		{"upper-case hex chunk size", "POST /read HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", "0123456789", false},
		{"leading zeros in chunk size", "POST /read HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0003\r\nabc\r\n000\r\n\r\n", "abc", false},
		{"TE in upper case", "POST /read HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", false},
		{"TE with empty list elements", "POST /read HTTP/1.1\r\nTransfer-Encoding: , chunked,\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", false},
		{"two equal CLs", "POST /read HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", "ok", false},
		{"CL with leading zeros", "POST /read HTTP/1.1\r\nContent-Length: 002\r\n\r\nok", "ok", false},
		{"OWS around values", "POST /read HTTP/1.1\r\nContent-Length: \t 2 \t\r\n\r\nok", "ok", false},
		{"obs-text in value", "GET /hello HTTP/1.1\r\nX-A: caf\xc3\xa9 \xff\r\n\r\n", "Hello World!", false},
		{"HTTP/1.0 with TE chunked", "POST /read HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := dial(t, h)
			br := bufio.NewReader(nc)
			method, _, _ := strings.Cut(strings.TrimLeft(tc.raw, "\r\n"), " ")
			io.WriteString(nc, tc.raw)
			resp, body, err := hsRead(br, method)
			if err != nil {
				t.Fatalf("input %q: %v", tc.raw, err)
			}
			if resp.StatusCode != 200 || body != tc.body {
				t.Fatalf("input %q: %d %q, want 200 %q", tc.raw, resp.StatusCode, body, tc.body)
			}
			if tc.closes {
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Fatalf("input %q: %v", tc.raw, err)
				}
				return
			}
			io.WriteString(nc, get("/hello"))
			if resp, body, err := hsRead(br, "GET"); err != nil || resp.StatusCode != 200 || body != "Hello World!" {
				t.Fatalf("input %q: next request on the session: %v %q", tc.raw, err, body)
			}
		})
	}
}

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
			time.Sleep(100 * time.Millisecond)
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

// TestHostileHalfClose shuts down the client's sending side right after its
// requests: the responses still arrive, then the server closes.
func TestHostileHalfClose(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/read", Method: httpd.POST, Handler: echo})
	probe := hsStartProbe(t, h)
	cases := []struct {
		name, raw string
		want      []string
	}{
		{"GET", get("/hello"), []string{"Hello World!"}},
		{"POST with body", "POST /read HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", []string{"hello"}},
		{"chunked POST", "POST /read HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", []string{"hi"}},
		{"pipelined", get("/hello") + "POST /read HTTP/1.1\r\nContent-Length: 2\r\n\r\nok" + get("/hello"),
			[]string{"Hello World!", "ok", "Hello World!"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := dial(t, h)
			br := bufio.NewReader(nc)
			io.WriteString(nc, tc.raw)
			if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				method := "GET"
				if want != "Hello World!" {
					method = "POST"
				}
				resp, body, err := hsRead(br, method)
				if err != nil || resp.StatusCode != 200 || body != want {
					t.Fatalf("response %d after half-close: %v %q, want %q", i, err, body, want)
				}
			}
			if err := hsClosed(nc, br, 3*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
	probe.check(t, time.Second)
}

// TestHostileResetMidBody resets the connection (SO_LINGER 0) while the
// handler streams the body: the handler's Recv reports an error and the
// close callback runs for the session.
func TestHostileResetMidBody(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBufferedBody = 0
	closed := make(chan int, 1024)
	cfg.CloseFn = func(_ *httpd.Handle, fd int) { closed <- fd }
	reading := make(chan int, 1)
	got := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/upload", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			buf := make([]byte, 1000)
			total, told := 0, false
			for {
				n, err := r.Recv(buf)
				total += n
				if total >= 1000 && !told {
					reading <- r.Sockfd()
					told = true
				}
				if err != nil {
					got <- err
					return err
				}
			}
		}})
	probe := hsStartProbe(t, h)
	nc := dial(t, h)
	fmt.Fprintf(nc, "POST /upload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("r", 1000))
	fd := <-reading
	nc.(*net.TCPConn).SetLinger(0)
	nc.Close()
	select {
	case err := <-got:
		if err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Recv after a reset: %v, want an error", err)
		}
		if !errors.Is(err, httpd.ErrSockFail) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Recv after a reset: %v, want ErrSockFail or io.ErrUnexpectedEOF", err)
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Logf("Recv error does not wrap ECONNRESET: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv did not return after the reset")
	}
	if !hsClosedFD(closed, fd, 3*time.Second) {
		t.Fatal("close callback did not run after the reset")
	}
	probe.check(t, time.Second)
}

// TestHostilePipelinedBurst pipelines 10 000 requests on one connection;
// every one is answered, in order, while another client is served.
func TestHostilePipelinedBurst(t *testing.T) {
	const n = 10000
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/p", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			q, _ := r.URLQueryStr()
			return r.RespSendStr(q)
		}})
	probe := hsStartProbe(t, h)
	nc := dial(t, h)
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	writeErr := make(chan error, 1)
	go func() {
		var b []byte
		for i := range n {
			b = fmt.Appendf(b, "GET /p?%d HTTP/1.1\r\nHost: burst\r\n\r\n", i)
			if len(b) > 32<<10 || i == n-1 {
				if _, err := nc.Write(b); err != nil {
					writeErr <- err
					return
				}
				b = b[:0]
			}
		}
		writeErr <- nil
	}()
	br := bufio.NewReaderSize(nc, 64<<10)
	t0 := time.Now()
	for i := range n {
		resp, body, err := hsRead(br, "GET")
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.StatusCode != 200 || body != strconv.Itoa(i) {
			t.Fatalf("response %d: %d %q, out of order", i, resp.StatusCode, body)
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pipelined requests answered in %v", n, time.Since(t0))
	probe.check(t, time.Second)
}

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
			baseline := runtime.NumGoroutine()
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
			if !hsWaitFor(3*time.Second, func() bool { return runtime.NumGoroutine() <= baseline }) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines: %d at start, %d after the storm\n%s", baseline, runtime.NumGoroutine(),
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
			time.Sleep(50 * time.Millisecond)
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

// TestHostilePanicsRecovered makes each kind of user code panic: each panic
// is recovered and logged, the session it concerns is closed (or, for code
// outside a session, nothing is), and the server answers the next request.
func TestHostilePanicsRecovered(t *testing.T) {
	type setup struct {
		cfg     httpd.Config
		h       *httpd.Handle
		log     *hsLog
		trigger func(t *testing.T) // makes the panic happen
	}
	cases := []struct {
		name string
		in   string                // the log's "in" attribute
		conf func(c *httpd.Config) // before Start
		prep func(s *setup)        // after Start
	}{
		{"URI handler after a chunk", "URI handler", nil, func(s *setup) {
			s.h.RegisterURIHandler(&httpd.URI{URI: "/panic", Method: httpd.GET, Handler: func(r *httpd.Req) error {
				r.RespSendStrChunk("partial")
				panic("handler panic mid-response")
			}})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, get("/panic"))
				// The head and one chunk went out; the body never ends.
				resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
				if err != nil {
					t.Fatalf("no response head: %v", err)
				}
				if b, err := io.ReadAll(resp.Body); err == nil || string(b) != "partial" {
					t.Errorf("body %q, %v: want the chunk and an unexpected EOF", b, err)
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
			}
		}},
		{"error handler", "error handler", nil, func(s *setup) {
			s.h.RegisterErrHandler(httpd.Code404NotFound, func(r *httpd.Req, code httpd.ErrCode) error {
				panic("error handler panic")
			})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, get("/nope"))
				resp, _, err := hsRead(br, "GET")
				if err != nil || resp.StatusCode != 500 {
					t.Errorf("panicking 404 handler: %v %v, want 500", resp, err)
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
			}
		}},
		{"work function", "work function", nil, func(s *setup) {
			s.trigger = func(t *testing.T) {
				if err := s.h.QueueWork(func() { panic("work panic") }); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"open callback", "open callback", func(c *httpd.Config) {
			var once atomic.Bool
			c.OpenFn = func(*httpd.Handle, int) error {
				if once.CompareAndSwap(false, true) {
					panic("open panic")
				}
				return nil
			}
		}, func(s *setup) {
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				if err := hsClosed(nc, bufio.NewReader(nc), 3*time.Second); err != nil {
					t.Errorf("session whose open callback panicked: %v", err)
				}
			}
		}},
		{"close callback", "close callback", func(c *httpd.Config) {
			c.CloseFn = func(*httpd.Handle, int) { panic("close panic") }
		}, func(s *setup) {
			freed := make(chan struct{}, 1)
			s.h.RegisterURIHandler(&httpd.URI{URI: "/ctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
				r.SessCtx, r.FreeCtx = "ctx", func(any) { freed <- struct{}{} }
				return r.RespSendStr("ctx set")
			}})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, "GET /ctx HTTP/1.1\r\nConnection: close\r\n\r\n")
				if _, _, err := hsRead(br, "GET"); err != nil {
					t.Fatal(err)
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
				select {
				case <-freed:
				case <-time.After(3 * time.Second):
					t.Error("session context not freed after the close callback panicked")
				}
				if !hsWaitFor(3*time.Second, func() bool { return len(s.h.GetClientList()) == 0 }) {
					t.Errorf("session left open: %v", s.h.GetClientList())
				}
			}
		}},
		{"session context free function", "session context free function", nil, func(s *setup) {
			s.h.RegisterURIHandler(&httpd.URI{URI: "/ctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
				// Replacing the context frees the previous one, which
				// panics; so does the last one when the session closes.
				r.SessCtx, r.FreeCtx = r.URI, func(any) { panic("free panic") }
				return r.RespSendStr("ctx set")
			}})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, get("/ctx?1")+get("/ctx?2")+"GET /ctx?3 HTTP/1.1\r\nConnection: close\r\n\r\n")
				for i := range 3 {
					if resp, _, err := hsRead(br, "GET"); err != nil || resp.StatusCode != 200 {
						t.Fatalf("request %d: %v", i, err)
					}
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
			}
		}},
		{"event handler", "event handler", func(c *httpd.Config) {
			c.EventHandler = func(e httpd.Event) { panic("event panic: " + e.ID.String()) }
		}, func(s *setup) {
			s.trigger = func(t *testing.T) {
				// Every event panics, and the request is still served on
				// a session that stays open.
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				for range 2 {
					io.WriteString(nc, get("/hello"))
					if resp, body, err := hsRead(br, "GET"); err != nil || body != "Hello World!" {
						t.Fatalf("with a panicking event handler: %v %v %q", resp, err, body)
					}
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &setup{cfg: testConfig(), log: &hsLog{}}
			s.cfg.Logger = s.log.logger()
			if tc.conf != nil {
				tc.conf(&s.cfg)
			}
			s.h = start(t, s.cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
			tc.prep(s)
			s.trigger(t)
			if !hsWaitFor(3*time.Second, func() bool {
				return strings.Contains(s.log.String(), "recovered from panic") &&
					strings.Contains(s.log.String(), "in=\""+tc.in+"\"")
			}) {
				t.Errorf("no recovered panic in %q logged:\n%s", tc.in, s.log.String())
			}
			if err := hsGet(addr(s.h), "/hello", "Hello World!"); err != nil {
				t.Errorf("server not serving after a panic in the %s: %v", tc.in, err)
			}
		})
	}

	t.Run("global context free function at Stop", func(t *testing.T) {
		before := runtime.NumGoroutine()
		log := &hsLog{}
		cfg := testConfig()
		cfg.Logger = log.logger()
		cfg.GlobalUserCtx = "g"
		cfg.GlobalUserCtxFreeFn = func(any) { panic("global free panic") }
		h, err := httpd.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !strings.Contains(log.String(), "recovered from panic") {
			t.Errorf("panic not logged:\n%s", log.String())
		}
		checkGoroutines(t, before)
	})
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
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/busy", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			time.Sleep(150 * time.Millisecond) // holds the worker
			return r.RespSendStr("busy")
		}})
	lost := 0
	const rounds = 12
	for round := range rounds {
		// pending opens first (oldest stamp), idle second, busy third.
		pending := dial(t, h)
		time.Sleep(20 * time.Millisecond)
		idle := dial(t, h)
		time.Sleep(20 * time.Millisecond)
		busy := dial(t, h)
		io.WriteString(busy, get("/busy"))
		time.Sleep(30 * time.Millisecond) // the worker is in /busy
		io.WriteString(pending, get("/hello"))
		time.Sleep(30 * time.Millisecond) // its reader has read the request
		newcomer := dial(t, h)            // accepted while the worker is busy
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

// TestHostileCloseKeepsResponse: when the server closes a session whose
// client is still sending (here a 4 MiB body the handler ignores, more than
// the server will discard), the response it already sent must still reach
// the client whole. Closing a socket with unread input makes the kernel
// send RST and drop whatever response bytes are still queued; RFC 9112
// section 9.6 has servers close the write side first and drain for a
// while (as net/http's closeWriteAndWait does).
func TestHostileCloseKeepsResponse(t *testing.T) {
	resp := strings.Repeat("r", 64<<10)
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			r.RespSetType("text/plain")
			for off := 0; off < len(resp); off += 1024 {
				if err := r.RespSendStrChunk(resp[off : off+1024]); err != nil {
					return err
				}
			}
			return r.RespSendStrChunk("")
		}})
	probe := hsStartProbe(t, h)
	const rounds = 10
	lost := 0
	for range rounds {
		nc := dial(t, h)
		br := bufio.NewReader(nc)
		const size = 4 << 20
		fmt.Fprintf(nc, "POST /ignore HTTP/1.1\r\nContent-Length: %d\r\n\r\n", size)
		sent := make(chan struct{})
		go func() {
			defer close(sent)
			chunk := bytes.Repeat([]byte("b"), 64<<10)
			for n := 0; n < size; n += len(chunk) {
				if _, err := nc.Write(chunk); err != nil {
					return // closed by the server, as expected
				}
			}
		}()
		r, body, err := hsRead(br, "POST")
		if err != nil || r.StatusCode != 200 || body != resp {
			lost++
			t.Logf("response lost or cut: %v, %d of %d bytes", err, len(body), len(resp))
		}
		nc.Close()
		<-sent
	}
	probe.check(t, time.Second)
	if lost > 0 {
		t.Fatalf("%d of %d responses cut short: a socket closed with unread input resets the connection "+
			"and drops the response bytes still queued", lost, rounds)
	}
}
