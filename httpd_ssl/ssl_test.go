package httpd_ssl_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
	"github.com/esphttpd/esphttpd/httpd_ssl/internal/certgen"
	xws "golang.org/x/net/websocket"
)

// pki is one test's CA and server certificate.
type pki struct {
	ca, server certgen.Pair
}

func newPKI() pki {
	ca := certgen.CA("test CA")
	return pki{ca: ca, server: certgen.Server(ca)}
}

func testConfig(p pki) httpd_ssl.Config {
	cfg := httpd_ssl.DefaultConfig()
	cfg.Httpd.Host = "127.0.0.1"
	cfg.PortSecure, cfg.PortInsecure = 0, 0
	cfg.ServerCert, cfg.PrivateKey = p.server.CertPEM, p.server.KeyPEM
	cfg.HandshakeTimeout = 5 * time.Second
	cfg.Httpd.RecvWaitTimeout = 2 * time.Second
	return cfg
}

func hello(r *httpd.Req) error { return r.RespSendStr("Hello Secure World!") }

// start starts the server with a GET /hello handler and the given ones,
// and checks on cleanup that Stop leaves no goroutine.
func start(t *testing.T, cfg httpd_ssl.Config, uris ...*httpd.URI) *httpd.Handle {
	t.Helper()
	before := runtime.NumGoroutine()
	h, err := httpd_ssl.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	for _, u := range append([]*httpd.URI{{URI: "/hello", Method: httpd.GET, Handler: hello}}, uris...) {
		if err := h.RegisterURIHandler(u); err != nil {
			t.Fatalf("RegisterURIHandler(%s): %v", u.URI, err)
		}
	}
	t.Cleanup(func() {
		httpd_ssl.Stop(h)
		if !waitFor(3*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d after Stop\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
	})
	return h
}

// waitFor polls cond for up to d: the wait for a condition (goroutines
// gone) that nothing announces.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond) // the poll interval, not an ordering
	}
	return true
}

// countOpens makes cfg's event handler report each new session as it is
// accepted, before its TLS handshake (the user's open callback runs only
// after a handshake succeeds, as on ESP-IDF).
func countOpens(cfg *httpd_ssl.Config) <-chan int {
	opened := make(chan int, 64)
	cfg.Httpd.EventHandler = func(e httpd.Event) {
		if e.ID != httpd.EventOnConnected {
			return
		}
		select {
		case opened <- e.Sockfd:
		default:
		}
	}
	return opened
}

// waitOpens waits for n sessions to open.
func waitOpens(t *testing.T, opened <-chan int, n int, what string) {
	t.Helper()
	for i := range n {
		select {
		case <-opened:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d sessions opened: %s", i, n, what)
		}
	}
}

func clientConfig(p pki) *tls.Config {
	return &tls.Config{RootCAs: p.ca.Pool(), ServerName: "localhost"}
}

// tlsGet opens a TLS connection and GETs /hello on it n times.
func tlsGet(t *testing.T, h *httpd.Handle, cfg *tls.Config, n int) (*tls.Conn, error) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", h.Addr().String(), cfg)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	for range n {
		io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			conn.Close()
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "Hello Secure World!" {
			t.Fatalf("body %q", body)
		}
	}
	return conn, nil
}

// cbLog collects user callback calls.
type cbLog struct {
	ch chan httpd_ssl.UserCbArg
}

func newCbLog() *cbLog { return &cbLog{ch: make(chan httpd_ssl.UserCbArg, 32)} }

func (l *cbLog) cb(a *httpd_ssl.UserCbArg) { l.ch <- *a }

func (l *cbLog) next(t *testing.T) httpd_ssl.UserCbArg {
	t.Helper()
	select {
	case a := <-l.ch:
		return a
	case <-time.After(3 * time.Second):
		t.Fatal("user callback not called")
		return httpd_ssl.UserCbArg{}
	}
}

