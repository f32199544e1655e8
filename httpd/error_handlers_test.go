package httpd_test

// Error handlers and handler errors: a custom 404 keeps the session, a 500
// or a failing handler closes it.

import (
	"errors"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

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
