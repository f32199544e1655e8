package httpd_ssl_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
	"github.com/esphttpd/esphttpd/httpd_ssl/internal/certgen"
	"github.com/google/go-cmp/cmp"
)

// step is one callback call, as the worker made it.
type step struct {
	what string
	arg  *httpd_ssl.UserCbArg // for user callback calls
}

// steps records, in order, the calls esp_https_server's callback order is
// about: the open and close callbacks, the user callback's states, the
// session context's free function, a handler, and the core's disconnect
// event, which comes after all of them for a session.
type steps struct{ ch chan step }

func newSteps() *steps { return &steps{ch: make(chan step, 64)} }

func (s *steps) add(what string) { s.ch <- step{what: what} }

// configure installs every recorded callback on cfg.
func (s *steps) configure(cfg *httpd_ssl.Config) {
	cfg.Httpd.OpenFn = func(h *httpd.Handle, fd int) error {
		st := h.SessGetTransportCtx(fd).(interface{ ConnectionState() tls.ConnectionState }).ConnectionState()
		s.add("open, handshake complete " + strconv.FormatBool(st.HandshakeComplete))
		h.SessSetCtx(fd, "ctx", func(any) { s.add("free session ctx") })
		return nil
	}
	cfg.Httpd.CloseFn = func(*httpd.Handle, int) { s.add("close") }
	cfg.Httpd.EventHandler = func(e httpd.Event) {
		if e.ID == httpd.EventDisconnected {
			s.add("disconnected")
		}
	}
	cfg.UserCb = func(a *httpd_ssl.UserCbArg) {
		cp := *a
		s.ch <- step{what: a.State.String(), arg: &cp}
	}
}

// session returns the steps of one session, up to its disconnect event.
func (s *steps) session(t *testing.T) []step {
	t.Helper()
	var got []step
	for {
		select {
		case st := <-s.ch:
			got = append(got, st)
			if st.what == "disconnected" {
				return got
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no disconnect after %v", names(got))
			return nil
		}
	}
}

func names(ss []step) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.what)
	}
	return out
}

// startRecorded starts a server whose callbacks s records, with a handler
// on GET /order that records its call.
func startRecorded(t *testing.T, cfg httpd_ssl.Config, s *steps) *httpd.Handle {
	t.Helper()
	s.configure(&cfg)
	return start(t, cfg, &httpd.URI{URI: "/order", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		s.add("handler")
		return r.RespSendStr("ok")
	}})
}

