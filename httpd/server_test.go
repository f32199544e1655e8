package httpd_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
	"github.com/google/go-cmp/cmp"
)

func TestESPIDFDefaultConfigMirrorsESPIDF(t *testing.T) {
	cfg := httpd.ESPIDFDefaultConfig()
	got := []any{cfg.ServerPort, cfg.CtrlPort, cfg.MaxOpenSockets, cfg.MaxURIHandlers, cfg.MaxRespHeaders,
		cfg.BacklogConn, cfg.LRUPurgeEnable, cfg.RecvWaitTimeout, cfg.SendWaitTimeout, cfg.MaxURILen,
		cfg.MaxReqHdrLen, cfg.MaxBufferedBody, cfg.KeepAliveEnable, cfg.EnableSoLinger}
	want := []any{uint16(80), uint16(32768), 7, 8, 8, 5, false, 5 * time.Second, 5 * time.Second, 512,
		512, 16 << 10, false, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("DefaultConfig (-want +got):\n%s", diff)
	}
}

func TestStartRejectsBadConfigByFieldName(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*httpd.Config)
	}{
		{"MaxOpenSockets", func(c *httpd.Config) { c.MaxOpenSockets = 0 }},
		{"MaxURIHandlers", func(c *httpd.Config) { c.MaxURIHandlers = 0 }},
		{"RecvWaitTimeout", func(c *httpd.Config) { c.RecvWaitTimeout = 0 }},
		{"SendWaitTimeout", func(c *httpd.Config) { c.SendWaitTimeout = -1 }},
		{"MaxURILen", func(c *httpd.Config) { c.MaxURILen = 0 }},
		{"MaxReqHdrLen", func(c *httpd.Config) { c.MaxReqHdrLen = 0 }},
	} {
		cfg := testConfig()
		tc.edit(&cfg)
		h, err := httpd.Start(cfg)
		if err == nil {
			h.Stop()
			t.Errorf("%s: Start succeeded", tc.field)
			continue
		}
		if !errors.Is(err, httpd.ErrInvalidArg) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v, want ErrInvalidArg naming the field", tc.field, err)
		}
	}
}

func TestPortInUseIsAnError(t *testing.T) {
	h := start(t, testConfig())
	cfg := testConfig()
	cfg.ServerPort = uint16(h.Port())
	if h2, err := httpd.Start(cfg); err == nil {
		h2.Stop()
		t.Fatal("second server on the same port started")
	}
}

