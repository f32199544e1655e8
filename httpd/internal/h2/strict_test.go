package h2_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"golang.org/x/net/http2/hpack"
)

// A client in StrictMaxConcurrentStreams mode sends more requests than
// MaxConcurrentStreams on one connection and queues the rest until a
// response frees a slot: every response must end its stream (END_STREAM)
// and free the slot on our side no later than on the client's, and the
// streams refused before the client saw our SETTINGS must be retried.
//
// The requests go through a pool holding one ClientConn that does not
// reserve streams. Through x/net's own pool (Transport.ConnPool nil) the
// client itself stalls, whatever the server does (golang/go#70809): with
// StrictMaxConcurrentStreams the pool reserves a slot for every caller
// (ReserveNewRequest), only one caller at a time waits for a free slot
// (under reqHeaderMu), and the other callers' reservations count as slots
// in use (currentRequestCountLocked = streams + reservations + pending
// resets). Once MaxConcurrentStreams or more callers sit on reservations,
// no slot is ever free, even with no stream open. x/net's own server stalls
// the same way: see TestStrictClientPoolStallIsClientSide.
func TestStrictClientManyStreams(t *testing.T) {
	var served atomic.Int32
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		served.Add(1)
		time.Sleep(5 * time.Millisecond) // a slow handler is the behaviour under test: streams pile up
		c.WriteHeaders(ev.Stream, 200, []hpack.HeaderField{{Name: "content-type", Value: "text/plain"}}, false)
		c.WriteData(ev.Stream, []byte(ev.Path), true, time.Now().Add(2*time.Second))
	})

	tr := strictTransport()
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cc, err := tr.NewClientConn(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	defer cc.Close()
	tr.ConnPool = singleConnPool{cc}
	// The requests start before the client has seen our SETTINGS (it
	// assumes 100 streams until then): the ones it opens past 10 before
	// then are refused with REFUSED_STREAM and retried by the Transport.
	n := 30
	strictGets(t, &http.Client{Timeout: 5 * time.Second, Transport: tr}, s.Addr(), n)
	if got := served.Load(); got != int32(n) {
		t.Errorf("served %d requests, want %d", got, n)
	}
	if st := cc.State(); st.StreamsActive != 0 || st.Closed {
		t.Errorf("client conn state after the requests: %+v", st)
	}
}

func strictTransport() *http2.Transport {
	return &http2.Transport{AllowHTTP: true, StrictMaxConcurrentStreams: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
}

// strictGets runs n concurrent GET /slow?i and checks each body echoes its
// path.
func strictGets(t *testing.T, cl *http.Client, addr string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/slow?%d", i)
			resp, err := cl.Get("http://" + addr + path)
			if err != nil {
				t.Error(err)
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(body) != path {
				t.Errorf("GET %s: %d %q %v", path, resp.StatusCode, body, err)
			}
		}()
	}
	wg.Wait()
}

// singleConnPool hands out one ClientConn without reserving streams on it.
type singleConnPool struct{ cc *http2.ClientConn }

func (p singleConnPool) GetClientConn(*http.Request, string) (*http2.ClientConn, error) {
	return p.cc, nil
}

func (p singleConnPool) MarkDead(*http2.ClientConn) {}

// TestStrictClientPoolStallIsClientSide runs the stalling load (30 requests
// through x/net's pool in StrictMaxConcurrentStreams mode, 10 streams, a
// 5 ms handler) against this engine and against x/net's own server with the
// same MaxConcurrentStreams, and logs how many requests failed on each.
// While golang/go#70809 is open both stall (how many requests get through
// depends on when the callers reserve their slots); it fails only if x/net's
// server serves all of them and the engine does not. It takes a few seconds
// while the bug is there, so it runs only with H2_STRICT_POOL_STALL=1.
func TestStrictClientPoolStallIsClientSide(t *testing.T) {
	if os.Getenv("H2_STRICT_POOL_STALL") == "" {
		t.Skip("set H2_STRICT_POOL_STALL=1 to run (x/net client stall, golang/go#70809)")
	}
	const n = 30
	run := func(addr string) (failed int) {
		tr := strictTransport()
		defer tr.CloseIdleConnections()
		cl := &http.Client{Timeout: 2 * time.Second, Transport: tr}
		var wg sync.WaitGroup
		var bad atomic.Int32
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := cl.Get(fmt.Sprintf("http://%s/slow?%d", addr, i))
				if err != nil {
					bad.Add(1)
					return
				}
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}()
		}
		wg.Wait()
		return int(bad.Load())
	}

	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		time.Sleep(5 * time.Millisecond) // a slow handler is the behaviour under test: streams pile up
		c.WriteHeaders(ev.Stream, 200, []hpack.HeaderField{{Name: "content-type", Value: "text/plain"}}, false)
		c.WriteData(ev.Stream, []byte(ev.Path), true, time.Now().Add(2*time.Second))
	})
	engineFailed := run(s.Addr())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond) // a slow handler is the behaviour under test: streams pile up
		w.Header().Set("content-type", "text/plain")
		io.WriteString(w, r.URL.RequestURI())
	})
	hs := &http.Server{Handler: h2c.NewHandler(h, &http2.Server{MaxConcurrentStreams: h2.DefaultMaxConcurrentStreams})}
	go hs.Serve(ln)
	defer hs.Close()
	xnetFailed := run(ln.Addr().String())

	t.Logf("of %d requests, failed: engine %d, x/net server %d", n, engineFailed, xnetFailed)
	if engineFailed > 0 && xnetFailed == 0 {
		t.Errorf("the engine failed %d requests, x/net's server none", engineFailed)
	}
}
