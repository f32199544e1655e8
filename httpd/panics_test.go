package httpd_test

// Panics in user code (issue 8): every kind is recovered and logged, the
// session it concerns closes, and the server keeps serving.

import (
	"bufio"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestHostilePanicsRecovered makes each kind of user code panic: each panic
// is recovered and logged, the session it concerns is closed (or, for code
// outside a session, nothing is), and the server answers the next request.
func TestHostilePanicsRecovered(t *testing.T) {
	type setup struct {
		cfg     httpd.Config
		h       *httpd.Handle
		log     *syncBuffer
		trigger func(t *testing.T) // makes the panic happen
	}
	cases := []struct {
		name string
		in   string                // the log's "in" attribute
		conf func(c *httpd.Config) // before Start
		prep func(s *setup)        // after Start
	}{
		{"URI handler after a chunk", "URI handler", nil, func(s *setup) {
			s.h.RegisterURIHandler(&httpd.URI{URI: "/panic", Method: httpd.GET, Handler: func(r *httpd.Req) error {
				r.RespSendStrChunk("partial")
				panic("handler panic mid-response")
			}})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, get("/panic"))
				// The head and one chunk went out; the body never ends.
				resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
				if err != nil {
					t.Fatalf("no response head: %v", err)
				}
				if b, err := io.ReadAll(resp.Body); err == nil || string(b) != "partial" {
					t.Errorf("body %q, %v: want the chunk and an unexpected EOF", b, err)
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
			}
		}},
		{"error handler", "error handler", nil, func(s *setup) {
			s.h.RegisterErrHandler(httpd.Code404NotFound, func(r *httpd.Req, code httpd.ErrCode) error {
				panic("error handler panic")
			})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, get("/nope"))
				resp, _, err := hsRead(br, "GET")
				if err != nil || resp.StatusCode != 500 {
					t.Errorf("panicking 404 handler: %v %v, want 500", resp, err)
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
			}
		}},
		{"work function", "work function", nil, func(s *setup) {
			s.trigger = func(t *testing.T) {
				if err := s.h.QueueWork(func() { panic("work panic") }); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"open callback", "open callback", func(c *httpd.Config) {
			var once atomic.Bool
			c.OpenFn = func(*httpd.Handle, int) error {
				if once.CompareAndSwap(false, true) {
					panic("open panic")
				}
				return nil
			}
		}, func(s *setup) {
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				if err := hsClosed(nc, bufio.NewReader(nc), 3*time.Second); err != nil {
					t.Errorf("session whose open callback panicked: %v", err)
				}
			}
		}},
		{"close callback", "close callback", func(c *httpd.Config) {
			c.CloseFn = func(*httpd.Handle, int) { panic("close panic") }
		}, func(s *setup) {
			freed := make(chan struct{}, 1)
			s.h.RegisterURIHandler(&httpd.URI{URI: "/ctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
				r.SessCtx, r.FreeCtx = "ctx", func(any) { freed <- struct{}{} }
				return r.RespSendStr("ctx set")
			}})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, "GET /ctx HTTP/1.1\r\nConnection: close\r\n\r\n")
				if _, _, err := hsRead(br, "GET"); err != nil {
					t.Fatal(err)
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
				select {
				case <-freed:
				case <-time.After(3 * time.Second):
					t.Error("session context not freed after the close callback panicked")
				}
				if !hsWaitFor(3*time.Second, func() bool { return len(s.h.GetClientList()) == 0 }) {
					t.Errorf("session left open: %v", s.h.GetClientList())
				}
			}
		}},
		{"session context free function", "session context free function", nil, func(s *setup) {
			s.h.RegisterURIHandler(&httpd.URI{URI: "/ctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
				// Replacing the context frees the previous one, which
				// panics; so does the last one when the session closes.
				r.SessCtx, r.FreeCtx = r.URI, func(any) { panic("free panic") }
				return r.RespSendStr("ctx set")
			}})
			s.trigger = func(t *testing.T) {
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				io.WriteString(nc, get("/ctx?1")+get("/ctx?2")+"GET /ctx?3 HTTP/1.1\r\nConnection: close\r\n\r\n")
				for i := range 3 {
					if resp, _, err := hsRead(br, "GET"); err != nil || resp.StatusCode != 200 {
						t.Fatalf("request %d: %v", i, err)
					}
				}
				if err := hsClosed(nc, br, 3*time.Second); err != nil {
					t.Error(err)
				}
			}
		}},
		{"event handler", "event handler", func(c *httpd.Config) {
			c.EventHandler = func(e httpd.Event) { panic("event panic: " + e.ID.String()) }
		}, func(s *setup) {
			s.trigger = func(t *testing.T) {
				// Every event panics, and the request is still served on
				// a session that stays open.
				nc := dial(t, s.h)
				br := bufio.NewReader(nc)
				for range 2 {
					io.WriteString(nc, get("/hello"))
					if resp, body, err := hsRead(br, "GET"); err != nil || body != "Hello World!" {
						t.Fatalf("with a panicking event handler: %v %v %q", resp, err, body)
					}
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &setup{cfg: testConfig(), log: &syncBuffer{}}
			s.cfg.Logger = s.log.logger()
			if tc.conf != nil {
				tc.conf(&s.cfg)
			}
			s.h = start(t, s.cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
			tc.prep(s)
			s.trigger(t)
			if !hsWaitFor(3*time.Second, func() bool {
				return strings.Contains(s.log.String(), "recovered from panic") &&
					strings.Contains(s.log.String(), "in=\""+tc.in+"\"")
			}) {
				t.Errorf("no recovered panic in %q logged:\n%s", tc.in, s.log.String())
			}
			if err := hsGet(addr(s.h), "/hello", "Hello World!"); err != nil {
				t.Errorf("server not serving after a panic in the %s: %v", tc.in, err)
			}
		})
	}

	t.Run("global context free function at Stop", func(t *testing.T) {
		before := runtime.NumGoroutine()
		log := &syncBuffer{}
		cfg := testConfig()
		cfg.Logger = log.logger()
		cfg.GlobalUserCtx = "g"
		cfg.GlobalUserCtxFreeFn = func(any) { panic("global free panic") }
		h, err := httpd.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !strings.Contains(log.String(), "recovered from panic") {
			t.Errorf("panic not logged:\n%s", log.String())
		}
		checkGoroutines(t, before)
	})
}

func TestPanickingHandlerRecovered(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/panic", Method: httpd.GET, Handler: func(r *httpd.Req) error { panic("boom") }})
	c := newClient(t, h)
	resp := c.do(get("/panic"))
	if resp.StatusCode != 500 || resp.body != "Server has encountered an unexpected error" {
		t.Fatalf("panic answered %d %q", resp.StatusCode, resp.body)
	}
	c.expectClosed()
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("server not serving after a panic")
	}
}