func TestGetHello(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	for range 3 { // keep-alive: the same connection serves again
		resp := c.do(get("/hello"))
		if resp.StatusCode != 200 || resp.body != "Hello World!" {
			t.Fatalf("got %d %q", resp.StatusCode, resp.body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
			t.Fatalf("Content-Type %q, want text/html", ct)
		}
		if resp.ContentLength != 12 {
			t.Fatalf("Content-Length %d", resp.ContentLength)
		}
	}
}

// TestParseErrors sends raw malformed requests and checks the ESP-IDF status
// line, its exact default body, and that the session is closed.
func TestParseErrors(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 300 * time.Millisecond
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	long := strings.Repeat("a", max(cfg.MaxURILen, cfg.MaxReqHdrLen)+100) // over either limit
	cases := []struct {
		name, raw, status, body string
	}{
		{"garbage line", "HELLO\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"CR without LF", "GET /hello HTTP/1.1\rHost: x\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"header without colon", "GET /hello HTTP/1.1\r\nHost x\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"space before colon", "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"obs-fold", "GET /hello HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"upgrade not websocket", "GET /hello HTTP/1.1\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"CL and TE", "POST /hello HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"two CLs", "POST /hello HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400 Bad Request", "Bad request syntax"},
		{"negative CL", "POST /hello HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400 Bad Request", "Bad request syntax"},
		{"unknown method", "BREW /hello HTTP/1.1\r\n\r\n", "501 Method Not Implemented", "Server does not support this method"},
		{"gzip TE", "POST /hello HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Method Not Implemented", "Server does not support this method"},
		{"HTTP/2.0", "GET /hello HTTP/2.0\r\n\r\n", "505 Version Not Supported", "HTTP version not supported by server"},
		{"HTTP/1.2", "GET /hello HTTP/1.2\r\n\r\n", "505 Version Not Supported", "HTTP version not supported by server"},
		{"long URI", "GET /" + long + " HTTP/1.1\r\n\r\n", "414 URI Too Long", "URI is too long"},
		{"long URI incomplete", "GET /" + long, "414 URI Too Long", "URI is too long"},
		{"long headers", "GET /hello HTTP/1.1\r\nX-Long: " + long + "\r\n\r\n", "431 Request Header Fields Too Large", "Header fields are too long"},
		{"no such URI", get("/nope"), "404 Not Found", "Nothing matches the given URI"},
		{"wrong method", "POST /hello HTTP/1.1\r\n\r\n", "405 Method Not Allowed", "Specified method is invalid for this resource"},
		{"head timeout", "GET /hello HTTP/1.1\r\nHost: x\r\n", "408 Request Timeout", "Server closed this connection"},
		{"body timeout", "POST /hello HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", "408 Request Timeout", "Server closed this connection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, h)
			c.send(tc.raw)
			resp := c.read("GET")
			if got := resp.Proto + " " + resp.Status; got != "HTTP/1.1 "+tc.status {
				t.Errorf("status %q, want %q", got, tc.status)
			}
			if resp.body != tc.body {
				t.Errorf("body %q, want %q", resp.body, tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
				t.Errorf("Content-Type %q", ct)
			}
			c.expectClosed()
		})
	}
}

func TestBareLFAccepted(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	resp := c.do("GET /hello HTTP/1.1\nHost: x\n\n")
	if resp.StatusCode != 200 || resp.body != "Hello World!" {
		t.Fatalf("bare LF request: %d %q", resp.StatusCode, resp.body)
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	h := start(t, testConfig(),
		&httpd.URI{URI: "/a", Method: httpd.GET, Handler: func(r *httpd.Req) error { return r.RespSendStr("A") }},
		&httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo},
	)
	c := newClient(t, h)
	var raw strings.Builder
	var want []string
	for i := range 20 {
		if i%2 == 0 {
			raw.WriteString(get("/a"))
			want = append(want, "A")
		} else {
			body := fmt.Sprintf("body-%d", i)
			fmt.Fprintf(&raw, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			want = append(want, body)
		}
	}
	c.send(raw.String())
	var got []string
	for i := range want {
		method := "GET"
		if i%2 == 1 {
			method = "POST"
		}
		got = append(got, c.read(method).body)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("pipelined responses (-want +got):\n%s", diff)
	}
}

func TestEchoBodySizes(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	for _, size := range []int{0, 1, 64 << 10, 10 << 20} {
		body := make([]byte, size)
		rand.Read(body)
		go func() {
			fmt.Fprintf(c.nc, "POST /echo HTTP/1.1\r\nContent-Length: %d\r\n\r\n", size)
			c.nc.Write(body)
		}()
		resp := c.read("POST")
		if resp.StatusCode != 200 || !bytes.Equal([]byte(resp.body), body) {
			t.Fatalf("size %d: status %d, echoed %d bytes", size, resp.StatusCode, len(resp.body))
		}
	}
}

func TestChunkedRequestBody(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	raw := "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\nHello\r\n1;ext=1\r\n,\r\n6\r\n World\r\n0\r\nTrailer: x\r\n\r\n"
	for range 2 {
		if resp := c.do(raw); resp.body != "Hello, World" {
			t.Fatalf("chunked echo %q", resp.body)
		}
	}
	// A large chunked body, sent in odd pieces.
	big := make([]byte, 300<<10)
	rand.Read(big)
	go func() {
		io.WriteString(c.nc, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
		for rest := big; len(rest) > 0; {
			n := min(len(rest), 7777)
			fmt.Fprintf(c.nc, "%x\r\n", n)
			c.nc.Write(rest[:n])
			io.WriteString(c.nc, "\r\n")
			rest = rest[n:]
		}
		io.WriteString(c.nc, "0\r\n\r\n")
	}()
	if resp := c.read("POST"); !bytes.Equal([]byte(resp.body), big) {
		t.Fatalf("big chunked echo: %d bytes back", len(resp.body))
	}
}

func TestBadChunkedBodyClosesSession(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
	if resp := c.read("POST"); resp.StatusCode != 400 || resp.body != "Bad request syntax" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
	// Past MaxBufferedBody the handler meets the bad framing in Recv: the
	// answer is the same.
	c = newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + "5000\r\n" + strings.Repeat("x", 0x5000) + "\r\nzz\r\n")
	if resp := c.read("POST"); resp.StatusCode != 400 {
		t.Fatalf("streamed: %d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
}

func TestUnreadBodyIsDiscarded(t *testing.T) {
	h := start(t, testConfig(),
		&httpd.URI{URI: "/ignore", Method: httpd.POST, Handler: hello},
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
	)
	c := newClient(t, h)
	big := strings.Repeat("x", 100<<10)
	c.send("POST /ignore HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big)
	c.read("POST")
	c.send("POST /ignore HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	c.read("POST")
	if resp := c.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatalf("after discarded bodies: %q", resp.body)
	}
}

func TestPostWithoutLengthHasEmptyBody(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	if resp := c.do("POST /echo HTTP/1.1\r\n\r\n"); resp.StatusCode != 200 || resp.body != "" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
}

func TestExpectContinue(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	c.send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, err := c.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	c.br.ReadString('\n') // the empty line
	c.send("hello")
	if resp := c.read("POST"); resp.body != "hello" {
		t.Fatalf("body %q", resp.body)
	}
}

func TestHeadGetsGetHeadersWithoutBody(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.HEAD, Handler: hello},
		&httpd.URI{URI: "/chunks", Method: httpd.HEAD, Handler: func(r *httpd.Req) error {
			r.RespSendStrChunk("abc")
			return r.RespSendStrChunk("")
		}})
	c := newClient(t, h)
	c.send("HEAD /hello HTTP/1.1\r\n\r\nHEAD /chunks HTTP/1.1\r\n\r\n" + "HEAD /hello HTTP/1.1\r\n\r\n")
	resp := c.read("HEAD")
	if resp.ContentLength != 12 || resp.body != "" {
		t.Fatalf("HEAD: Content-Length %d body %q", resp.ContentLength, resp.body)
	}
	resp = c.read("HEAD")
	if resp.TransferEncoding == nil || resp.body != "" {
		t.Fatalf("HEAD chunked: TE %v body %q", resp.TransferEncoding, resp.body)
	}
	if resp := c.read("HEAD"); resp.StatusCode != 200 {
		t.Fatalf("third response %d: framing lost", resp.StatusCode)
	}
}

func TestConnectionCloseAndHTTP10(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSendStrChunk("ab")
			r.RespSendStrChunk("cd")
			return r.RespSendStrChunk("")
		}})
	c := newClient(t, h)
	// net/http reports "Connection: close" as resp.Close.
	if resp := c.do("GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n"); !resp.Close {
		t.Fatalf("no Connection: close in %v", resp.Header)
	}
	c.expectClosed()

	c = newClient(t, h)
	c.do("GET /hello HTTP/1.0\r\n\r\n")
	c.expectClosed()

	c = newClient(t, h)
	resp := c.do("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	if resp.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("HTTP/1.0 keep-alive answered with Connection %q", resp.Header.Get("Connection"))
	}
	// Chunked to HTTP/1.0: unframed body ended by close.
	c.send("GET /chunks HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	all, _ := io.ReadAll(c.br)
	if !strings.HasSuffix(string(all), "\r\n\r\nabcd") || strings.Contains(string(all), "chunked") {
		t.Fatalf("HTTP/1.0 chunked response:\n%s", all)
	}
}

func TestResponseAPI(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRespHeaders = 2
	var hdrErr error
	h := start(t, cfg, &httpd.URI{URI: "/r", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSetStatus("201 Created")
		r.RespSetType(httpd.TypeJSON)
		r.RespSetHdr("X-One", "1")
		r.RespSetHdr("X-Two", "2")
		hdrErr = r.RespSetHdr("X-Three", "3")
		if err := r.RespSetHdr("X-Bad", "a\r\nInjected: 1"); !errors.Is(err, httpd.ErrInvalidArg) {
			return fmt.Errorf("header injection accepted: %v", err)
		}
		return r.RespSendStr(`{"ok":true}`)
	}}, &httpd.URI{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		for _, s := range []string{"one,", "two,", strings.Repeat("z", 20000)} {
			if err := r.RespSendStrChunk(s); err != nil {
				return err
			}
		}
		return r.RespSendChunk(nil)
	}}, &httpd.URI{URI: "/twice", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSendStr("first")
		if err := r.RespSendStr("second"); !errors.Is(err, httpd.ErrRespDone) {
			return fmt.Errorf("second send: %v", err)
		}
		return nil
	}})
	c := newClient(t, h)
	resp := c.do(get("/r"))
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("X-One") != "1" || resp.Header.Get("X-Two") != "2" || resp.body != `{"ok":true}` {
		t.Fatalf("response %d %v %q", resp.StatusCode, resp.Header, resp.body)
	}
	if !errors.Is(hdrErr, httpd.ErrRespHdr) {
		t.Fatalf("third header: %v, want ErrRespHdr", hdrErr)
	}
	resp = c.do(get("/chunks"))
	if want := "one,two," + strings.Repeat("z", 20000); resp.body != want || resp.TransferEncoding == nil {
		t.Fatalf("chunked body of %d bytes, TE %v", len(resp.body), resp.TransferEncoding)
	}
	if resp := c.do(get("/twice")); resp.body != "first" {
		t.Fatalf("twice: %q", resp.body)
	}
	if resp := c.do(get("/r")); resp.StatusCode != 201 {
		t.Fatal("session unusable after /twice")
	}
}

