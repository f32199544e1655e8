package httpd_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
	"golang.org/x/net/http2"
)

// The request model promises that a handler cannot tell which protocol its
// request came over. TestEveryProtocol holds it to that: every
// handler-facing call runs over HTTP/1.1, HTTP/1.1 over TLS, h2c with prior
// knowledge, h2c by upgrade and h2 over TLS, with one table of
// expectations for all five.

// protoServer is a handle serving one protocol, and a client for it.
type protoServer struct {
	h  *httpd.Handle
	do func(t *testing.T, method, path string, hdr http.Header, body []byte) (*http.Response, []byte)
}

type protocol struct {
	name   string
	config func(*httpd.Config)
	start  func(t *testing.T, cfg httpd.Config) protoServer
}

var protocols = []protocol{
	{name: "HTTP/1.1", start: func(t *testing.T, cfg httpd.Config) protoServer {
		h := startHandle(t, cfg)
		return protoServer{h, clientDo(h, "http", &http.Transport{TLSNextProto: noH2}, "HTTP/1.1", false)}
	}},
	{name: "HTTP/1.1+TLS", start: func(t *testing.T, cfg httpd.Config) protoServer {
		h := startTLS(t, cfg)
		tr := &http.Transport{TLSNextProto: noH2, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
		return protoServer{h, clientDo(h, "https", tr, "HTTP/1.1", true)}
	}},
	{name: "h2c prior knowledge", config: func(cfg *httpd.Config) { cfg.HTTP2 = true }, start: func(t *testing.T, cfg httpd.Config) protoServer {
		h := startHandle(t, cfg)
		return protoServer{h, clientDo(h, "http", h2Client().Transport, "HTTP/2.0", false)}
	}},
	{name: "h2c upgrade", config: func(cfg *httpd.Config) {
		cfg.HTTP2 = true
		// The upgrade request's body is read before the 101: let the
		// largest body of the table come with it rather than decline.
		cfg.MaxBufferedBody = 2 << 20
	}, start: func(t *testing.T, cfg httpd.Config) protoServer {
		h := startHandle(t, cfg)
		addr := h.Addr().String()
		return protoServer{h, func(t *testing.T, method, path string, hdr http.Header, body []byte) (*http.Response, []byte) {
			t.Helper()
			resp, got, err := h2cUpgradeDo(addr, method, path, hdr, body)
			if err != nil {
				t.Fatalf("%s %s over an h2c upgrade: %v", method, path, err)
			}
			return resp, got
		}}
	}},
	{name: "h2 over TLS", config: func(cfg *httpd.Config) { cfg.HTTP2 = true }, start: func(t *testing.T, cfg httpd.Config) protoServer {
		h := startTLS(t, cfg)
		tr := &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
		return protoServer{h, clientDo(h, "https", tr, "HTTP/2.0", true)}
	}},
}

// noH2 keeps net/http's client from negotiating HTTP/2.
var noH2 = map[string]func(string, *tls.Conn) http.RoundTripper{}

func startHandle(t *testing.T, cfg httpd.Config) *httpd.Handle {
	before := runtime.NumGoroutine()
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Stop()
		checkGoroutines(t, before)
	})
	return h
}

func startTLS(t *testing.T, cfg httpd.Config) *httpd.Handle {
	before := runtime.NumGoroutine()
	sc := httpd_ssl.DefaultConfig()
	sc.Httpd = cfg
	sc.PortSecure = 0
	sc.ServerCert, sc.PrivateKey = httpd_ssl.SelfSigned("127.0.0.1")
	h, err := httpd_ssl.Start(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		httpd_ssl.Stop(h)
		checkGoroutines(t, before)
	})
	return h
}

// sendRequest sends one request with client, body nil for none, and
// returns the response and its whole body, failing t on any error.
func sendRequest(t *testing.T, client *http.Client, method, url string, hdr http.Header, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, got
}

