package httpd_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// toHTTPServer serves handler from an httptest.Server: over HTTP/1.1, or
// over TLS with HTTP/2 when h2 is set. The client it returns speaks that
// protocol; the cleanup closes both and checks for leaked goroutines.
func toHTTPServer(t *testing.T, handler http.Handler, h2 bool) (*httptest.Server, *http.Client) {
	t.Helper()
	before := runtime.NumGoroutine()
	srv := httptest.NewUnstartedServer(handler)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	client := srv.Client()
	client.Timeout = 20 * time.Second
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
		checkGoroutines(t, before)
	})
	return srv, client
}

// toHTTPProtocols runs f over HTTP/1.1 and over h2 (TLS).
func toHTTPProtocols(t *testing.T, f func(t *testing.T, h2 bool, proto string)) {
	t.Run("HTTP/1.1", func(t *testing.T) { f(t, false, "HTTP/1.1") })
	t.Run("HTTP/2.0", func(t *testing.T) { f(t, true, "HTTP/2.0") })
}

// protocolMux mounts every handler and resource of the protocol table on
// a ServeMux, each through ToHTTP.
func protocolMux(t *testing.T) *http.ServeMux {
	mux := http.NewServeMux()
	for _, u := range protocolURIs() {
		mux.Handle(u.Method.String()+" "+u.URI, httpd.ToHTTP(u.Handler))
	}
	for _, res := range protocolResources() {
		fn, err := httpd.ResourceHandler(res.detail)
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(res.path, httpd.ToHTTP(fn))
	}
	return mux
}

// TestToHTTPEveryCall runs TestEveryProtocol's table against the same
// handlers served by net/http through ToHTTP, over HTTP/1.1 and h2, with
// the same expectations. Two rows test the handle's router, not a
// handler: under net/http the ServeMux routes, so for those the status
// must match (404, 405) but the body is the mux's own text. Raw Send,
// the session context (within its one request), async requests and
// QueueWork all hold.
func TestToHTTPEveryCall(t *testing.T) {
	routing := map[string]bool{"no such URI": true, "method not allowed": true}
	table := protocolTable()
	toHTTPProtocols(t, func(t *testing.T, h2 bool, proto string) {
		srv, client := toHTTPServer(t, protocolMux(t), h2)
		do := func(t *testing.T, method, path string, hdr http.Header, body []byte) (*http.Response, []byte) {
			t.Helper()
			resp, got := sendRequest(t, client, method, srv.URL+path, hdr, body)
			if resp.Proto != proto {
				t.Fatalf("%s %s went over %s, want %s", method, path, resp.Proto, proto)
			}
			return resp, got
		}
		for _, x := range table {
			t.Run(x.name, func(t *testing.T) {
				resp, got := do(t, x.method, x.path, x.hdr, x.body)
				if resp.StatusCode != x.want.status {
					t.Errorf("status %d, want %d", resp.StatusCode, x.want.status)
				}
				if !routing[x.name] && !bytes.Equal(got, x.want.body) {
					t.Errorf("body %d bytes %.40q, want %d bytes %.40q", len(got), got, len(x.want.body), x.want.body)
				}
				for k, v := range x.want.header {
					if g := resp.Header.Get(k); g != v {
						t.Errorf("header %s: %q, want %q", k, g, v)
					}
				}
			})
		}
		resp, _ := do(t, "GET", "/static", nil, nil)
		etag := resp.Header.Get("ETag")
		resp, got := do(t, "GET", "/static", http.Header{"If-None-Match": {etag}}, nil)
		if etag == "" || resp.StatusCode != 304 || len(got) != 0 || resp.Header.Get("Content-Length") != "" || resp.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q %v", etag, resp.StatusCode, got, resp.Header)
		}
	})
}

