package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// start starts impl with o and stops it when the test ends.
func start(t *testing.T, impl string, o Options) Server {
	t.Helper()
	srv, err := Start(impl, "127.0.0.1:0", o)
	if err != nil {
		t.Fatalf("Start(%s, %+v): %v", impl, o, err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// getHello GETs /hello through rt and checks the body and protocol.
func getHello(t *testing.T, rt http.RoundTripper, url string, wantProto int) {
	t.Helper()
	c := &http.Client{Transport: rt, Timeout: 10 * time.Second}
	resp, err := c.Get(url + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != Hello || resp.ProtoMajor != wantProto {
		t.Fatalf("GET /hello: HTTP/%d %q, %v; want HTTP/%d %q", resp.ProtoMajor, body, err, wantProto, Hello)
	}
}

// insecure is cloned for each transport, which may change its NextProtos;
// the servers' certificates are fresh self-signed ones.
var insecure = &tls.Config{InsecureSkipVerify: true}

// TestTLS checks HTTPS with HTTP/1.1 on every implementation, and h2 by
// ALPN where the implementation offers it.
func TestTLS(t *testing.T) {
	h2 := map[string]bool{"esphttpd": true, "nethttp": true, "fasthttp": false}
	for _, impl := range Impls {
		t.Run(impl, func(t *testing.T) {
			srv := start(t, impl, Options{TLS: true})
			url := "https://" + srv.Addr()
			getHello(t, &http.Transport{TLSClientConfig: insecure.Clone()}, url, 1)
			conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			proto := conn.ConnectionState().NegotiatedProtocol
			conn.Close()
			if got := proto == "h2"; got != h2[impl] {
				t.Fatalf("ALPN chose %q; want h2 %v", proto, h2[impl])
			}
			if h2[impl] {
				getHello(t, &http.Transport{TLSClientConfig: insecure.Clone(), ForceAttemptHTTP2: true}, url, 2)
			}
		})
	}
}

// TestH2C checks prior-knowledge HTTP/2 over plain TCP: esphttpd by
// default, net/http with Options.H2C.
func TestH2C(t *testing.T) {
	tests := []struct {
		impl string
		o    Options
	}{
		{"esphttpd", Options{}},
		{"nethttp", Options{H2C: true}},
	}
	for _, tt := range tests {
		t.Run(tt.impl, func(t *testing.T) {
			srv := start(t, tt.impl, tt.o)
			var p http.Protocols
			p.SetUnencryptedHTTP2(true) // prior knowledge: no HTTP/1.1 at all
			getHello(t, &http.Transport{Protocols: &p}, "http://"+srv.Addr(), 2)
		})
	}
}

// TestTickets checks that a second TLS connection resumes exactly when
// the policy says: every implementation resumes by default (esphttpd since
// issue 17), and Options.Tickets overrides it. Both TLS versions.
func TestTickets(t *testing.T) {
	for _, impl := range Impls {
		for _, tickets := range []Tickets{TicketsDefault, TicketsOn, TicketsOff} {
			for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				name := fmt.Sprintf("%s/%s/TLS1.%d", impl, tickets, version-tls.VersionTLS10)
				t.Run(name, func(t *testing.T) {
					srv := start(t, impl, Options{TLS: true, Tickets: tickets})
					cc := &tls.Config{InsecureSkipVerify: true, MaxVersion: version,
						ClientSessionCache: tls.NewLRUClientSessionCache(4)}
					for i, want := range []bool{false, tickets != TicketsOff} {
						if got := tlsGetResumed(t, srv.Addr(), cc); got != want {
							t.Fatalf("connection %d: resumed %v, want %v", i, got, want)
						}
					}
				})
			}
		}
	}
}

// tlsGetResumed GETs /hello on a new TLS connection (reading the response
// also reads a TLS 1.3 ticket) and says whether the handshake resumed.
func tlsGetResumed(t *testing.T, addr string, cc *tls.Config) bool {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != Hello {
		t.Fatalf("body %q", body)
	}
	return conn.ConnectionState().DidResume
}

// TestWebSocketEcho runs each WebSocket load of run.sh briefly against
// each echo endpoint, plain and over TLS: every operation must come back
// intact (RunWS compares each echo with what it sent).
func TestWebSocketEcho(t *testing.T) {
	endpoints := []struct{ impl, path string }{
		{"esphttpd", "/ws"}, {"nethttp", "/ws"}, {"nethttp", "/ws-coder"},
	}
	loads := []WSLoad{
		{Conns: 4, Size: 64, Batch: 1, Ops: 20},
		{Conns: 1, Size: 1 << 20, Text: true, Batch: 1, Ops: 2},
		{Conns: 1, Size: 1 << 20, Batch: 1, Ops: 2},
		{Conns: 1, Size: 64 << 10, Batch: 100, Ops: 1},
	}
	for _, ep := range endpoints {
		for _, secure := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s%s/tls=%v", ep.impl, ep.path, secure), func(t *testing.T) {
				srv := start(t, ep.impl, Options{TLS: secure})
				scheme := "ws://"
				if secure {
					scheme = "wss://"
				}
				for _, l := range loads {
					l.URL = scheme + srv.Addr() + ep.path
					r, err := RunWS(context.Background(), l)
					if err != nil || r.Errors != 0 || r.Ops != l.Conns*l.Ops {
						t.Fatalf("%d x %d bytes (text %v): %d operations, %d errors, %v; want %d",
							l.Batch, l.Size, l.Text, r.Ops, r.Errors, err, l.Conns*l.Ops)
					}
				}
			})
		}
	}
}

// TestHandles checks that esphttpd with two handles on one port answers
// every one of many new connections.
func TestHandles(t *testing.T) {
	srv := start(t, "esphttpd", Options{Handles: 2})
	rt := &http.Transport{DisableKeepAlives: true}
	for range 32 {
		getHello(t, rt, "http://"+srv.Addr(), 1)
	}
}

// TestOptionsRejected checks that what an implementation cannot do is an
// error naming the option.
func TestOptionsRejected(t *testing.T) {
	tests := []struct {
		impl string
		o    Options
		want string
	}{
		{"nethttp", Options{Handles: 2}, "handles"},
		{"fasthttp", Options{H2C: true}, "h2c"},
		{"nethttp", Options{H2C: true, TLS: true}, "h2c"},
		{"esphttpd", Options{TLS: true, Tickets: "maybe"}, "tickets"},
		{"nginx", Options{}, "unknown -impl"},
	}
	for _, tt := range tests {
		srv, err := Start(tt.impl, "127.0.0.1:0", tt.o)
		if err == nil {
			srv.Close()
			t.Errorf("%s %+v started", tt.impl, tt.o)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %+v: error %q does not name %q", tt.impl, tt.o, err, tt.want)
		}
	}
}
