package httpd_test

import (
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestFallbackResource checks Zephyr 4.x's per-service fallback: paths no
// resource matches get the fallback (any resource type), matched paths and
// their 405s are untouched, the connection stays open, and removing the
// fallback brings the 404 back.
func TestFallbackResource(t *testing.T) {
	h := serviceStart(t)
	h.RegisterResource("/known", &httpd.StaticResource{Data: []byte("known")})
	if err := h.SetFallbackResource(&httpd.DynamicResource{
		ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
		Handler: func(r *httpd.Req, _ httpd.DataStatus, _ *httpd.RequestCtx, resp *httpd.ResponseCtx, _ any) error {
			resp.Body, resp.FinalChunk = []byte("fallback for "+r.URI), true
			return nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, h)
	for _, tc := range []struct{ req, want string }{
		{get("/known"), "known"},
		{get("/nothing/here"), "fallback for /nothing/here"},
		{"POST /else HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", "fallback for /else"},
		{get("/"), "fallback for /"},
	} {
		if resp := c.do(tc.req); resp.StatusCode != 200 || resp.body != tc.want {
			t.Fatalf("%q: %d %q, want %q", tc.req, resp.StatusCode, resp.body, tc.want)
		}
	}
	if resp := c.do("POST /known HTTP/1.1\r\nContent-Length: 0\r\n\r\n"); resp.StatusCode != 405 {
		t.Fatalf("a matched path with the wrong method: %d, want 405", resp.StatusCode)
	}
	if err := h.SetFallbackResource(&httpd.DynamicResource{}); err == nil {
		t.Fatal("a dynamic fallback without a callback was accepted")
	}
	if err := h.SetFallbackResource(nil); err != nil {
		t.Fatal(err)
	}
	if resp := newClient(t, h).do(get("/nothing")); resp.StatusCode != 404 {
		t.Fatalf("without a fallback: %d", resp.StatusCode)
	}
}
