package httpd_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

// protoClients runs f once over HTTP/1.1 and once over h2c.
func protoClients(t *testing.T, srv *httpdtest.Server, f func(t *testing.T, c *http.Client, proto string)) {
	t.Helper()
	for _, p := range []struct {
		proto  string
		client *http.Client
	}{{"HTTP/1.1", srv.Client()}, {"HTTP/2.0", srv.H2Client()}} {
		t.Run(p.proto, func(t *testing.T) { f(t, p.client, p.proto) })
	}
}

// fetch does req and returns the response with its body read.
func fetch(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

func newReq(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestFromHTTPPprofIndex proves a standard handler that routes on the full
// path serves under a wildcard template.
func TestFromHTTPPprofIndex(t *testing.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/debug/pprof/*", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(pprof.Index)),
	})
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		resp, body := fetch(t, c, newReq(t, "GET", srv.URL+"/debug/pprof/", nil))
		if resp.StatusCode != 200 || !strings.Contains(body, "goroutine") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("index: %d %q %.200q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		resp, body = fetch(t, c, newReq(t, "GET", srv.URL+"/debug/pprof/goroutine?debug=1", nil))
		if resp.StatusCode != 200 || !strings.Contains(body, "goroutine profile:") {
			t.Errorf("goroutine profile: %d %.200q", resp.StatusCode, body)
		}
	})
}

// TestFromHTTPFileServerFS proves http.FileServerFS under a prefix works
// with its conditional, range and HEAD logic intact over both protocols.
func TestFromHTTPFileServerFS(t *testing.T) {
	modTime := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	content := strings.Repeat("0123456789", 100)
	fsys := fstest.MapFS{"static/a.txt": {Data: []byte(content), ModTime: modTime}}
	cfg := httpdtest.Config()
	cfg.MaxRespHeaders = 16
	srv := httpdtest.Start(t, cfg, &httpd.URI{
		URI: "/files/*", Method: httpd.ANY, Handler: httpd.FromHTTP(http.StripPrefix("/files", http.FileServerFS(fsys))),
	})
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		resp, body := fetch(t, c, newReq(t, "GET", srv.URL+"/files/static/a.txt", nil))
		if resp.StatusCode != 200 || body != content || resp.ContentLength != int64(len(content)) ||
			resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
			resp.Header.Get("Last-Modified") != modTime.Format(http.TimeFormat) {
			t.Errorf("GET: %d len %d CL %d %v", resp.StatusCode, len(body), resp.ContentLength, resp.Header)
		}

		req := newReq(t, "GET", srv.URL+"/files/static/a.txt", nil)
		req.Header.Set("Range", "bytes=10-19")
		resp, body = fetch(t, c, req)
		if resp.StatusCode != 206 || body != content[10:20] || resp.Header.Get("Content-Range") != "bytes 10-19/1000" {
			t.Errorf("Range: %d %q %v", resp.StatusCode, body, resp.Header)
		}

		req = newReq(t, "GET", srv.URL+"/files/static/a.txt", nil)
		req.Header.Set("If-Modified-Since", modTime.Format(http.TimeFormat))
		resp, body = fetch(t, c, req)
		if resp.StatusCode != 304 || body != "" {
			t.Errorf("If-Modified-Since: %d %q", resp.StatusCode, body)
		}

		resp, body = fetch(t, c, newReq(t, "HEAD", srv.URL+"/files/static/a.txt", nil))
		if resp.StatusCode != 200 || body != "" || resp.ContentLength != int64(len(content)) {
			t.Errorf("HEAD: %d CL %d %q", resp.StatusCode, resp.ContentLength, body)
		}

		resp, _ = fetch(t, c, newReq(t, "GET", srv.URL+"/files/static/missing", nil))
		if resp.StatusCode != 404 {
			t.Errorf("missing file: %d", resp.StatusCode)
		}
	})
}

// TestFromHTTPServeMuxUnderPrefix proves a ServeMux mounted with
// StripPrefix sees the stripped path, path values, query, headers and
// method, and that its own 404 and 405 answers reach the client.
func TestFromHTTPServeMuxUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Item", r.PathValue("id"))
		fmt.Fprintf(w, "%s %s id=%s q=%s h=%s host=%s", r.Method, r.URL.Path, r.PathValue("id"),
			r.URL.Query().Get("q"), r.Header.Get("X-Custom"), r.Host)
	})
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/api/*", Method: httpd.ANY, Handler: httpd.FromHTTP(http.StripPrefix("/api", mux)),
	})
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		req := newReq(t, "GET", srv.URL+"/api/items/42?q=x%20y", nil)
		req.Header.Set("X-Custom", "hello")
		resp, body := fetch(t, c, req)
		want := "GET /items/42 id=42 q=x y h=hello host=" + srv.Addr
		if resp.StatusCode != 200 || body != want || resp.Header.Get("X-Item") != "42" {
			t.Errorf("got %d %q %v, want 200 %q", resp.StatusCode, body, resp.Header, want)
		}
		resp, _ = fetch(t, c, newReq(t, "GET", srv.URL+"/api/nothing", nil))
		if resp.StatusCode != 404 {
			t.Errorf("unknown path: %d, want the mux's 404", resp.StatusCode)
		}
		resp, _ = fetch(t, c, newReq(t, "DELETE", srv.URL+"/api/items/42", nil))
		if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
			t.Errorf("DELETE: %d Allow=%q, want the mux's 405", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}

// TestFromHTTPFlushStreams proves Flush sends what was written before the
// handler returns: the handler waits for the client to have read the
// first part before writing the second.
func TestFromHTTPFlushStreams(t *testing.T) {
	gotFirst := make(chan struct{}, 1)
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/stream", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first;")
			w.(http.Flusher).Flush()
			select {
			case <-gotFirst:
				io.WriteString(w, "second")
			case <-time.After(httpdtest.Timeout):
				io.WriteString(w, "client never saw the first part")
			}
		})),
	})
	protoClients(t, srv, func(t *testing.T, c *http.Client, proto string) {
		resp, err := c.Get(srv.URL + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ContentLength != -1 || (proto == "HTTP/1.1" && fmt.Sprint(resp.TransferEncoding) != "[chunked]") {
			t.Errorf("framing: CL %d TE %v, want streamed", resp.ContentLength, resp.TransferEncoding)
		}
		first := make([]byte, len("first;"))
		if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "first;" {
			t.Fatalf("first part: %q %v", first, err)
		}
		gotFirst <- struct{}{}
		rest, err := io.ReadAll(resp.Body)
		if err != nil || string(rest) != "second" {
			t.Errorf("rest: %q %v", rest, err)
		}
	})
}

// TestFromHTTPEchoOneMiB proves a large request body streams through the
// handler and a response larger than the buffer goes out chunked, byte
// for byte, and that a small response gets a Content-Length.
func TestFromHTTPEchoOneMiB(t *testing.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/echo", Method: httpd.POST, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Length", fmt.Sprint(r.ContentLength))
			if _, err := io.Copy(w, r.Body); err != nil {
				t.Errorf("copy: %v", err)
			}
		})),
	})
	big := make([]byte, 1<<20)
	rand.Read(big)
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		for _, tc := range []struct {
			name   string
			body   []byte
			wantCL int64
		}{
			{"1 MiB", big, -1},
			{"small", big[:1000], 1000},
		} {
			resp, body := fetch(t, c, newReq(t, "POST", srv.URL+"/echo", bytes.NewReader(tc.body)))
			if resp.StatusCode != 200 || !bytes.Equal([]byte(body), tc.body) ||
				resp.ContentLength != tc.wantCL || resp.Header.Get("X-Request-Length") != fmt.Sprint(len(tc.body)) {
				t.Errorf("%s: %d, body equal %v, CL %d (want %d), X-Request-Length %s", tc.name, resp.StatusCode,
					bytes.Equal([]byte(body), tc.body), resp.ContentLength, tc.wantCL, resp.Header.Get("X-Request-Length"))
			}
		}
	})
}

// TestFromHTTPRequestFields proves the *http.Request carries what net/http
// would give: RemoteAddr of the client, Proto, Host, ContentLength -1 and
// TransferEncoding for a chunked body, the local address in the context,
// and a context cancelled once the handler returned.
func TestFromHTTPRequestFields(t *testing.T) {
	type seen struct {
		remote, proto, host, local, body string
		length                           int64
		te                               []string
		ctx                              context.Context
	}
	got := make(chan seen, 1)
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/fields", Method: httpd.POST, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
			got <- seen{r.RemoteAddr, r.Proto, r.Host, fmt.Sprint(local), string(body), r.ContentLength, r.TransferEncoding, r.Context()}
		})),
	})
	c := srv.Dial()
	io.WriteString(c, "POST /fields HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := <-got
	want := seen{c.LocalAddr().String(), "HTTP/1.1", "example.test", srv.Addr, "abc", -1, []string{"chunked"}, s.ctx}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	select {
	case <-s.ctx.Done():
	case <-time.After(httpdtest.Timeout):
		t.Error("request context not cancelled after the handler returned")
	}
}

// TestFromHTTPMalformedTarget proves a request target the handle routes
// but net/url cannot parse is answered 400, and the session stays usable.
func TestFromHTTPMalformedTarget(t *testing.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/x/*", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		})),
	})
	c := srv.Dial()
	br := bufio.NewReader(c)
	for _, tc := range []struct {
		target string
		status int
	}{{"/x/%zz", 400}, {"/x/fine", 200}} {
		io.WriteString(c, "GET "+tc.target+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.target, resp.StatusCode, tc.status)
		}
	}
}

// TestFromHTTPTooManyHeaders proves a handler setting more headers than
// Config.MaxRespHeaders gets a 500 naming the limit, not a truncated
// response, and that invalid header fields are dropped as net/http does.
func TestFromHTTPTooManyHeaders(t *testing.T) {
	cfg := httpdtest.Config()
	cfg.MaxRespHeaders = 2
	srv := httpdtest.Start(t, cfg, &httpd.URI{
		URI: "/h/*", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := 2
			if r.URL.Path == "/h/many" {
				n = 3
			}
			for i := range n {
				w.Header().Set(fmt.Sprintf("X-H%d", i), "v")
			}
			w.Header().Set("Bad Name", "v")
			w.Header().Set("X-H0", "line\r\nInjected: yes")
			io.WriteString(w, "body")
		})),
	})
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		resp, body := fetch(t, c, newReq(t, "GET", srv.URL+"/h/many", nil))
		if resp.StatusCode != 500 || !strings.Contains(body, "MaxRespHeaders") {
			t.Errorf("3 headers: %d %q", resp.StatusCode, body)
		}
		resp, body = fetch(t, c, newReq(t, "GET", srv.URL+"/h/two", nil))
		if resp.StatusCode != 200 || body != "body" || resp.Header.Get("X-H0") != "line Injected: yes" || resp.Header.Get("Injected") != "" {
			t.Errorf("2 headers: %d %q %v", resp.StatusCode, body, resp.Header)
		}
	})
}

// TestFromHTTPAsync proves the composition the godoc shows: a slow
// net/http handler run through AsyncHandlerBegin leaves the worker free for
// other requests.
func TestFromHTTPAsync(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	slow := httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "slow done")
	}))
	srv := httpdtest.Start(t, httpdtest.Config(),
		&httpd.URI{URI: "/slow", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			ar, err := r.AsyncHandlerBegin()
			if err != nil {
				return err
			}
			go func() {
				slow(ar)
				ar.AsyncHandlerComplete()
			}()
			return nil
		}},
		&httpd.URI{URI: "/fast", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "fast")
		}))},
	)
	slowBody := make(chan string, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL + "/slow")
		if err != nil {
			slowBody <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slowBody <- string(b)
	}()
	<-started
	// The fast request is answered while the slow one still waits.
	resp, body := fetch(t, srv.Client(), newReq(t, "GET", srv.URL+"/fast", nil))
	if resp.StatusCode != 200 || body != "fast" {
		t.Errorf("fast: %d %q", resp.StatusCode, body)
	}
	close(release)
	if got := <-slowBody; got != "slow done" {
		t.Errorf("slow: %q", got)
	}
}

// BenchmarkFromHTTPKeepAliveGET is BenchmarkKeepAliveGET with the same
// answer given by a net/http handler through FromHTTP: the difference is
// the adapter's cost (the *http.Request, its header map, the writer).
func BenchmarkFromHTTPKeepAliveGET(b *testing.B) {
	h := start(b, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: httpd.FromHTTP(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "Hello World!")
		}))})
	benchKeepAliveHello(b, h)
}
