package httpd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

var errCallback = errors.New("callback refuses")

// failingResources are the same resource written against both callback
// APIs: it fails when the path ends in "fail", and echoes otherwise.
func failingResources() map[string]*httpd.DynamicResource {
	all := httpd.Methods(httpd.GET, httpd.POST)
	return map[string]*httpd.DynamicResource{
		"3.7": {ResourceDetail: httpd.ResourceDetail{Methods: all},
			Callback: func(r *httpd.Req, _ httpd.DataStatus, data []byte, _ any) (int, error) {
				if strings.HasSuffix(r.URI, "fail") {
					return 0, errCallback
				}
				return len(data), nil
			}},
		"4.x": {ResourceDetail: httpd.ResourceDetail{Methods: all},
			Handler: func(r *httpd.Req, _ httpd.DataStatus, req *httpd.RequestCtx, resp *httpd.ResponseCtx, _ any) error {
				if strings.HasSuffix(r.URI, "fail") {
					return errCallback
				}
				resp.Body = req.Data
				return nil
			}},
	}
}

// TestDynamicCallbackFailureIs500 checks that a callback failing before it
// sent anything gets its request a 500, over HTTP/1.1 and HTTP/2, for a
// request answered at once (GET) and one whose body is handed over piece by
// piece (POST), and that the connection then serves the next request.
func TestDynamicCallbackFailureIs500(t *testing.T) {
	for api, res := range failingResources() {
		t.Run(api, func(t *testing.T) {
			cfg := httpd.ServiceConfig("127.0.0.1", 0, 4, 4)
			var opened atomic.Int32
			cfg.OpenFn = func(*httpd.Handle, int) error { opened.Add(1); return nil }
			h := start(t, cfg)
			if err := h.RegisterResource("/dyn*", res); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, h)
			for _, req := range []string{
				"GET /dyn/fail HTTP/1.1\r\n\r\n",
				"POST /dyn/fail HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
			} {
				method, _, _ := strings.Cut(req, " ")
				if resp := c.do(req); resp.StatusCode != 500 {
					t.Fatalf("HTTP/1.1 %s: %d %q, want 500", method, resp.StatusCode, resp.body)
				}
				if resp := c.do("POST /dyn/ok HTTP/1.1\r\nContent-Length: 2\r\n\r\nok"); resp.StatusCode != 200 || resp.body != "ok" {
					t.Fatalf("HTTP/1.1 after a failed %s: %d %q", method, resp.StatusCode, resp.body)
				}
			}

			cl := h2Client()
			defer cl.CloseIdleConnections()
			for _, method := range []string{"GET", "POST"} {
				req, _ := http.NewRequest(method, "http://"+addr(h)+"/dyn/fail", strings.NewReader("hello"))
				resp, err := cl.Do(req)
				if err != nil {
					t.Fatalf("HTTP/2 %s: %v", method, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 500 || resp.ProtoMajor != 2 {
					t.Fatalf("HTTP/2 %s: %s %d, want a 500 on the stream", method, resp.Proto, resp.StatusCode)
				}
				resp, err = cl.Post("http://"+addr(h)+"/dyn/ok", "text/plain", strings.NewReader("ok"))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != "ok" {
					t.Fatalf("HTTP/2 after a failed %s: %q", method, body)
				}
			}
			// One HTTP/1.1 and one HTTP/2 connection served everything.
			if n := opened.Load(); n != 2 {
				t.Fatalf("%d connections opened, want 2: a failure closed one", n)
			}
		})
	}
}

// TestDynamicFailureMidResponseCutsOff checks that a callback failing after
// part of its response went out does not end the response as if complete:
// the HTTP/1.1 connection closes without the last chunk.
func TestDynamicFailureMidResponseCutsOff(t *testing.T) {
	h := serviceStart(t)
	calls := 0
	h.RegisterResource("/half", &httpd.DynamicResource{
		ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
		Handler: func(_ *httpd.Req, status httpd.DataStatus, _ *httpd.RequestCtx, resp *httpd.ResponseCtx, _ any) error {
			calls++
			if calls%2 == 0 {
				return errCallback
			}
			resp.Body = []byte("first half")
			return nil
		},
	})
	for _, req := range []string{"GET /half HTTP/1.1\r\n\r\n", "POST /half HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"} {
		c := newClient(t, h)
		c.send(req)
		raw, _ := io.ReadAll(c.br) // until the server closes
		if !bytes.Contains(raw, []byte("first half")) || bytes.HasSuffix(raw, []byte("0\r\n\r\n")) {
			t.Fatalf("%q: got %q, want the first chunk and no last chunk", req, raw)
		}
	}
}

// TestDynamicResourceBusyIs409 restates Zephyr's holder: while one client's
// body is being handed to the callback, another request to the resource is
// answered 409 Conflict, and served normally once the first one is done.
// The worker stays free meanwhile: another resource answers at once.
func TestDynamicResourceBusyIs409(t *testing.T) {
	h := serviceStart(t)
	sawMore := make(chan struct{}, 1)
	h.RegisterResource("/dynamic", &httpd.DynamicResource{
		ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
		Callback: func(_ *httpd.Req, status httpd.DataStatus, data []byte, _ any) (int, error) {
			if status == httpd.DataMore {
				select {
				case sawMore <- struct{}{}:
				default:
				}
			}
			return len(data), nil
		},
	})
	h.RegisterResource("/other", &httpd.StaticResource{Data: []byte("other")})
	size := 64 << 10 // over MaxBufferedBody: the handler starts before the body is in
	body := bytes.Repeat([]byte("z"), size)
	first := newClient(t, h)
	first.send(fmt.Sprintf("POST /dynamic HTTP/1.1\r\nContent-Length: %d\r\n\r\n", size) + string(body[:size/2]))
	<-sawMore

	second := newClient(t, h)
	for _, req := range []string{"POST /dynamic HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", get("/dynamic")} {
		if resp := second.do(req); resp.StatusCode != 409 {
			t.Fatalf("while busy: %d %q, want 409", resp.StatusCode, resp.body)
		}
	}
	if resp := second.do(get("/other")); resp.body != "other" {
		t.Fatalf("another resource while busy: %d %q", resp.StatusCode, resp.body)
	}
	first.send(string(body[size/2:]))
	if resp := first.read("POST"); resp.StatusCode != 200 || resp.body != string(body) {
		t.Fatalf("the holder: %d, %d bytes echoed", resp.StatusCode, len(resp.body))
	}
	if resp := second.do("POST /dynamic HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"); resp.StatusCode != 200 || resp.body != "hi" {
		t.Fatalf("after the holder: %d %q", resp.StatusCode, resp.body)
	}
}