// clientDo sends requests with a net/http client and checks that they went
// over the protocol meant.
func clientDo(h *httpd.Handle, scheme string, tr http.RoundTripper, proto string, secure bool) func(*testing.T, string, string, http.Header, []byte) (*http.Response, []byte) {
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	base := fmt.Sprintf("%s://127.0.0.1:%d", scheme, h.Port())
	return func(t *testing.T, method, path string, hdr http.Header, body []byte) (*http.Response, []byte) {
		t.Helper()
		t.Cleanup(client.CloseIdleConnections)
		resp, got := sendRequest(t, client, method, base+path, hdr, body)
		if resp.Proto != proto || (resp.TLS != nil) != secure {
			t.Fatalf("%s %s went over %s (TLS %v), want %s (TLS %v)", method, path, resp.Proto, resp.TLS != nil, proto, secure)
		}
		return resp, got
	}
}

// dynamicBuffer is the dynamic resource's buffer size: the bodies of the
// table straddle it.
const dynamicBuffer = 1024

// registerProtocolHandlers registers one URI per handler-facing call.
func registerProtocolHandlers(t *testing.T, h *httpd.Handle) {
	for _, u := range protocolURIs() {
		if err := h.RegisterURIHandler(u); err != nil {
			t.Fatal(err)
		}
	}
	for _, res := range protocolResources() {
		if err := h.RegisterResource(res.path, res.detail); err != nil {
			t.Fatal(err)
		}
	}
}

// protocolURIs are the URI handlers of the protocol table; they reach
// the server through r.Handle only, so ToHTTP can serve them too.
func protocolURIs() []*httpd.URI {
	echo := func(piece int) httpd.HandlerFunc {
		return func(r *httpd.Req) error {
			var all []byte
			buf := make([]byte, piece)
			for {
				n, err := r.Recv(buf)
				all = append(all, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
			}
			r.RespSetType("application/octet-stream")
			return r.RespSend(all)
		}
	}
	uris := []*httpd.URI{
		{URI: "/echo/small", Method: httpd.POST, Handler: echo(7)},
		{URI: "/echo/large", Method: httpd.POST, Handler: echo(64 << 10)},
		{URI: "/echo/chunked", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			buf := make([]byte, 3000)
			for {
				n, err := r.Recv(buf)
				if n > 0 {
					if err := r.RespSendChunk(buf[:n]); err != nil {
						return err
					}
				}
				if err == io.EOF {
					return r.RespSendChunk(nil)
				}
				if err != nil {
					return err
				}
			}
		}},
		{URI: "/send", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSetStatus("201 Created")
			r.RespSetType("text/plain")
			r.RespSetHdr("X-Test", "1")
			return r.RespSendStr("created")
		}},
		{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSendStrChunk("a")
			r.RespSendChunk([]byte("bc"))
			return r.RespSendChunk(nil)
		}},
		{URI: "/chunks/unended", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			return r.RespSendStrChunk("xyz") // the server ends the body
		}},
		{URI: "/err/custom", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			return r.RespSendErr(httpd.Code400BadRequest, "custom message")
		}},
		{URI: "/err/404", Method: httpd.GET, Handler: func(r *httpd.Req) error { return r.RespSend404() }},
		{URI: "/err/408", Method: httpd.GET, Handler: func(r *httpd.Req) error { return r.RespSend408() }},
		{URI: "/err/500", Method: httpd.GET, Handler: func(r *httpd.Req) error { return r.RespSend500() }},
		{URI: "/headers", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			custom, _ := r.HdrValueStr("X-Custom")
			query, _ := r.URLQueryStr()
			y, _ := httpd.QueryKeyValue(query, "y")
			cookie, _ := r.CookieValue("session")
			return r.RespSendStr(fmt.Sprintf("custom=%s len=%d query=%s y=%s cookie=%s",
				custom, r.HdrValueLen("X-Custom"), query, y, cookie))
		}},
		{URI: "/sessctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			if r.SessCtx == nil {
				r.SessCtx, r.FreeCtx = "per-session", func(any) {}
			}
			return r.RespSendStr(fmt.Sprint(r.Handle.SessGetCtx(r.Sockfd())))
		}},
		{URI: "/async", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			cp, err := r.AsyncHandlerBegin()
			if err != nil {
				return err
			}
			go func() {
				cp.RespSendStr("answered from another goroutine")
				cp.AsyncHandlerComplete()
			}()
			return nil
		}},
		{URI: "/work", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			cp, err := r.AsyncHandlerBegin()
			if err != nil {
				return err
			}
			return r.Handle.QueueWork(func() {
				cp.RespSendStr("answered from a work function")
				cp.AsyncHandlerComplete()
			})
		}},
		{URI: "/raw", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			if _, err := r.Send([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Raw: 1\r\nContent-Len")); err != nil {
				return err
			}
			_, err := r.Send([]byte("gth: 11\r\n\r\nhello world"))
			return err
		}},
		{URI: "/raw/chunked", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			if _, err := r.Send([]byte("HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")); err != nil {
				return err
			}
			_, err := r.Send([]byte("2\r\nde\r\n0\r\n\r\n"))
			return err
		}},
	}
	return uris
}