// TestToHTTPOneAtATime proves requests of one ToHTTP handler never run at
// once, as on a handle's worker: the handler appends to a slice without a
// lock while clients hammer it concurrently, which -race reports should
// two calls overlap.
func TestToHTTPOneAtATime(t *testing.T) {
	var seen []string // no lock: the adapter is the lock
	handler := httpd.ToHTTP(func(r *httpd.Req) error {
		seen = append(seen, r.URI)
		runtime.Gosched()
		return r.RespSendStr(fmt.Sprint(len(seen)))
	})
	toHTTPProtocols(t, func(t *testing.T, h2 bool, _ string) {
		seen = nil
		srv, client := toHTTPServer(t, handler, h2)
		const clients, each = 6, 20
		var wg sync.WaitGroup
		errs := make(chan error, clients*each)
		for i := range clients {
			wg.Go(func() {
				for j := range each {
					resp, err := client.Get(fmt.Sprintf("%s/%d/%d", srv.URL, i, j))
					if err != nil {
						errs <- err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != clients*each {
			t.Errorf("%d requests served, want %d", len(seen), clients*each)
		}
	})
}

// TestToHTTPSessionContextLivesForOneRequest proves the stand-in session
// frees its context when its request ends, and that the next request
// starts without it.
func TestToHTTPSessionContextLivesForOneRequest(t *testing.T) {
	freed := make(chan any, 2)
	handler := httpd.ToHTTP(func(r *httpd.Req) error {
		had := r.SessCtx
		r.SessCtx, r.FreeCtx = r.URI, func(ctx any) { freed <- ctx }
		return r.RespSendStr(fmt.Sprint(had))
	})
	srv, client := toHTTPServer(t, handler, false)
	for _, path := range []string{"/one", "/two"} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "<nil>" {
			t.Errorf("%s saw a session context %q from an earlier request", path, body)
		}
		if got := <-freed; got != path {
			t.Errorf("freed %v, want %s", got, path)
		}
	}
}

// TestToHTTPFailures covers what a handler's failure does under net/http:
// a panic before answering is a 500 and the adapter serves on; an error
// after a streamed response started aborts it, so the client sees a cut
// body rather than a complete one; a body over MaxReqBodySize is 413
// before the handler runs.
func TestToHTTPFailures(t *testing.T) {
	cfg := httpd.DefaultConfig()
	cfg.MaxReqBodySize = 10
	ran := make(chan string, 8)
	mux := http.NewServeMux()
	mux.Handle("/panic", httpd.ToHTTPConfig(cfg, func(r *httpd.Req) error {
		panic("handler bug")
	}))
	mux.Handle("/cut", httpd.ToHTTPConfig(cfg, func(r *httpd.Req) error {
		r.RespSendStrChunk("partial")
		return errors.New("gave up")
	}))
	mux.Handle("/upload", httpd.ToHTTPConfig(cfg, func(r *httpd.Req) error {
		ran <- r.URI
		return r.RespSendStr("ok")
	}))
	toHTTPProtocols(t, func(t *testing.T, h2 bool, _ string) {
		srv, client := toHTTPServer(t, mux, h2)
		for range 2 { // the second proves the adapter still serves
			resp, err := client.Get(srv.URL + "/panic")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 500 || string(body) != httpd.Code500InternalServerError.Message() {
				t.Errorf("panic: %d %q", resp.StatusCode, body)
			}
		}
		resp, err := client.Get(srv.URL + "/cut")
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Error("a response cut by the handler's error read as complete")
		}
		resp, err = client.Post(srv.URL+"/upload", "text/plain", strings.NewReader("eleven byte"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("body over MaxReqBodySize: %d, want 413", resp.StatusCode)
		}
		if len(ran) != 0 {
			t.Errorf("the handler ran for a body over the limit: %s", <-ran)
		}
	})
}

// TestToHTTPRecvTimeout proves Recv under ToHTTP times out with
// ErrSockTimeout when the client stalls mid-body, as on a handle, rather
// than blocking for ever.
func TestToHTTPRecvTimeout(t *testing.T) {
	cfg := httpd.DefaultConfig()
	cfg.RecvWaitTimeout = 200 * time.Millisecond
	got := make(chan error, 1)
	srv, _ := toHTTPServer(t, httpd.ToHTTPConfig(cfg, func(r *httpd.Req) error {
		buf := make([]byte, 64)
		var err error
		for err == nil {
			_, err = r.Recv(buf)
		}
		got <- err
		return r.RespSendErr(httpd.Code408ReqTimeout, "")
	}), false)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
	select {
	case err := <-got:
		if !errors.Is(err, httpd.ErrSockTimeout) {
			t.Errorf("Recv on a stalled body: %v, want ErrSockTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Recv did not time out")
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 408 {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
}

// TestToHTTPHijack proves Hijack hands over the HTTP/1.1 connection,
// bytes net/http had buffered first, and is ErrInvalidState over h2.
func TestToHTTPHijack(t *testing.T) {
	hijackErr := make(chan error, 1)
	handler := httpd.ToHTTP(func(r *httpd.Req) error {
		nc, err := r.Hijack()
		if err != nil {
			hijackErr <- err
			return r.RespSendStr("not hijacked")
		}
		go func() {
			defer nc.Close()
			nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n"))
			io.Copy(nc, nc)
		}()
		return nil
	})
	t.Run("HTTP/1.1", func(t *testing.T) {
		srv, _ := toHTTPServer(t, handler, false)
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The first echoed bytes travel with the request: net/http has
		// read them before the handler runs.
		fmt.Fprintf(conn, "GET /h HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nearly ")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 101 {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		conn.Write([]byte("late"))
		buf := make([]byte, len("early late"))
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "early late" {
			t.Fatalf("echo %q %v", buf, err)
		}
	})
	t.Run("HTTP/2.0", func(t *testing.T) {
		srv, client := toHTTPServer(t, handler, true)
		resp, err := client.Get(srv.URL + "/h")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := <-hijackErr; err != httpd.ErrInvalidState || string(body) != "not hijacked" {
			t.Errorf("Hijack over h2: %v, body %q", err, body)
		}
	})
}

// TestToHTTPContext proves Req.Context is net/http's request context:
// cancelled when the client goes away while the handler runs.
func TestToHTTPContext(t *testing.T) {
	entered := make(chan struct{})
	ended := make(chan error, 1)
	handler := httpd.ToHTTP(func(r *httpd.Req) error {
		close(entered)
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(10 * time.Second):
			ended <- errors.New("context not cancelled")
		}
		return nil
	})
	srv, _ := toHTTPServer(t, handler, false)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/wait", nil)
	go func() {
		<-entered
		cancel() // the client's transport closes the connection
	}()
	if _, err := srv.Client().Do(req); err == nil {
		t.Error("the cancelled request succeeded")
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("Req.Context: %v, want context.Canceled", err)
	}
}

// TestToHTTPUnreadBodyKeepsConnection proves a handler that leaves its
// request body unread does not cost the client its keep-alive connection
// under net/http: ToHTTP asks net/http for full duplex (a handle lets a
// handler read the body after answering), and net/http then panics
// reading the next request when a body was left unread (golang/go#68560)
// unless the adapter closes the body before ServeHTTP returns.
func TestToHTTPUnreadBodyKeepsConnection(t *testing.T) {
	before := runtime.NumGoroutine()
	var serverLog bytes.Buffer // written under the log.Logger's lock
	srv := httptest.NewUnstartedServer(httpd.ToHTTP(func(r *httpd.Req) error {
		return r.RespSendStr("ignored")
	}))
	srv.Config.ErrorLog = log.New(&serverLog, "", 0)
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	client := srv.Client()
	for i := range 20 {
		postExpect(t, client, i, srv.URL+"/", strings.NewReader("eight by"), "ignored")
	}
	client.CloseIdleConnections()
	srv.Close() // waits for the server's connections: serverLog is complete
	if n := conns.Load(); n != 1 {
		t.Errorf("20 requests on a keep-alive client used %d connections, want 1", n)
	}
	if strings.Contains(serverLog.String(), "panic") {
		t.Errorf("net/http logged:\n%s", serverLog.String())
	}
	checkGoroutines(t, before)
}

// TestToHTTPStalledUnreadBodyHoldsNoOtherRequest proves the unread body
// is discarded outside the adapter's one-request-at-a-time lock: a client
// that stops sending a body its handler ignores keeps its own connection
// busy (up to RecvWaitTimeout), not every other client of the adapter.
func TestToHTTPStalledUnreadBodyHoldsNoOtherRequest(t *testing.T) {
	cfg := httpd.DefaultConfig()
	cfg.RecvWaitTimeout = 10 * time.Second
	srv, client := toHTTPServer(t, httpd.ToHTTPConfig(cfg, func(r *httpd.Req) error {
		return r.RespSendStr("ignored")
	}), false)
	stalled, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nten bytes.")
	stalled.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(stalled), nil)
	if err != nil {
		t.Fatalf("the stalled client's answer: %v", err)
	}
	resp.Body.Close()
	// The stalled client's body is being discarded now; another client
	// is served meanwhile, well within the 10 s the discard may take.
	client.Timeout = 2 * time.Second
	postExpect(t, client, 0, srv.URL+"/b", strings.NewReader("small"), "ignored")
}