// goodSession runs one request on a new TLS connection and closes it.
func goodSession(t *testing.T, h *httpd.Handle, cc *tls.Config) {
	t.Helper()
	conn, err := tls.Dial("tcp", h.Addr().String(), cc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET /order HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	resp, err := io.ReadAll(conn)
	if err != nil || !bytes.HasSuffix(resp, []byte("\r\n\r\nok")) {
		t.Fatalf("response %q, %v", resp, err)
	}
}

// goodOrder is esp_https_server's order for a session: httpd_ssl_open
// handshakes, then calls the open callback (which sees the handshake done)
// and SESS_CREATE; httpd_sess_delete calls the close callback, then frees
// the session context, then the transport context, whose free function
// reports SESS_CLOSE.
var goodOrder = []string{"open, handshake complete true", "SESS_CREATE", "handler", "close", "free session ctx", "SESS_CLOSE", "disconnected"}

func TestCallbackOrderOfAGoodSession(t *testing.T) {
	p := newPKI()
	s := newSteps()
	h := startRecorded(t, testConfig(p), s)
	for range 2 { // the second session reuses sockfd 1
		goodSession(t, h, clientConfig(p))
		got := s.session(t)
		if diff := cmp.Diff(goodOrder, names(got)); diff != "" {
			t.Fatalf("callback order (-want +got):\n%s", diff)
		}
		for _, st := range got {
			if st.arg != nil && (st.arg.Sockfd != 1 || st.arg.Handle != h || st.arg.Err != nil || !st.arg.TLS.HandshakeComplete) {
				t.Errorf("%s: %+v", st.what, st.arg)
			}
		}
	}
}

// TestFailedHandshakeRunsOnlyTheClosePath checks that a session whose TLS
// handshake fails gets SESS_ERROR and then the close path (close callback),
// as httpd_ssl_open's failure does under httpd_sess_new: never the open
// callback, SESS_CREATE or SESS_CLOSE. A good client is served after each.
func TestFailedHandshakeRunsOnlyTheClosePath(t *testing.T) {
	p := newPKI()
	for _, tc := range []struct {
		name      string
		mutualTLS bool
		client    func(t *testing.T, addr string)
		errHas    string // in UserCbArg.Err
		timeout   bool   // Err matches os.ErrDeadlineExceeded
	}{
		{name: "plain HTTP to the TLS port", errHas: "does not look like a TLS handshake", client: func(t *testing.T, addr string) {
			c := dialRaw(t, addr)
			io.WriteString(c, "GET /order HTTP/1.1\r\nHost: localhost\r\n\r\n")
			readToClose(t, c)
		}},
		{name: "TLS 1.1 only", errHas: "unsupported versions", client: func(t *testing.T, addr string) {
			cc := clientConfig(p)
			cc.MinVersion, cc.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			if c, err := tls.Dial("tcp", addr, cc); err == nil {
				c.Close()
				t.Fatal("TLS 1.1 handshake succeeded")
			}
		}},
		{name: "no client certificate under mutual TLS", mutualTLS: true, errHas: "certificate", client: func(t *testing.T, addr string) {
			requestRefused(t, addr, clientConfig(p))
		}},
		{name: "client certificate from another CA", mutualTLS: true, errHas: "unknown authority", client: func(t *testing.T, addr string) {
			intruder := certgen.Client(certgen.CA("other CA"), "intruder").TLS()
			cc := clientConfig(p)
			cc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &intruder, nil }
			requestRefused(t, addr, cc)
		}},
		{name: "hang-up inside the ClientHello", errHas: "EOF", client: func(t *testing.T, addr string) {
			c := dialRaw(t, addr)
			c.Write([]byte{0x16, 0x03, 0x01})
			c.Close()
		}},
		{name: "silent client past the handshake timeout", timeout: true, client: func(t *testing.T, addr string) {
			readToClose(t, dialRaw(t, addr))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(p)
			cfg.HandshakeTimeout = 400 * time.Millisecond
			good := clientConfig(p)
			if tc.mutualTLS {
				cfg.CACert = p.ca.CertPEM
				good.Certificates = []tls.Certificate{certgen.Client(p.ca, "device-1").TLS()}
			}
			s := newSteps()
			h := startRecorded(t, cfg, s)
			tc.client(t, h.Addr().String())
			got := s.session(t)
			if diff := cmp.Diff([]string{"SESS_ERROR", "close", "disconnected"}, names(got)); diff != "" {
				t.Fatalf("callback order (-want +got):\n%s", diff)
			}
			a := got[0].arg
			if a.Sockfd != 1 || a.Handle != h || a.Err == nil || a.TLS.HandshakeComplete {
				t.Fatalf("SESS_ERROR argument: %+v", a)
			}
			if tc.timeout != errors.Is(a.Err, os.ErrDeadlineExceeded) || !strings.Contains(a.Err.Error(), tc.errHas) {
				t.Fatalf("SESS_ERROR error %q: want one containing %q, timeout %v", a.Err, tc.errHas, tc.timeout)
			}
			goodSession(t, h, good)
			if diff := cmp.Diff(goodOrder, names(s.session(t))); diff != "" {
				t.Fatalf("good session after the failed one (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOpenCallbackErrorRefusesTheSession: an error from the open callback,
// which runs after the handshake, closes the session without SESS_CREATE
// or SESS_CLOSE (ESP-IDF ignores the error; httpd's OpenFn contract is
// that it refuses the session).
func TestOpenCallbackErrorRefusesTheSession(t *testing.T) {
	p := newPKI()
	s := newSteps()
	cfg := testConfig(p)
	s.configure(&cfg)
	cfg.Httpd.OpenFn = func(*httpd.Handle, int) error {
		s.add("open")
		return errors.New("not today")
	}
	h := start(t, cfg)
	conn, err := tls.Dial("tcp", h.Addr().String(), clientConfig(p))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
	readToClose(t, conn)
	if diff := cmp.Diff([]string{"open", "close", "disconnected"}, names(s.session(t))); diff != "" {
		t.Fatalf("callback order (-want +got):\n%s", diff)
	}
}

// TestStartLogsAsHTTPDSSLStart checks the Info lines httpd_ssl_start and
// the global context's free function print, in both transport modes.
func TestStartLogsAsHTTPDSSLStart(t *testing.T) {
	for _, mode := range []httpd_ssl.TransportMode{httpd_ssl.TransportSecure, httpd_ssl.TransportInsecure} {
		rec := &records{}
		cfg := testConfig(newPKI())
		cfg.TransportMode = mode
		cfg.Httpd.Logger = slog.New(rec)
		h, err := httpd_ssl.Start(cfg)
		if err != nil {
			t.Fatal(err)
		}
		httpd_ssl.Stop(h)
		want := []string{"Starting server", "Server listening on port " + strconv.Itoa(h.Port())}
		if mode == httpd_ssl.TransportSecure {
			want = append(want, "Server shuts down, releasing SSL context")
		}
		if diff := cmp.Diff(want, rec.infoAmong(want)); diff != "" {
			t.Errorf("mode %d: Info lines (-want +got):\n%s", mode, diff)
		}
	}
}

// TestFailedHandshakeLogsAnError: esp_https_server logs a failed
// handshake at Error ("esp_tls_create_server_session failed").
func TestFailedHandshakeLogsAnError(t *testing.T) {
	rec := &records{}
	cfg := testConfig(newPKI())
	cfg.Httpd.Logger = slog.New(rec)
	s := newSteps()
	h := startRecorded(t, cfg, s)
	c := dialRaw(t, h.Addr().String())
	io.WriteString(c, "GET / HTTP/1.1\r\n\r\n")
	readToClose(t, c)
	s.session(t)
	if !rec.has(slog.LevelError, "esp_tls_create_server_session failed") {
		t.Fatal("no Error line for the failed handshake")
	}
}

// requestRefused checks that a client the server must refuse gets no
// answer. Under TLS 1.2 the handshake itself fails; under TLS 1.3 the
// client finishes its side first and learns of the refusal when it reads.
func requestRefused(t *testing.T, addr string, cc *tls.Config) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, cc)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /order HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	if resp, err := io.ReadAll(c); err == nil {
		t.Errorf("the server answered %q", resp)
	}
}

func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readToClose reads until the server closes the connection.
func readToClose(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("server did not close the connection")
		}
	}
}

// records is a slog.Handler keeping every record's level and message.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}

// infoAmong returns the messages logged at Info that are among msgs, in
// the order logged (the core's own lines are left out).
func (r *records) infoAmong(msgs []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		if rec.Level == slog.LevelInfo && slices.Contains(msgs, rec.Message) {
			out = append(out, rec.Message)
		}
	}
	return out
}

func (r *records) has(level slog.Level, msg string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.recs {
		if rec.Level == level && rec.Message == msg {
			return true
		}
	}
	return false
}

// TestClientCertOptional is client_cert_authmode_optional: with a CA, a
// client without certificate is served, one with a good certificate is
// served and seen, and one whose certificate does not verify fails its
// handshake.
func TestClientCertOptional(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	cfg.CACert, cfg.ClientCertOptional = p.ca.CertPEM, true
	s := newSteps()
	h := startRecorded(t, cfg, s)

	goodSession(t, h, clientConfig(p))
	got := s.session(t)
	if diff := cmp.Diff(goodOrder, names(got)); diff != "" {
		t.Fatalf("client without certificate (-want +got):\n%s", diff)
	}
	if n := len(got[1].arg.TLS.PeerCertificates); n != 0 {
		t.Fatalf("SESS_CREATE saw %d peer certificates from a client that sent none", n)
	}

	good := clientConfig(p)
	good.Certificates = []tls.Certificate{certgen.Client(p.ca, "device-1").TLS()}
	goodSession(t, h, good)
	got = s.session(t)
	if pc := got[1].arg.TLS.PeerCertificates; len(pc) == 0 || pc[0].Subject.CommonName != "device-1" {
		t.Fatalf("SESS_CREATE peer certificates: %v", pc)
	}

	// crypto/tls's client leaves out a certificate the server's CA list
	// does not name; this one sends it anyway.
	intruder := certgen.Client(certgen.CA("other CA"), "intruder").TLS()
	bad := clientConfig(p)
	bad.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &intruder, nil }
	requestRefused(t, h.Addr().String(), bad)
	if diff := cmp.Diff([]string{"SESS_ERROR", "close", "disconnected"}, names(s.session(t))); diff != "" {
		t.Fatalf("foreign certificate (-want +got):\n%s", diff)
	}
}

// TestTLSVersionPinned is tls_version: MinVersion = MaxVersion serves that
// version only.
func TestTLSVersionPinned(t *testing.T) {
	p := newPKI()
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := testConfig(p)
		cfg.MinVersion, cfg.MaxVersion = v, v
		h := start(t, cfg)
		conn, err := tlsGet(t, h, clientConfig(p), 1) // offers 1.2 and 1.3
		if err != nil {
			t.Fatalf("%s pinned: %v", tls.VersionName(v), err)
		}
		if got := conn.ConnectionState().Version; got != v {
			t.Errorf("%s pinned: negotiated %s", tls.VersionName(v), tls.VersionName(got))
		}
		conn.Close()
		other := clientConfig(p)
		other.MinVersion, other.MaxVersion = tls.VersionTLS12, tls.VersionTLS13
		if v == tls.VersionTLS12 {
			other.MinVersion = tls.VersionTLS13
		} else {
			other.MaxVersion = tls.VersionTLS12
		}
		if c, err := tlsGet(t, h, other, 1); err == nil {
			c.Close()
			t.Errorf("%s pinned: a client without it was served", tls.VersionName(v))
		}
	}
}