func TestHeadersGoneAfterResponse(t *testing.T) {
	type result struct {
		before, after string
		errAfter      error
	}
	got := make(chan result, 1)
	h := start(t, testConfig(), &httpd.URI{URI: "/h", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		var res result
		res.before, _ = r.HdrValueStr("x-custom")
		err := r.RespSendStr("ok")
		res.after, res.errAfter = r.HdrValueStr("X-Custom")
		got <- res
		return err
	}})
	newClient(t, h).do("GET /h HTTP/1.1\r\nX-Custom: value\r\n\r\n")
	res := <-got
	if res.before != "value" || res.after != "" || !errors.Is(res.errAfter, httpd.ErrNotFound) {
		t.Fatalf("before %q, after %q (%v)", res.before, res.after, res.errAfter)
	}
}

func TestRequestAccessors(t *testing.T) {
	type seen struct {
		method     httpd.Method
		uri        string
		contentLen int64
		query      string
		qlen       int
		key        string
		cookie     string
		hlen       int
		userCtx    any
		sockfd     int
	}
	ch := make(chan seen, 1)
	h := start(t, testConfig(), &httpd.URI{URI: "/acc", Method: httpd.POST, UserCtx: "uctx", Handler: func(r *httpd.Req) error {
		var s seen
		s.method, s.uri, s.contentLen, s.userCtx = r.Method, r.URI, r.ContentLen, r.UserCtx
		s.query, _ = r.URLQueryStr()
		s.qlen = r.URLQueryLen()
		s.key, _ = httpd.QueryKeyValue(s.query, "b")
		s.cookie, _ = r.CookieValue("session")
		s.hlen = r.HdrValueLen("Content-Length")
		s.sockfd = r.Sockfd()
		ch <- s
		return r.RespSendStr("")
	}})
	newClient(t, h).do("POST /acc?a=1&b=two%20x HTTP/1.1\r\nCookie: theme=dark; session=abc123\r\nContent-Length: 3\r\n\r\nxyz")
	want := seen{httpd.POST, "/acc?a=1&b=two%20x", 3, "a=1&b=two%20x", 13, "two%20x", "abc123", 1, "uctx", 1}
	if diff := cmp.Diff(want, <-ch, cmp.AllowUnexported(seen{})); diff != "" {
		t.Fatalf("accessors (-want +got):\n%s", diff)
	}
}