// protocolResource is a Zephyr resource of the protocol table.
type protocolResource struct {
	path   string
	detail any
}

func protocolResources() []protocolResource {
	return []protocolResource{
		{"/static", &httpd.StaticResource{
			ResourceDetail: httpd.ResourceDetail{ContentType: "text/plain"},
			Data:           []byte("static content"),
		}},
		{"/dynamic", &httpd.DynamicResource{
			ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
			Buffer:         make([]byte, dynamicBuffer),
			Callback: func(_ *httpd.Req, status httpd.DataStatus, data []byte, _ any) (int, error) {
				if status == httpd.DataAborted {
					return 0, nil
				}
				return len(data), nil // echo: the data is in the buffer already
			},
		}},
	}
}

// protocolWant is what a client must get for one exchange of the table.
type protocolWant struct {
	status int
	body   []byte
	header map[string]string // values that must be present
}

// protocolExchange is one request of the table and its expectation.
type protocolExchange struct {
	name         string
	method, path string
	hdr          http.Header
	body         []byte
	want         protocolWant
}

// protocolTable is every exchange TestEveryProtocol makes, bodies up to
// 1 MiB straddling the dynamic resource's buffer.
func protocolTable() []protocolExchange {
	oneMiB := make([]byte, 1<<20)
	rand.Read(oneMiB)
	type want = protocolWant
	type exchange = protocolExchange
	text := func(s string) []byte { return []byte(s) }
	table := []exchange{
		{name: "Send", method: "GET", path: "/send",
			want: want{201, text("created"), map[string]string{"X-Test": "1", "Content-Type": "text/plain"}}},
		{name: "chunks", method: "GET", path: "/chunks", want: want{200, text("abc"), nil}},
		{name: "chunked response ended by the server", method: "GET", path: "/chunks/unended", want: want{200, text("xyz"), nil}},
		{name: "SendErr", method: "GET", path: "/err/custom", want: want{400, text("custom message"), nil}},
		{name: "Send404", method: "GET", path: "/err/404", want: want{404, text(httpd.Code404NotFound.Message()), nil}},
		{name: "Send408", method: "GET", path: "/err/408", want: want{408, text(httpd.Code408ReqTimeout.Message()), nil}},
		{name: "Send500", method: "GET", path: "/err/500", want: want{500, text(httpd.Code500InternalServerError.Message()), nil}},
		{name: "no such URI", method: "GET", path: "/nowhere", want: want{404, text(httpd.Code404NotFound.Message()), nil}},
		{name: "method not allowed", method: "DELETE", path: "/send", want: want{405, text(httpd.Code405MethodNotAllowed.Message()), nil}},
		{name: "headers, query, cookies", method: "GET", path: "/headers?x=1&y=two",
			hdr:  http.Header{"X-Custom": {"value"}, "Cookie": {"a=1; session=s3cr3t"}},
			want: want{200, text("custom=value len=5 query=x=1&y=two y=two cookie=s3cr3t"), nil}},
		{name: "session context", method: "GET", path: "/sessctx", want: want{200, text("per-session"), nil}},
		{name: "async", method: "GET", path: "/async", want: want{200, text("answered from another goroutine"), nil}},
		{name: "QueueWork", method: "GET", path: "/work", want: want{200, text("answered from a work function"), nil}},
		{name: "raw Send", method: "GET", path: "/raw", want: want{200, text("hello world"), map[string]string{"X-Raw": "1"}}},
		{name: "raw Send, chunked", method: "GET", path: "/raw/chunked", want: want{202, text("abcde"), nil}},
		{name: "static", method: "GET", path: "/static", want: want{200, text("static content"), map[string]string{"Content-Type": "text/plain"}}},
	}
	for _, n := range []int{0, 1, dynamicBuffer - 1, dynamicBuffer, dynamicBuffer + 1, 4 << 10, 1 << 20} {
		body := oneMiB[:n]
		table = append(table,
			exchange{name: fmt.Sprintf("dynamic %d", n), method: "POST", path: "/dynamic", body: body, want: want{200, body, nil}},
			exchange{name: fmt.Sprintf("Recv small pieces %d", n), method: "POST", path: "/echo/small", body: body, want: want{200, body, nil}},
			exchange{name: fmt.Sprintf("Recv large pieces %d", n), method: "POST", path: "/echo/large", body: body, want: want{200, body, nil}},
			exchange{name: fmt.Sprintf("chunked echo %d", n), method: "POST", path: "/echo/chunked", body: body, want: want{200, body, nil}},
		)
	}
	return table
}