func TestHTTPSKeepAliveAndUserCallback(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	log := newCbLog()
	cfg.UserCb = log.cb
	h := start(t, cfg)
	conn, err := tlsGet(t, h, clientConfig(p), 3)
	if err != nil {
		t.Fatal(err)
	}
	a := log.next(t)
	if a.State != httpd_ssl.UserCbSessCreate || a.TLS.Version < tls.VersionTLS12 || a.TLS.NegotiatedProtocol != "" || a.Sockfd != 1 {
		t.Fatalf("create callback: %+v", a)
	}
	conn.Close()
	if a := log.next(t); a.State != httpd_ssl.UserCbSessClose || a.Sockfd != 1 {
		t.Fatalf("close callback: %+v", a)
	}
}

func TestALPN(t *testing.T) {
	p := newPKI()
	for _, tc := range []struct {
		http2 bool
		want  string
	}{{true, "h2"}, {false, "http/1.1"}} {
		cfg := testConfig(p)
		cfg.Httpd.HTTP2 = tc.http2
		h := start(t, cfg)
		cc := clientConfig(p)
		cc.NextProtos = []string{"h2", "http/1.1"}
		conn, err := tls.Dial("tcp", h.Addr().String(), cc)
		if err != nil {
			t.Fatal(err)
		}
		if got := conn.ConnectionState().NegotiatedProtocol; got != tc.want {
			t.Fatalf("HTTP2=%v: ALPN %q, want %q", tc.http2, got, tc.want)
		}
		conn.Close()
	}
}

// TestHTTP2OverTLS speaks HTTP/2 through httpd_ssl with Go's client (ALPN
// h2), then checks the user callback saw the negotiated protocol.
func TestHTTP2OverTLS(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	log := newCbLog()
	cfg.UserCb = log.cb
	h := start(t, cfg)
	tr := &http.Transport{TLSClientConfig: clientConfig(p), ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for range 3 {
		resp, err := cl.Get("https://" + h.Addr().String() + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 || string(body) != "Hello Secure World!" {
			t.Fatalf("%s %q", resp.Proto, body)
		}
	}
	if a := log.next(t); a.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("callback saw ALPN %q", a.TLS.NegotiatedProtocol)
	}
}

func TestMutualTLS(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	cfg.CACert = p.ca.CertPEM
	log := newCbLog()
	cfg.UserCb = log.cb
	h := start(t, cfg)

	good := clientConfig(p)
	good.Certificates = []tls.Certificate{certgen.Client(p.ca, "device-1").TLS()}
	conn, err := tlsGet(t, h, good, 1)
	if err != nil {
		t.Fatalf("good client certificate refused: %v", err)
	}
	conn.Close()
	a := log.next(t)
	if len(a.TLS.PeerCertificates) == 0 || a.TLS.PeerCertificates[0].Subject.CommonName != "device-1" {
		t.Fatalf("callback peer certificates: %v", a.TLS.PeerCertificates)
	}

	if _, err := tlsGet(t, h, clientConfig(p), 1); err == nil {
		t.Fatal("client without certificate accepted")
	}
	other := clientConfig(p)
	other.Certificates = []tls.Certificate{certgen.Client(certgen.CA("other CA"), "intruder").TLS()}
	if _, err := tlsGet(t, h, other, 1); err == nil {
		t.Fatal("client certificate from another CA accepted")
	}
	// The server still serves good clients.
	if conn, err := tlsGet(t, h, good, 1); err != nil {
		t.Fatalf("after refused clients: %v", err)
	} else {
		conn.Close()
	}
}

func TestInsecureModeServesPlainHTTP(t *testing.T) {
	cfg := testConfig(newPKI())
	cfg.TransportMode = httpd_ssl.TransportInsecure
	h := start(t, cfg)
	resp, err := http.Get("http://" + h.Addr().String() + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "Hello Secure World!" {
		t.Fatalf("%q", body)
	}
}

// TestSessionTickets checks over real TLS that a second connection with the
// same client session cache resumes under DefaultConfig (tickets on, this
// port's choice) and does not with ESP-IDF's value (tickets off), for both
// TLS versions: 1.2 sends its ticket in the handshake, 1.3 after it. Both
// ends must agree: the client's ConnectionState and the server's UserCb.
func TestSessionTickets(t *testing.T) {
	tests := []struct {
		name        string
		espIDF      bool // apply ESP-IDF's default: SessionTickets = false
		maxVersion  uint16
		wantResumed bool
	}{
		{"default TLS 1.3", false, tls.VersionTLS13, true},
		{"default TLS 1.2", false, tls.VersionTLS12, true},
		{"ESP-IDF value TLS 1.3", true, tls.VersionTLS13, false},
		{"ESP-IDF value TLS 1.2", true, tls.VersionTLS12, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPKI()
			cfg := testConfig(p)
			if tt.espIDF {
				cfg.SessionTickets = false
			}
			log := newCbLog()
			cfg.UserCb = log.cb
			h := start(t, cfg)
			cc := clientConfig(p)
			cc.MaxVersion = tt.maxVersion
			cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			for i, wantResumed := range []bool{false, tt.wantResumed} {
				conn, err := tlsGet(t, h, cc, 1) // reading a response also reads the TLS 1.3 ticket
				if err != nil {
					t.Fatal(err)
				}
				client := conn.ConnectionState()
				conn.Close()
				if client.Version != tt.maxVersion {
					t.Fatalf("connection %d: TLS version %#x, want %#x", i, client.Version, tt.maxVersion)
				}
				if client.DidResume != wantResumed {
					t.Fatalf("connection %d: client says resumed %v, want %v", i, client.DidResume, wantResumed)
				}
				if a := log.next(t); a.TLS.DidResume != wantResumed {
					t.Fatalf("connection %d: server says resumed %v, want %v", i, a.TLS.DidResume, wantResumed)
				}
				log.next(t) // close
			}
		})
	}
}

func TestStalledHandshakeDoesNotDelayOthers(t *testing.T) {
	p := newPKI()
	cfg := testConfig(p)
	cfg.HandshakeTimeout = 500 * time.Millisecond
	opened := countOpens(&cfg)
	h := start(t, cfg)
	// One client connects and says nothing; another drips its ClientHello.
	silent, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	dripper, _ := net.Dial("tcp", h.Addr().String())
	defer dripper.Close()
	dripper.Write([]byte{0x16, 0x03})
	waitOpens(t, opened, 2, "the stalled clients")
	for range 3 {
		t0 := time.Now()
		conn, err := tlsGet(t, h, clientConfig(p), 1)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if d := time.Since(t0); d > 300*time.Millisecond {
			t.Fatalf("TLS request took %v with a stalled handshake pending", d)
		}
	}
	// Both stalled clients are dropped after the handshake timeout.
	for _, c := range []net.Conn{silent, dripper} {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("stalled client not closed: %v", err)
		}
	}
}