func TestErrorHandlers(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	h.RegisterErrHandler(httpd.Code404NotFound, func(r *httpd.Req, code httpd.ErrCode) error {
		r.RespSetStatus("404 Not Found")
		return r.RespSendStr("custom 404 for " + r.URI)
	})
	if err := h.RegisterErrHandler(httpd.ErrCode(99), nil); !errors.Is(err, httpd.ErrInvalidArg) {
		t.Fatalf("invalid code: %v", err)
	}
	c := newClient(t, h)
	if resp := c.do(get("/missing")); resp.StatusCode != 404 || resp.body != "custom 404 for /missing" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
	// The handler returned nil: the session stays open.
	if resp := c.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatalf("after custom 404: %q", resp.body)
	}
	// A 500 handler cannot keep the session.
	h.RegisterErrHandler(httpd.Code500InternalServerError, func(r *httpd.Req, code httpd.ErrCode) error {
		return r.RespSendErr(code, "oops")
	})
	h.RegisterURIHandler(&httpd.URI{URI: "/panic", Method: httpd.GET, Handler: func(r *httpd.Req) error { panic("boom") }})
	if resp := c.do(get("/panic")); resp.StatusCode != 500 {
		t.Fatalf("panic: %d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
}

func TestPanickingHandlerRecovered(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/panic", Method: httpd.GET, Handler: func(r *httpd.Req) error { panic("boom") }})
	c := newClient(t, h)
	resp := c.do(get("/panic"))
	if resp.StatusCode != 500 || resp.body != "Server has encountered an unexpected error" {
		t.Fatalf("panic answered %d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("server not serving after a panic")
	}
}

func TestHandlerErrorClosesSessionAfterResponse(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/fail", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSendStr("partial")
		return errors.New("handler failed")
	}})
	c := newClient(t, h)
	if resp := c.do(get("/fail")); resp.body != "partial" {
		t.Fatalf("%q", resp.body)
	}
	c.expectClosed()
}

