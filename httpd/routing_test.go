package httpd_test

// The URI handler registry: registration limits and duplicates, wildcard
// matching, methods, changes from a handler while serving.

import (
	"errors"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
)

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

func TestDuplicateReportedBeforeFull(t *testing.T) {
	cfg := testConfig()
	cfg.MaxURIHandlers = 1
	h := start(t, cfg, &httpd.URI{URI: "/a", Method: httpd.GET, Handler: hello})
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/a", Method: httpd.GET, Handler: hello}); !errors.Is(err, httpd.ErrHandlerExists) {
		t.Fatalf("duplicate on a full table: %v", err)
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