func TestLRUPurgeFiveTLSClientsOnFourSlots(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p))
	var conns []*tls.Conn
	for range 4 {
		c, err := tlsGet(t, h, clientConfig(p), 1)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	fifth, err := tlsGet(t, h, clientConfig(p), 1)
	if err != nil {
		t.Fatalf("fifth client: %v", err)
	}
	defer fifth.Close()
	// The oldest was purged: its connection is closed.
	conns[0].SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := conns[0].Read(make([]byte, 1)); err == nil {
		t.Fatal("least recently used session still open")
	}
	if n := len(h.GetClientList()); n != 4 {
		t.Fatalf("%d sessions, want 4", n)
	}
	for _, c := range conns[1:] {
		c.Close()
	}
}

func TestPipelinedRequestsInOneRecord(t *testing.T) {
	p := newPKI()
	conn := dialTLS(t, start(t, testConfig(p)), p)
	req := "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n"
	io.WriteString(conn, strings.Repeat(req, 5)) // one Write: one TLS record
	br := bufio.NewReader(conn)
	for i := range 5 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
	}
}

// TestStopWithHandshakesInFlight: Stop fails the handshakes under way,
// whose readers then wait for the worker to run SESS_ERROR; Stop must not
// wait for them in turn.
func TestStopWithHandshakesInFlight(t *testing.T) {
	p := newPKI()
	before := runtime.NumGoroutine()
	cfg := testConfig(p)
	cfg.UserCb = func(*httpd_ssl.UserCbArg) {}
	opened := countOpens(&cfg)
	h, err := httpd_ssl.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 3 {
		c, _ := net.Dial("tcp", h.Addr().String())
		c.Write([]byte{0x16, 0x03, 0x01}) // a ClientHello that never finishes
		conns = append(conns, c)
	}
	waitOpens(t, opened, 3, "the clients whose handshakes Stop must end")
	if err := httpd_ssl.Stop(h); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.Close()
	}
	if !waitFor(3*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
		t.Fatalf("goroutines: %d before, %d after Stop", before, runtime.NumGoroutine())
	}
}