func TestURIRegistry(t *testing.T) {
	cfg := testConfig()
	cfg.MaxURIHandlers = 3
	h := start(t, cfg)
	u := &httpd.URI{URI: "/x", Method: httpd.GET, Handler: hello}
	if err := h.RegisterURIHandler(u); err != nil {
		t.Fatal(err)
	}
	if err := h.RegisterURIHandler(u); !errors.Is(err, httpd.ErrHandlerExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/x", Method: httpd.ANY, Handler: hello}); err != nil {
		t.Fatalf("ANY on /x: %v", err)
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/x", Method: httpd.POST, Handler: hello}); !errors.Is(err, httpd.ErrHandlerExists) {
		t.Fatalf("POST /x after ANY /x: %v", err)
	}
	h.RegisterURIHandler(&httpd.URI{URI: "/y", Method: httpd.GET, Handler: hello})
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/z", Method: httpd.GET, Handler: hello}); !errors.Is(err, httpd.ErrHandlersFull) {
		t.Fatalf("fourth handler: %v", err)
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/z", Method: httpd.GET}); !errors.Is(err, httpd.ErrInvalidArg) {
		t.Fatalf("nil handler: %v", err)
	}
	if err := h.UnregisterURIHandler("/x", httpd.POST); !errors.Is(err, httpd.ErrNotFound) {
		t.Fatalf("unregister missing: %v", err)
	}
	if err := h.UnregisterURI("/x"); err != nil {
		t.Fatal(err)
	}
	if err := h.UnregisterURI("/x"); !errors.Is(err, httpd.ErrNotFound) {
		t.Fatalf("second unregister: %v", err)
	}
	c := newClient(t, h)
	if resp := c.do(get("/x")); resp.StatusCode != 404 {
		t.Fatalf("unregistered /x answered %d", resp.StatusCode)
	}
}

func TestWildcardMatcherOrderAndDuplicates(t *testing.T) {
	cfg := testConfig()
	cfg.URIMatchFn = uri_match.Wildcard
	h := start(t, cfg,
		&httpd.URI{URI: "/api/*", Method: httpd.GET, Handler: func(r *httpd.Req) error { return r.RespSendStr("api " + r.URI) }},
		&httpd.URI{URI: "/files/?*", Method: httpd.ANY, Handler: func(r *httpd.Req) error { return r.RespSendStr("files " + r.Method.String()) }},
	)
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/api/v1", Method: httpd.GET, Handler: hello}); !errors.Is(err, httpd.ErrHandlerExists) {
		t.Fatalf("/api/v1 under /api/*: %v", err)
	}
	c := newClient(t, h)
	for _, tc := range []struct{ raw, body string }{
		{get("/api/v1?x=1"), "api /api/v1?x=1"},
		{get("/files"), "files GET"},
		{"DELETE /files/a HTTP/1.1\r\n\r\n", "files DELETE"},
	} {
		if resp := c.do(tc.raw); resp.body != tc.body {
			t.Errorf("%q: %q, want %q", tc.raw, resp.body, tc.body)
		}
	}
	if resp := c.do("POST /api/x HTTP/1.1\r\n\r\n"); resp.StatusCode != 405 {
		t.Fatalf("POST /api/x: %d, want 405", resp.StatusCode)
	}
}

