package httpd_test

// HTTP/2 streams reuse per-connection state (the engine's stream structs
// and header lists, the session's stream responders and their Req): these
// tests check that no request sees another's headers or response state.

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

// dumpHeaders answers with the request's Host and its x-* and cookie
// fields, one "name: value" line each, sorted.
func dumpHeaders(r *httpd.Req) error {
	host, _ := r.HdrValueStr("Host")
	var lines []string
	for name, value := range r.HdrAll() {
		if strings.HasPrefix(name, "x-") || name == "cookie" {
			lines = append(lines, name+": "+value)
		}
	}
	// Sorted: x/net's client sends a request's fields in map order.
	slices.Sort(lines)
	return r.RespSendStr(strings.Join(append([]string{"host: " + host}, lines...), "\n"))
}

// h2Dump sends GET /dump on cl with host and the fields given as name,
// value pairs, and returns the body.
func h2Dump(t *testing.T, cl *http.Client, base, host string, fields ...string) string {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/dump", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Add(fields[i], fields[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || resp.ProtoMajor != 2 {
		t.Fatalf("GET /dump: %d %v %q", resp.StatusCode, err, body)
	}
	return string(body)
}

// TestHTTP2StreamsSeeOnlyTheirHeaders sends requests one after the other
// on one connection, a large header list first and then smaller ones, so
// that later streams run on the recycled structs (and arrays) of earlier
// ones; each must see exactly its own fields.
func TestHTTP2StreamsSeeOnlyTheirHeaders(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/dump", Method: httpd.GET, Handler: dumpHeaders})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	base := "http://" + addr(h)

	var big []string
	want := "host: first.example\ncookie: a=1"
	for i := range 20 {
		name, value := fmt.Sprintf("X-Field-%02d", i), strings.Repeat("v", i+1)
		big = append(big, name, value)
		want += "\n" + strings.ToLower(name) + ": " + value
	}
	big = append(big, "Cookie", "a=1")
	cases := []struct {
		host   string
		fields []string
		want   string
	}{
		{"first.example", big, want},
		{"second.example", []string{"X-Only", "two"}, "host: second.example\nx-only: two"},
		{"third.example", nil, "host: third.example"},
		{"first.example", []string{"X-Field-00", "other"}, "host: first.example\nx-field-00: other"},
	}
	for round := range 2 { // the second round runs every case on recycled state again
		for i, c := range cases {
			if got := h2Dump(t, cl, base, c.host, c.fields...); got != c.want {
				t.Errorf("round %d, request %d:\n%s", round, i, cmp.Diff(c.want, got))
			}
		}
	}
}

// TestHTTP2ConcurrentStreamsSeeOnlyTheirHeaders keeps many streams of one
// connection in flight, each with its own id and a different number of
// fields: queued requests must keep their header lists while the worker
// serves, finishes and recycles the streams before them.
func TestHTTP2ConcurrentStreamsSeeOnlyTheirHeaders(t *testing.T) {
	const n = 60
	cfg := testConfig()
	// Room for every stream at once: x/net's client opens streams before
	// it has the server's SETTINGS, and (seen with x/net v0.62) requests it
	// retries after REFUSED_STREAM can hang until the client's timeout.
	cfg.HTTP2MaxConcurrentStreams = n
	h := start(t, cfg, &httpd.URI{URI: "/dump", Method: httpd.GET, Handler: dumpHeaders})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	base := "http://" + addr(h)

	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fields := []string{"X-Id", fmt.Sprint(i)}
			want := fmt.Sprintf("host: h%d\nx-id: %d", i, i)
			for j := range i % 7 {
				fields = append(fields, fmt.Sprintf("X-Pad-%d", j), fmt.Sprintf("%d-%d", i, j))
				want += fmt.Sprintf("\nx-pad-%d: %d-%d", j, i, j)
			}
			if got := h2Dump(t, cl, base, fmt.Sprintf("h%d", i), fields...); got != want {
				t.Errorf("request %d:\n%s", i, cmp.Diff(want, got))
			}
		}()
	}
	wg.Wait()
}

// TestHTTP2RecycledStreamResponseState answers a stream with a raw chunked
// HTTP/1.1 response (relayed state on the stream responder), then streams
// with bodies of other lengths on the same connection: each gets its own
// status, content-length and body.
func TestHTTP2RecycledStreamResponseState(t *testing.T) {
	h := start(t, testConfig(),
		&httpd.URI{URI: "/raw", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			_, err := r.Send([]byte("HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\nX-Raw: yes\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
			return err
		}},
		&httpd.URI{URI: "/len", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			q, _ := r.URLQueryStr()
			return r.RespSendStr(q)
		}})
	cl := h2Client()
	defer cl.CloseIdleConnections()
	base := "http://" + addr(h)

	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}
	for range 2 {
		resp, body := get("/raw")
		if resp.StatusCode != 202 || body != "hello" || resp.Header.Get("X-Raw") != "yes" {
			t.Fatalf("/raw: %d %q %v", resp.StatusCode, body, resp.Header)
		}
		for _, q := range []string{"a", "abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789", "xy"} {
			resp, body := get("/len?" + q)
			if resp.StatusCode != 200 || body != q || resp.ContentLength != int64(len(q)) || resp.Header.Get("X-Raw") != "" {
				t.Fatalf("/len?%s: %d %q length %d %v", q, resp.StatusCode, body, resp.ContentLength, resp.Header)
			}
		}
	}
}
