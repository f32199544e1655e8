package httpdtest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

func hello(r *httpd.Req) error { return r.RespSendStr("Hello World!") }

// TestClientsReachTheServer proves each client the Server hands out talks
// to the handle over the protocol it promises.
func TestClientsReachTheServer(t *testing.T) {
	srv := Start(t, Config(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  string
	}{
		{"HTTP/1.1", srv.Client(), "HTTP/1.1"},
		{"h2c", srv.H2Client(), "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.client.Get(srv.URL + "/hello")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Proto != tc.proto || string(body) != "Hello World!" {
				t.Errorf("got %s %q, want %s %q", resp.Proto, body, tc.proto, "Hello World!")
			}
		})
	}
	t.Run("raw", func(t *testing.T) {
		c := srv.Dial()
		if _, err := io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "Hello World!" {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
	})
}

// TestConfigMountsSubtrees proves the default matcher is the wildcard one:
// a template ending in '*' serves every path under it.
func TestConfigMountsSubtrees(t *testing.T) {
	srv := Start(t, Config(), &httpd.URI{URI: "/files/*", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		return r.RespSendStr(r.URI)
	}})
	resp, err := srv.Client().Get(srv.URL + "/files/a/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "/files/a/b.txt" {
		t.Errorf("got %q", body)
	}
}

// TestWaitGoroutinesReportsLeak proves the leak check fails while a
// goroutine started after the count is still running, and passes once it
// ends.
func TestWaitGoroutinesReportsLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	var wg sync.WaitGroup
	// Twenty leaks, so that goroutines of earlier tests ending meanwhile
	// (HTTP clients' connection loops) cannot bring the count back down.
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); <-release }()
	}
	err := waitGoroutines(before, 50*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "after Stop") {
		t.Fatalf("leak not reported: %v", err)
	}
	close(release)
	wg.Wait()
	if err := waitGoroutines(before, Timeout); err != nil {
		t.Fatal(err)
	}
}

// TestStartFailureIsFatal proves a configuration that cannot start stops
// the test with the cause rather than returning a nil Server.
func TestStartFailureIsFatal(t *testing.T) {
	rec := &recorder{}
	cfg := Config()
	cfg.MaxOpenSockets = 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec, cfg)
		rec.Errorf("Start returned")
	}()
	<-done
	rec.runCleanups()
	if len(rec.fatal) != 1 || !strings.Contains(rec.fatal[0], "MaxOpenSockets") {
		t.Errorf("fatal messages %q, want one naming MaxOpenSockets", rec.fatal)
	}
}

// recorder is a T that records failures instead of failing the test, so
// that the failure paths of Start can be checked. Fatalf ends its goroutine
// with runtime.Goexit, as testing's FailNow does.
type recorder struct {
	mu       sync.Mutex
	fatal    []string
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()    {}
func (r *recorder) Log(...any) {}
func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = append(r.fatal, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// TestStartWithStopsTheHandle proves a handle started by the code under
// test is served to the test like Start's and stopped when the test ends.
func TestStartWithStopsTheHandle(t *testing.T) {
	var srv *Server
	t.Run("inner", func(t *testing.T) {
		srv = StartWith(t, func() (*httpd.Handle, error) {
			h, err := httpd.Start(Config())
			if err == nil {
				err = h.RegisterURIHandler(&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
			}
			return h, err
		})
		resp, err := srv.H2Client().Get(srv.URL + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Proto != "HTTP/2.0" || string(body) != "Hello World!" {
			t.Errorf("%s %q", resp.Proto, body)
		}
	})
	if _, err := http.Get(srv.URL + "/hello"); err == nil {
		t.Error("the handle still serves after its test ended")
	}
}