func TestRegisterFromHandlerWhileServing(t *testing.T) {
	h := start(t, testConfig())
	h.RegisterURIHandler(&httpd.URI{URI: "/ctrl", Method: httpd.PUT, Handler: func(r *httpd.Req) error {
		buf := make([]byte, 8)
		n, _ := r.Recv(buf)
		if string(buf[:n]) == "1" {
			r.Handle.RegisterURIHandler(&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
		} else {
			r.Handle.UnregisterURI("/hello")
		}
		return r.RespSendStr("ok")
	}})
	c := newClient(t, h)
	put := func(v string) { c.do("PUT /ctrl HTTP/1.1\r\nContent-Length: 1\r\n\r\n" + v) }
	put("1")
	if resp := c.do(get("/hello")); resp.StatusCode != 200 {
		t.Fatalf("registered from handler: %d", resp.StatusCode)
	}
	put("0")
	if resp := c.do(get("/hello")); resp.StatusCode != 404 {
		t.Fatalf("unregistered from handler: %d", resp.StatusCode)
	}
}

func TestSessionContext(t *testing.T) {
	var mu sync.Mutex
	var freed []string
	free := func(ctx any) {
		mu.Lock()
		freed = append(freed, *ctx.(*string))
		mu.Unlock()
	}
	h := start(t, testConfig(), &httpd.URI{URI: "/ctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		prev := "none"
		if r.SessCtx != nil {
			prev = *r.SessCtx.(*string)
		}
		if v, err := r.URLQueryStr(); err == nil {
			s := v
			r.SessCtx, r.FreeCtx = &s, free
		}
		if got := r.Handle.SessGetCtx(r.Sockfd()); got != r.SessCtx {
			return errors.New("SessGetCtx does not see the request's context")
		}
		return r.RespSendStr(prev)
	}})
	c := newClient(t, h)
	steps := []struct{ path, want string }{{"/ctx?a", "none"}, {"/ctx", "a"}, {"/ctx?b", "a"}, {"/ctx", "b"}}
	for _, s := range steps {
		if resp := c.do(get(s.path)); resp.body != s.want {
			t.Fatalf("%s: %q, want %q", s.path, resp.body, s.want)
		}
	}
	c.nc.Close()
	// Replacing "a" freed it; closing the session freed "b".
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), freed...)
		mu.Unlock()
		if len(got) == 2 || time.Now().After(deadline) {
			if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
				t.Fatalf("freed (-want +got):\n%s", diff)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOpenAndCloseCallbacks(t *testing.T) {
	events := make(chan string, 16)
	cfg := testConfig()
	var refuse sync.Once
	cfg.OpenFn = func(h *httpd.Handle, fd int) error {
		events <- "open " + strconv.Itoa(fd)
		var err error
		refuse.Do(func() { err = errors.New("refused") })
		return err
	}
	cfg.CloseFn = func(h *httpd.Handle, fd int) { events <- "close " + strconv.Itoa(fd) }
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	c.expectClosed() // the first session was refused
	if got := []string{<-events, <-events}; !cmp.Equal(got, []string{"open 1", "close 1"}) {
		t.Fatalf("refused session events %v", got)
	}
	c = newClient(t, h)
	c.do(get("/hello"))
	if got := <-events; got != "open 1" {
		t.Fatalf("second session: %q", got)
	}
	// A peer reset still runs the close callback.
	c.nc.(*net.TCPConn).SetLinger(0)
	c.nc.Close()
	select {
	case got := <-events:
		if got != "close 1" {
			t.Fatalf("after reset: %q", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("close callback did not run after a reset")
	}
}

func TestQueueWorkOrderAndWorker(t *testing.T) {
	h := start(t, testConfig())
	var got []int
	done := make(chan struct{})
	for i := range 100 {
		if err := h.QueueWork(func() { got = append(got, i) }); err != nil {
			t.Fatal(err)
		}
	}
	h.QueueWork(func() { close(done) })
	<-done
	want := make([]int, 100)
	for i := range want {
		want[i] = i
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("work order (-want +got):\n%s", diff)
	}
	if err := h.QueueWork(nil); !errors.Is(err, httpd.ErrInvalidArg) {
		t.Fatalf("nil work: %v", err)
	}
	if err := h.QueueWork(func() { panic("work panic") }); err != nil {
		t.Fatal(err)
	}
	ok := make(chan struct{})
	h.QueueWork(func() { close(ok) })
	<-ok // the panic did not kill the worker
}

func TestQueueWorkAfterStopFails(t *testing.T) {
	h, err := httpd.Start(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	if err := h.QueueWork(func() {}); !errors.Is(err, httpd.ErrFail) {
		t.Fatalf("QueueWork after Stop: %v", err)
	}
	if err := h.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestAsyncWithQueueWorkAndSocketSend(t *testing.T) {
	// The advanced_tests "async_data" pattern: answer once in the handler,
	// then again from queued work through SocketSend.
	h := start(t, testConfig())
	h.RegisterURIHandler(&httpd.URI{URI: "/async", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		fd, hd := r.Sockfd(), r.Handle
		if err := r.RespSendStr("first"); err != nil {
			return err
		}
		return hd.QueueWork(func() {
			msg := "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"
			hd.SocketSend(fd, []byte(msg), 0)
		})
	}})
	c := newClient(t, h)
	if resp := c.do(get("/async")); resp.body != "first" {
		t.Fatalf("%q", resp.body)
	}
	if resp := c.read("GET"); resp.body != "second" {
		t.Fatalf("%q", resp.body)
	}
}

func TestAsyncHandler(t *testing.T) {
	release := make(chan struct{})
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	h.RegisterURIHandler(&httpd.URI{URI: "/slow", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		ar, err := r.AsyncHandlerBegin()
		if err != nil {
			return err
		}
		if r.Sockfd() != ar.Sockfd() || r.Sockfd() < 0 {
			return fmt.Errorf("original request unusable after AsyncHandlerBegin: fd %d, copy %d", r.Sockfd(), ar.Sockfd())
		}
		go func() {
			<-release
			body, _ := io.ReadAll(reqReader{ar})
			ar.RespSendStr("async " + string(body))
			ar.AsyncHandlerComplete()
		}()
		return nil
	}})
	slow := newClient(t, h)
	slow.send("POST /slow HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody" + get("/hello"))
	// While the async request waits, another client is served.
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("other client not served during async request")
	}
	close(release)
	if resp := slow.read("POST"); resp.body != "async body" {
		t.Fatalf("%q", resp.body)
	}
	// The pipelined request after it is served once the async one completes.
	if resp := slow.read("GET"); resp.body != "Hello World!" {
		t.Fatalf("%q", resp.body)
	}
}

// reqReader adapts Req.Recv to io.Reader.
type reqReader struct{ r *httpd.Req }

func (rr reqReader) Read(p []byte) (int, error) { return rr.r.Recv(p) }

func TestSessTriggerClose(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/bye", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.Handle.SessTriggerClose(r.Sockfd())
		return r.RespSendStr("bye")
	}}, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	if resp := c.do(get("/bye")); resp.body != "bye" {
		t.Fatal(resp.body)
	}
	c.expectClosed()

	c = newClient(t, h)
	c.do(get("/hello"))
	ids := h.GetClientList()
	if len(ids) != 1 {
		t.Fatalf("client list %v", ids)
	}
	if err := h.SessTriggerClose(ids[0]); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	if err := h.SessTriggerClose(42); !errors.Is(err, httpd.ErrNotFound) {
		t.Fatalf("unknown fd: %v", err)
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

func TestRecvPeerCloseMidBody(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBufferedBody = 0
	got := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/r", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		_, err := io.ReadAll(reqReader{r})
		got <- err
		return err
	}})
	c := newClient(t, h)
	c.send("POST /r HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly this")
	time.Sleep(50 * time.Millisecond)
	c.nc.(*net.TCPConn).CloseWrite()
	if err := <-got; !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Recv after peer close: %v", err)
	}
}