func TestBadConfigNamesTheField(t *testing.T) {
	p := newPKI()
	other := certgen.Server(certgen.CA("x"))
	for _, tc := range []struct {
		name, want string
		edit       func(*httpd_ssl.Config)
	}{
		{"no cert", "ServerCert", func(c *httpd_ssl.Config) { c.ServerCert = nil }},
		{"no key", "PrivateKey", func(c *httpd_ssl.Config) { c.PrivateKey = nil }},
		{"garbage cert", "ServerCert", func(c *httpd_ssl.Config) { c.ServerCert = []byte("not pem") }},
		{"mismatched key", "PrivateKey", func(c *httpd_ssl.Config) { c.PrivateKey = other.KeyPEM }},
		{"garbage CA", "CACert", func(c *httpd_ssl.Config) { c.CACert = []byte("nope") }},
		{"max below min", "MaxVersion", func(c *httpd_ssl.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS13, tls.VersionTLS12 }},
	} {
		cfg := testConfig(p)
		tc.edit(&cfg)
		h, err := httpd_ssl.Start(cfg)
		if err == nil {
			h.Stop()
			t.Errorf("%s: started", tc.name)
			continue
		}
		if !errors.Is(err, httpd.ErrInvalidArg) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
}

func TestOldTLSVersionsRefused(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p))
	cc := clientConfig(p)
	cc.MinVersion, cc.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := tlsGet(t, h, cc, 1); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
}

// TestWebSocketOverTLS runs the x/net WebSocket client through httpd_ssl:
// the WebSocket layer works on the TLS session hooks unchanged.
func TestWebSocketOverTLS(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p), &httpd.URI{URI: "/ws", Method: httpd.GET, IsWebsocket: true, Handler: func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		var f httpd.WSFrame
		if err := r.WSRecvFrame(&f, 1<<20); err != nil {
			return err
		}
		return r.WSSendFrame(&httpd.WSFrame{Type: f.Type, Payload: f.Payload})
	}})
	wcfg, err := xws.NewConfig("wss://"+h.Addr().String()+"/ws", "https://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	wcfg.TlsConfig = clientConfig(p)
	ws, err := xws.DialConfig(wcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, msg := range []string{"secure hello", strings.Repeat("x", 100000)} {
		xws.Message.Send(ws, msg)
		var got string
		if err := xws.Message.Receive(ws, &got); err != nil || got != msg {
			t.Fatalf("echo: %d bytes, %v", len(got), err)
		}
	}
}

// TestCertSelectBySNI picks the certificate per handshake from the server
// name the client asks for, with no ServerCert configured.
func TestCertSelectBySNI(t *testing.T) {
	p := newPKI()
	other := certgen.Server(p.ca)
	cfg := testConfig(p)
	cfg.ServerCert, cfg.PrivateKey = nil, nil
	var asked []string
	var mu sync.Mutex
	cfg.CertSelect = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		mu.Lock()
		asked = append(asked, hello.ServerName)
		mu.Unlock()
		c := p.server.TLS()
		if hello.ServerName == "other.localhost" {
			c = other.TLS()
		}
		return &c, nil
	}
	h := start(t, cfg)
	conn, err := tlsGet(t, h, clientConfig(p), 1)
	if err != nil {
		t.Fatal(err)
	}
	got := conn.ConnectionState().PeerCertificates[0].SerialNumber
	conn.Close()
	if got.Cmp(p.server.Cert.SerialNumber) != 0 {
		t.Fatal("CertSelect's certificate not used")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != "localhost" {
		t.Fatalf("CertSelect saw %v", asked)
	}
}
