package httpd_test

// Per-session state: the session context and its free function, open and
// close callbacks, SessTriggerClose.

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

func TestSessionContext(t *testing.T) {
	freed := make(chan string, 8)
	free := func(ctx any) { freed <- *ctx.(*string) }
	h := start(t, testConfig(), &httpd.URI{URI: "/ctx", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		prev := "none"
		if r.SessCtx != nil {
			prev = *r.SessCtx.(*string)
		}
		if v, err := r.URLQueryStr(); err == nil {
			s := v
			r.SessCtx, r.FreeCtx = &s, free
		}
		if got := r.Handle.SessGetCtx(r.Sockfd()); got != r.SessCtx {
			return errors.New("SessGetCtx does not see the request's context")
		}
		return r.RespSendStr(prev)
	}})
	c := newClient(t, h)
	steps := []struct{ path, want string }{{"/ctx?a", "none"}, {"/ctx", "a"}, {"/ctx?b", "a"}, {"/ctx", "b"}}
	for _, s := range steps {
		if resp := c.do(get(s.path)); resp.body != s.want {
			t.Fatalf("%s: %q, want %q", s.path, resp.body, s.want)
		}
	}
	c.nc.Close()
	// Replacing "a" freed it; closing the session freed "b".
	got := []string{waitChan(t, freed, "the replaced context freed"), waitChan(t, freed, "the context freed at close")}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Fatalf("freed (-want +got):\n%s", diff)
	}
	if len(freed) > 0 {
		t.Fatalf("a context freed twice: also %q", <-freed)
	}
}

func TestOpenAndCloseCallbacks(t *testing.T) {
	events := make(chan string, 16)
	cfg := testConfig()
	var refuse sync.Once
	cfg.OpenFn = func(h *httpd.Handle, fd int) error {
		events <- "open " + strconv.Itoa(fd)
		var err error
		refuse.Do(func() { err = errors.New("refused") })
		return err
	}
	cfg.CloseFn = func(h *httpd.Handle, fd int) { events <- "close " + strconv.Itoa(fd) }
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	c.expectClosed() // the first session was refused
	if got := []string{<-events, <-events}; !cmp.Equal(got, []string{"open 1", "close 1"}) {
		t.Fatalf("refused session events %v", got)
	}
	c = newClient(t, h)
	c.do(get("/hello"))
	if got := <-events; got != "open 1" {
		t.Fatalf("second session: %q", got)
	}
	// A peer reset still runs the close callback.
	c.nc.(*net.TCPConn).SetLinger(0)
	c.nc.Close()
	select {
	case got := <-events:
		if got != "close 1" {
			t.Fatalf("after reset: %q", got)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("close callback did not run after a reset")
	}
}

func TestSessTriggerClose(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/bye", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.Handle.SessTriggerClose(r.Sockfd())
		return r.RespSendStr("bye")
	}}, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	c := newClient(t, h)
	if resp := c.do(get("/bye")); resp.body != "bye" {
		t.Fatal(resp.body)
	}
	c.expectClosed()

	c = newClient(t, h)
	c.do(get("/hello"))
	ids := h.GetClientList()
	if len(ids) != 1 {
		t.Fatalf("client list %v", ids)
	}
	if err := h.SessTriggerClose(ids[0]); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	if err := h.SessTriggerClose(42); !errors.Is(err, httpd.ErrNotFound) {
		t.Fatalf("unknown fd: %v", err)
	}
}