func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 5 * time.Second
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	slow := newClient(t, h)
	stopDrip := make(chan struct{})
	dripped := make(chan struct{})
	go func() {
		defer close(dripped)
		req := get("/hello")
		for i := 0; i < len(req)-1; i++ {
			select {
			case <-stopDrip:
				return
			case <-time.After(100 * time.Millisecond):
			}
			slow.nc.Write([]byte{req[i]})
		}
	}()
	time.Sleep(250 * time.Millisecond) // the drip has started
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

func TestStopWithBusySessions(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := testConfig()
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	h.RegisterURIHandler(&httpd.URI{URI: "/block", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		close(entered)
		_, err := io.ReadAll(reqReader{r}) // the client never sends the body
		return err
	}})
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", addr(h))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	conns[0].Write([]byte("POST /block HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"))
	conns[1].Write([]byte("GET /half"))
	<-entered
	done := make(chan struct{})
	go func() { h.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		// Closed is closed: a FIN reads as EOF, and a socket closed with
		// unread bytes resets.
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client not closed by Stop: %v", err)
		}
		c.Close()
	}
	checkGoroutines(t, before)
}

func TestOneConnectionHeaderWhenClosing(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/ka", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSetHdr("Connection", "keep-alive")
		return r.RespSendStr("x")
	}})
	c := newClient(t, h)
	c.send("GET /ka HTTP/1.1\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(c.br)
	if n := strings.Count(strings.ToLower(string(raw)), "\r\nconnection:"); n != 1 || !strings.Contains(string(raw), "Connection: close\r\n") {
		t.Fatalf("%d Connection headers in:\n%s", n, raw)
	}
	// Not closing: the handler's header stands alone.
	c = newClient(t, h)
	if resp := c.do(get("/ka")); resp.Header.Get("Connection") != "keep-alive" || resp.Close {
		t.Fatalf("%v", resp.Header)
	}
}

