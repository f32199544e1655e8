package httpd_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

// TestDynamicHandlerResponses restates Zephyr's response_headers tests
// against the 4.x callback: what the callback puts in the response context
// is what the client gets, over HTTP/1.1 and HTTP/2.
func TestDynamicHandlerResponses(t *testing.T) {
	long1, long2 := strings.Repeat("a", 304), strings.Repeat("b", 208)
	variants := []struct {
		name    string
		respond func(call int, resp *httpd.ResponseCtx)
		status  int
		ctype   string
		header  string // Test-Header
		body    string
	}{
		{"none", func(int, *httpd.ResponseCtx) {}, 200, "text/plain", "", ""},
		{"422", func(_ int, r *httpd.ResponseCtx) { r.Status, r.FinalChunk = 422, true }, 422, "text/plain", "", ""},
		{"extra header", func(_ int, r *httpd.ResponseCtx) {
			r.Headers, r.FinalChunk = []httpd.Header{{Name: "Test-Header", Value: "test_data"}}, true
		}, 200, "text/plain", "test_data", ""},
		{"override content type", func(_ int, r *httpd.ResponseCtx) {
			r.Headers, r.FinalChunk = []httpd.Header{{Name: "Content-Type", Value: "application/json"}}, true
		}, 200, "application/json", "", ""},
		{"body separate", func(call int, r *httpd.ResponseCtx) {
			if call == 0 {
				r.Headers = []httpd.Header{{Name: "Test-Header", Value: "test_data"}}
				return
			}
			r.Body, r.FinalChunk = []byte("Test dynamic GET"), true
		}, 200, "text/plain", "test_data", "Test dynamic GET"},
		{"body combined", func(_ int, r *httpd.ResponseCtx) {
			r.Headers = []httpd.Header{{Name: "Test-Header", Value: "test_data"}}
			r.Body, r.FinalChunk = []byte("Test dynamic GET"), true
		}, 200, "text/plain", "test_data", "Test dynamic GET"},
		{"body long", func(call int, r *httpd.ResponseCtx) {
			if call == 0 {
				r.Body = []byte(long1)
				return
			}
			r.Body, r.FinalChunk = []byte(long2), true
		}, 200, "text/plain", "", long1 + long2},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			h := serviceStart(t)
			var mu sync.Mutex
			var posted []byte
			calls := 0
			h.RegisterResource("/response_headers", &httpd.DynamicResource{
				ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST), ContentType: "text/plain"},
				Handler: func(_ *httpd.Req, status httpd.DataStatus, req *httpd.RequestCtx, resp *httpd.ResponseCtx, _ any) error {
					mu.Lock()
					defer mu.Unlock()
					posted = append(posted, req.Data...)
					if status != httpd.DataFinal {
						return nil
					}
					v.respond(calls, resp)
					calls++
					return nil
				},
			})
			check := func(proto string, status int, hdr http.Header, body string) {
				t.Helper()
				got := []string{http.StatusText(status), hdr.Get("Content-Type"), hdr.Get("Test-Header"), body}
				want := []string{http.StatusText(v.status), v.ctype, v.header, v.body}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%s (-want +got):\n%s", proto, diff)
				}
			}
			for _, method := range []string{"GET", "POST"} {
				calls, posted = 0, nil
				c := newClient(t, h)
				req := "GET /response_headers HTTP/1.1\r\n\r\n"
				if method == "POST" {
					req = "POST /response_headers HTTP/1.1\r\nContent-Length: 17\r\n\r\nTest dynamic POST"
				}
				resp := c.do(req)
				check("HTTP/1.1 "+method, resp.StatusCode, resp.Header, resp.body)
				if method == "POST" && string(posted) != "Test dynamic POST" {
					t.Fatalf("POST data %q", posted)
				}

				calls, posted = 0, nil
				cl := h2Client()
				hreq, _ := http.NewRequest(method, "http://"+addr(h)+"/response_headers", strings.NewReader("Test dynamic POST"))
				if method == "GET" {
					hreq.Body = nil
				}
				hresp, err := cl.Do(hreq)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(hresp.Body)
				hresp.Body.Close()
				cl.CloseIdleConnections()
				check("HTTP/2 "+method, hresp.StatusCode, hresp.Header, string(body))
			}
		})
	}
}

// capturedCall is what one callback call saw of the captured headers.
type capturedCall struct {
	Headers []httpd.Header
	Status  string
}

// TestHeaderCapture restates Zephyr's header capture tests: the wanted
// headers reach the first callback in the order sent; one too long for the
// buffer, or one past the count, is dropped and reported while the others
// are kept; later calls get none. CaptureCount 2 and a 64-byte buffer stand
// for the test's Kconfig.
func TestHeaderCapture(t *testing.T) {
	h := serviceStart(t)
	var mu sync.Mutex
	var seen []capturedCall
	h.RegisterResource("/header_capture", &httpd.DynamicResource{
		ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
		CaptureHeaders: []string{"User-Agent", "Test-Header", "Test-Header2"},
		CaptureCount:   2, CaptureBufferSize: 64,
		Buffer: make([]byte, 4), // a 10-byte body takes several calls
		Handler: func(_ *httpd.Req, _ httpd.DataStatus, req *httpd.RequestCtx, _ *httpd.ResponseCtx, _ any) error {
			mu.Lock()
			seen = append(seen, capturedCall{req.Headers, req.HeadersStatus.String()})
			mu.Unlock()
			return nil
		},
	})
	ua := httpd.Header{Name: "User-Agent", Value: "curl/7.68.0"}
	th := httpd.Header{Name: "Test-Header", Value: "test_value"}
	for _, tc := range []struct {
		name, headers string
		want          capturedCall
	}{
		{"captured", "User-Agent: curl/7.68.0\r\nTest-Header: test_value\r\nAccept: */*\r\n",
			capturedCall{[]httpd.Header{ua, th}, "OK"}},
		{"too long", "User-Agent: " + strings.Repeat("a", 65) + "\r\nTest-Header: test_value\r\n",
			capturedCall{[]httpd.Header{th}, "DROPPED"}},
		{"too many", "User-Agent: curl/7.68.0\r\nTest-Header: test_value\r\nTest-Header2: test_value2\r\n",
			capturedCall{[]httpd.Header{ua, th}, "DROPPED"}},
		{"none wanted", "Accept: */*\r\n", capturedCall{nil, "OK"}},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		c := newClient(t, h)
		if resp := c.do("POST /header_capture HTTP/1.1\r\n" + tc.headers + "Content-Length: 10\r\n\r\n{\"test\":1}"); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", tc.name, resp.StatusCode)
		}
		mu.Lock()
		got := seen
		mu.Unlock()
		if len(got) < 2 {
			t.Fatalf("%s: %d calls, want several", tc.name, len(got))
		}
		if diff := cmp.Diff(tc.want, got[0]); diff != "" {
			t.Errorf("%s: first call (-want +got):\n%s", tc.name, diff)
		}
		for i, later := range got[1:] {
			if later.Headers != nil || later.Status != "NONE" {
				t.Errorf("%s: call %d got %v", tc.name, i+2, later)
			}
		}
	}
	if err := h.RegisterResource("/bad", &httpd.DynamicResource{
		Callback:       func(*httpd.Req, httpd.DataStatus, []byte, any) (int, error) { return 0, nil },
		CaptureHeaders: []string{"X"},
	}); err == nil {
		t.Fatal("header capture with the 3.7 callback, which cannot receive them, was accepted")
	}
}
