package httpd_test

// Request accessors: method, URI, query, cookies, headers, user context.

import (
	"errors"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

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