func TestEveryProtocol(t *testing.T) {
	table := protocolTable()
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.MaxURIHandlers = 32
			if p.config != nil {
				p.config(&cfg)
			}
			srv := p.start(t, cfg)
			registerProtocolHandlers(t, srv.h)
			for _, x := range table {
				t.Run(x.name, func(t *testing.T) {
					resp, got := srv.do(t, x.method, x.path, x.hdr, x.body)
					if resp.StatusCode != x.want.status {
						t.Errorf("status %d, want %d", resp.StatusCode, x.want.status)
					}
					if !bytes.Equal(got, x.want.body) {
						t.Errorf("body %d bytes %.40q, want %d bytes %.40q", len(got), got, len(x.want.body), x.want.body)
					}
					for k, v := range x.want.header {
						if g := resp.Header.Get(k); g != v {
							t.Errorf("header %s: %q, want %q", k, g, v)
						}
					}
				})
			}
			// A 304 has neither body nor length, whatever the protocol.
			resp, got := srv.do(t, "GET", "/static", nil, nil)
			etag := resp.Header.Get("ETag")
			resp, got = srv.do(t, "GET", "/static", http.Header{"If-None-Match": {etag}}, nil)
			if resp.StatusCode != 304 || len(got) != 0 || resp.Header.Get("Content-Length") != "" || resp.Header.Get("ETag") != etag {
				t.Errorf("If-None-Match %s: %d %q %v", etag, resp.StatusCode, got, resp.Header)
			}
		})
	}
}

// TestHijackOverHTTP2 checks that Hijack is a clear error on an HTTP/2
// stream, and that the stream still gets its answer.
func TestHijackOverHTTP2(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	got := make(chan error, 1)
	h := start(t, cfg, &httpd.URI{URI: "/h", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		_, err := r.Hijack()
		got <- err
		return r.RespSendStr("still here")
	}})
	resp, err := h2Client().Get(fmt.Sprintf("http://127.0.0.1:%d/h", h.Port()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := <-got; err != httpd.ErrInvalidState {
		t.Errorf("Hijack on a stream: %v, want ErrInvalidState", err)
	}
	if string(body) != "still here" {
		t.Errorf("body %q", body)
	}
}

// TestSocketSendOverHTTP2 checks that a handler's httpd_socket_send on its
// own session reaches the client as the stream's response over h2, as its
// raw Send does, and that sending outside a handler is refused rather than
// corrupting the connection.
func TestSocketSendOverHTTP2(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP2 = true
	var hh *httpd.Handle
	fds := make(chan int, 1)
	hh = start(t, cfg, &httpd.URI{URI: "/s", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		fds <- r.Sockfd()
		_, err := hh.SocketSend(r.Sockfd(), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), 0)
		return err
	}})
	client := h2Client()
	defer client.CloseIdleConnections()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/s", hh.Port()))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	fd := <-fds
	if _, err := hh.SocketSend(fd, []byte("garbage"), 0); err != httpd.ErrInvalidState {
		t.Fatalf("SocketSend outside a handler on an HTTP/2 session: %v, want ErrInvalidState", err)
	}
	// The connection is intact.
	if resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/s", hh.Port())); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
}
