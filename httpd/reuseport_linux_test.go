package httpd_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// startPair starts two handles with ReusePort on one loopback port. GET
// /who answers "handle=N fd=F visits=V": which handle served, the
// session's fd, and how many requests that handle's session context has
// counted on this connection.
func startPair(t *testing.T, tune func(*httpd.Config)) [2]*httpd.Handle {
	t.Helper()
	var hs [2]*httpd.Handle
	for i := range hs {
		cfg := testConfig()
		cfg.ReusePort = true
		if i > 0 {
			cfg.ServerPort = uint16(hs[0].Port())
		}
		if tune != nil {
			tune(&cfg)
		}
		name := strconv.Itoa(i + 1)
		hs[i] = start(t, cfg, &httpd.URI{URI: "/who", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			visits, _ := r.SessCtx.(int)
			visits++
			r.SessCtx = visits
			return r.RespSendStr(fmt.Sprintf("handle=%s fd=%d visits=%d", name, r.Sockfd(), visits))
		}})
	}
	if hs[0].Port() != hs[1].Port() {
		t.Fatalf("ports %d and %d", hs[0].Port(), hs[1].Port())
	}
	return hs
}

// who is one /who answer.
type who struct{ handle, fd, visits int }

func ask(t *testing.T, c *client) who {
	t.Helper()
	r := c.do(get("/who"))
	var w who
	if _, err := fmt.Sscanf(r.body, "handle=%d fd=%d visits=%d", &w.handle, &w.fd, &w.visits); err != nil {
		t.Fatalf("/who answered %q: %v", r.body, err)
	}
	return w
}

func TestReusePortSpreadsConnections(t *testing.T) {
	hs := startPair(t, nil)
	// Every connection comes from a new source port, which the kernel
	// hashes: the chance that 64 all land on one of two handles is 2^-63.
	var served [3]int
	for range 64 {
		c := newClient(t, hs[0])
		served[ask(t, c).handle]++
		c.nc.Close()
	}
	if served[1] == 0 || served[2] == 0 {
		t.Fatalf("handle 1 served %d connections, handle 2 %d: want both some", served[1], served[2])
	}
}

// TestReusePortHandlesKeepOwnSessions opens keep-alive connections to a
// port shared by two handles with MaxOpenSockets 3 and LRU purge on, until
// each handle has had more than 3. A purge on one handle must close only
// that handle's least recently used session: in the end each handle holds
// exactly its own last 3 connections, which still carry their session
// context, and every older connection is closed.
func TestReusePortHandlesKeepOwnSessions(t *testing.T) {
	const limit = 3
	hs := startPair(t, func(cfg *httpd.Config) {
		cfg.MaxOpenSockets = limit
		cfg.LRUPurgeEnable = true
	})
	var byHandle [3][]*client
	var fds [3][]int
	for n := 0; len(byHandle[1]) <= limit || len(byHandle[2]) <= limit; n++ {
		if n == 200 {
			t.Fatalf("200 connections, yet handle 1 got %d and handle 2 got %d", len(byHandle[1]), len(byHandle[2]))
		}
		c := newClient(t, hs[0])
		w := ask(t, c)
		if w.visits != 1 {
			t.Fatalf("new connection's session counted %d visits", w.visits)
		}
		byHandle[w.handle] = append(byHandle[w.handle], c)
		fds[w.handle] = append(fds[w.handle], w.fd)
	}
	for i, h := range hs {
		n := i + 1
		kept := byHandle[n][len(byHandle[n])-limit:]
		for j, c := range kept {
			w := ask(t, c)
			if w.handle != n || w.visits != 2 {
				t.Errorf("handle %d's connection %d answered by handle %d with %d visits, want %d and 2", n, j, w.handle, w.visits, n)
			}
		}
		for _, c := range byHandle[n][:len(byHandle[n])-limit] {
			c.expectClosed()
		}
		want := slices.Sorted(slices.Values(fds[n][len(fds[n])-limit:]))
		if got := slices.Sorted(slices.Values(h.GetClientList())); !slices.Equal(got, want) {
			t.Errorf("handle %d's client list %v, want its last %d sessions %v", n, got, limit, want)
		}
	}
}

func TestReusePortRejectsListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig()
	cfg.Listener, cfg.ReusePort = ln, true
	h, err := httpd.Start(cfg)
	if err == nil {
		h.Stop()
		t.Fatal("Start accepted ReusePort with a Listener")
	}
	if !errors.Is(err, httpd.ErrInvalidArg) || !strings.Contains(err.Error(), "ReusePort") {
		t.Fatalf("error %q does not name ReusePort", err)
	}
}

// TestWithoutReusePortSecondHandleFails checks that the option is what
// lets the second handle bind: without it on both, the port is taken.
func TestWithoutReusePortSecondHandleFails(t *testing.T) {
	tests := []struct {
		name          string
		first, second bool
	}{
		{"neither", false, false},
		{"first only", true, false},
		{"second only", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.ReusePort = tt.first
			h := start(t, cfg)
			cfg = testConfig()
			cfg.ReusePort = tt.second
			cfg.ServerPort = uint16(h.Port())
			h2, err := httpd.Start(cfg)
			if err == nil {
				h2.Stop()
				t.Fatal("a second handle bound the port")
			}
			if !strings.Contains(err.Error(), "address already in use") {
				t.Fatalf("error %q, want address already in use", err)
			}
		})
	}
}
