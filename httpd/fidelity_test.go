package httpd_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// Behaviours checked against ESP-IDF's esp_http_server source (issue 14):
// each test states what ESP-IDF does.

// A 408 error handler that returns nil keeps reading the same request
// (read_block in httpd_parse.c), which then completes.
func TestErr408HandlerKeepsReading(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 300 * time.Millisecond
	timeouts := make(chan struct{}, 10)
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	h.RegisterErrHandler(httpd.Code408ReqTimeout, func(r *httpd.Req, code httpd.ErrCode) error {
		timeouts <- struct{}{}
		return nil // keep waiting for the rest of the request
	})
	c := newClient(t, h)
	c.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
	select {
	case <-timeouts:
	case <-time.After(5 * time.Second):
		t.Fatal("no 408 for a head cut short")
	}
	c.send("\r\n")
	if resp := c.read("GET"); resp.StatusCode != 200 || resp.body != "Hello World!" {
		t.Fatalf("the resumed request: %d %q", resp.StatusCode, resp.body)
	}
}

func TestCookieNamesIgnoreCase(t *testing.T) {
	got := make(chan string, 1)
	h := start(t, testConfig(), &httpd.URI{URI: "/c", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		v, err := r.CookieValue("sessionid")
		got <- fmt.Sprint(v, err)
		return r.RespSendStr("ok")
	}})
	newClient(t, h).do("GET /c HTTP/1.1\r\nCookie: a=1; SessionID=abc\r\n\r\n")
	if g := <-got; g != "abc<nil>" {
		t.Fatalf("CookieValue(sessionid) with SessionID=abc: %s", g)
	}
}

// RFC 9112 3.2.2: servers must accept the absolute form; handlers see the
// path and query, and routing uses the path.
func TestAbsoluteFormTarget(t *testing.T) {
	got := make(chan string, 3)
	h := start(t, testConfig(), &httpd.URI{URI: "/path", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		got <- r.URI
		return r.RespSendStr("ok")
	}}, &httpd.URI{URI: "/", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		got <- r.URI
		return r.RespSendStr("root")
	}})
	c := newClient(t, h)
	for target, want := range map[string]string{
		"http://example.com/path?x=1":   "/path?x=1",
		"HTTPS://example.com:8443/path": "/path",
		"http://example.com":            "/",
		"http://example.com?q":          "/?q",
	} {
		if resp := c.do("GET " + target + " HTTP/1.1\r\nHost: example.com\r\n\r\n"); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", target, resp.StatusCode)
		}
		if g := <-got; g != want {
			t.Errorf("%s: handler saw URI %q, want %q", target, g, want)
		}
	}
}

// An unparsable method is not HTTP_ANY: an error handler can tell them
// apart.
func TestUnsupportedMethodIsNotANY(t *testing.T) {
	got := make(chan httpd.Method, 1)
	h := start(t, testConfig())
	h.RegisterErrHandler(httpd.Code400BadRequest, func(r *httpd.Req, code httpd.ErrCode) error {
		got <- r.Method
		return r.RespSendErr(code, "")
	})
	newClient(t, h).send("G@T / HTTP/1.1\r\n\r\n")
	if m := <-got; m == httpd.ANY || m != httpd.Unsupported || m.String() != "UNKNOWN" {
		t.Fatalf("method of a bad request: %d %q", m, m)
	}
}

func TestEmptyQueryIsNotFound(t *testing.T) {
	got := make(chan error, 1)
	h := start(t, testConfig(), &httpd.URI{URI: "/q", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		_, err := r.URLQueryStr()
		got <- err
		return r.RespSendStr(fmt.Sprint(r.URLQueryLen()))
	}})
	if resp := newClient(t, h).do("GET /q? HTTP/1.1\r\n\r\n"); resp.body != "0" {
		t.Fatalf("query length of /q?: %q", resp.body)
	}
	if err := <-got; !errors.Is(err, httpd.ErrNotFound) {
		t.Fatalf("URLQueryStr of /q?: %v, want ErrNotFound", err)
	}
}

// RespSendErr with a code outside the table sends 500, as ESP-IDF's
// default branch does; an empty status or type means the default.
func TestRespSendErrUnknownCodeAndEmptyStatus(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/e", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		return r.RespSendErr(httpd.ErrCode(999), "")
	}}, &httpd.URI{URI: "/empty", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSetStatus("404 Not Found")
		r.RespSetType("text/plain")
		if err := r.RespSetStatus(""); err != nil {
			return err
		}
		if err := r.RespSetType(""); err != nil {
			return err
		}
		return r.RespSendStr("defaults")
	}})
	c := newClient(t, h)
	if resp := c.do(get("/empty")); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html" {
		t.Fatalf("empty status and type: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp := c.do(get("/e")); resp.StatusCode != 500 || resp.body != httpd.Code500InternalServerError.Message() {
		t.Fatalf("unknown code: %d %q", resp.StatusCode, resp.body)
	}
}

func TestErrHandlerExistsIsUnwrapped(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/x", Method: httpd.GET, Handler: hello})
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/x", Method: httpd.GET, Handler: hello}); err != httpd.ErrHandlerExists {
		t.Fatalf("duplicate registration: %v, want ErrHandlerExists itself", err)
	}
}

// ESP-IDF's async_handlers example: begin, find no free worker, complete
// the copy, and answer "503 Busy" on the original request.
func TestAsyncBusyIdiom(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/long", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		cp, err := r.AsyncHandlerBegin()
		if err != nil {
			return err
		}
		if err := cp.AsyncHandlerComplete(); err != nil {
			return err
		}
		r.RespSetStatus("503 Busy")
		return r.RespSendStr("<div> no workers available. server busy.</div>")
	}}, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	resp := c.do(get("/long"))
	if resp.StatusCode != 503 || resp.body != "<div> no workers available. server busy.</div>" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
	// The session goes on as usual.
	if resp := c.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatalf("next request: %q", resp.body)
	}
}

// Req.HandleErr is httpd_req_handle_err: the registered error handler when
// there is one (its nil keeps the session), the default response otherwise
// (and the session closes).
func TestReqHandleErr(t *testing.T) {
	var h *httpd.Handle
	results := make(chan error, 2)
	h = start(t, testConfig(), &httpd.URI{URI: "/forbidden", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		err := r.HandleErr(httpd.Code403Forbidden)
		results <- err
		return err
	}}, &httpd.URI{URI: "/teapot", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		err := r.HandleErr(httpd.Code401Unauthorized)
		results <- err
		return err
	}}, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	h.RegisterErrHandler(httpd.Code401Unauthorized, func(r *httpd.Req, code httpd.ErrCode) error {
		r.RespSetStatus("401 Unauthorized")
		r.RespSetHdr("WWW-Authenticate", `Basic realm="device"`)
		return r.RespSendStr("log in first")
	})
	c := newClient(t, h)
	if resp := c.do(get("/teapot")); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("registered handler: %d %v", resp.StatusCode, resp.Header)
	}
	if err := <-results; err != nil {
		t.Fatalf("HandleErr with a handler that keeps the session: %v", err)
	}
	if resp := c.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("session not kept after a handled error")
	}
	if resp := c.do(get("/forbidden")); resp.StatusCode != 403 || resp.body != httpd.Code403Forbidden.Message() {
		t.Fatalf("default response: %d %q", resp.StatusCode, resp.body)
	}
	if err := <-results; err != httpd.ErrFail {
		t.Fatalf("HandleErr with the default response: %v, want ErrFail", err)
	}
	c.expectClosed()
}