func TestDuplicateReportedBeforeFull(t *testing.T) {
	cfg := testConfig()
	cfg.MaxURIHandlers = 1
	h := start(t, cfg, &httpd.URI{URI: "/a", Method: httpd.GET, Handler: hello})
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/a", Method: httpd.GET, Handler: hello}); !errors.Is(err, httpd.ErrHandlerExists) {
		t.Fatalf("duplicate on a full table: %v", err)
	}
}

func TestGlobalContextsFreedOnStop(t *testing.T) {
	cfg := testConfig()
	var freed []string
	cfg.GlobalUserCtx, cfg.GlobalUserCtxFreeFn = "user", func(ctx any) { freed = append(freed, ctx.(string)) }
	cfg.GlobalTransportCtx, cfg.GlobalTransportCtxFreeFn = "transport", func(ctx any) { freed = append(freed, ctx.(string)) }
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h.GetGlobalUserCtx() != "user" || h.GetGlobalTransportCtx() != "transport" {
		t.Fatal("global contexts not returned")
	}
	h.Stop()
	h.Stop()
	if !cmp.Equal(freed, []string{"user", "transport"}) {
		t.Fatalf("freed %v", freed)
	}
}

func TestCallerListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Listener = ln
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	if h.Addr().String() != ln.Addr().String() || h.Port() != ln.Addr().(*net.TCPAddr).Port {
		t.Fatalf("handle reports %v, listener is %v", h.Addr(), ln.Addr())
	}
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal(resp.body)
	}
}

func TestEveryParserMethodRoutes(t *testing.T) {
	h := start(t, testConfig())
	cfg := []httpd.Method{httpd.PROPFIND, httpd.MSEARCH, httpd.PATCH, httpd.MKCALENDAR}
	for _, m := range cfg {
		h.RegisterURIHandler(&httpd.URI{URI: "/m", Method: m, Handler: func(r *httpd.Req) error {
			return r.RespSendStr(r.Method.String())
		}})
	}
	c := newClient(t, h)
	for _, m := range cfg {
		if resp := c.do(m.String() + " /m HTTP/1.1\r\n\r\n"); resp.body != m.String() {
			t.Fatalf("%s routed to %q", m, resp.body)
		}
	}
	if resp := c.do("COPY /m HTTP/1.1\r\n\r\n"); resp.StatusCode != 405 {
		t.Fatalf("COPY: %d", resp.StatusCode)
	}
}
