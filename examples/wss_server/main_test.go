package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/examples/internal/wsconform"
	"github.com/esphttpd/esphttpd/httpd_ssl"
	xws "golang.org/x/net/websocket"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// testTiming shortens the C example's delays. A client gets two pings and
// twice the period to answer before it is given up, so that a busy test
// machine does not fail a client that answers.
var testTiming = timing{keepAlivePeriod: 300 * time.Millisecond, notAliveAfter: 900 * time.Millisecond, helloInterval: 200 * time.Millisecond}

// startExample starts the example on an ephemeral port with a fresh
// certificate; it returns the server's address, a TLS configuration that
// trusts only that certificate, and the console log.
func startExample(t *testing.T, tm timing) (string, *tls.Config, *extest.Log) {
	t.Helper()
	cert, key := httpd_ssl.SelfSigned("localhost", "127.0.0.1")
	out := &extest.Log{}
	log := out.Logger(tag)
	s, err := startWssEchoServer(options{host: "127.0.0.1", port: 0, cert: cert, key: key, timing: tm}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	port := out.ExpectRegexp(t, `esp_https_server: Server listening on port (\d+)`)[1]
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cert) {
		t.Fatal("generated certificate does not parse")
	}
	return "127.0.0.1:" + port, &tls.Config{RootCAs: pool, ServerName: "localhost"}, out
}

// TestEchoPingKeepAlive follows ESP-IDF's pytest with one client: echo,
// ping/pong, pings answered keep the client, unanswered ones close it.
func TestEchoPingKeepAlive(t *testing.T) {
	addr, tlsCfg, out := startExample(t, testTiming)
	c := dialRawWS(t, addr, tlsCfg)
	out.Expect(t, "esp_https_server: performing session handshake")
	fd := out.ExpectRegexp(t, `New client connected (\d+)`)[1]
	out.Expect(t, "Handshake done, the new connection was opened")

	c.write(wsconform.OpText, []byte("Espressif"))
	if f := c.next(true); f.Op != wsconform.OpText || !f.Fin || string(f.Payload) != "Espressif" {
		t.Fatalf("echo: op %#x fin %v %q", f.Op, f.Fin, f.Payload)
	}
	out.Expect(t, "Received packet with message: Espressif")

	// Binary frames are not echoed: the next frame back is the text's echo.
	c.write(wsconform.OpBinary, []byte{1, 2, 3})
	c.write(wsconform.OpText, []byte("after binary"))
	if f := c.next(true); f.Op != wsconform.OpText || string(f.Payload) != "after binary" {
		t.Fatalf("after a binary frame: op %#x %q", f.Op, f.Payload)
	}

	c.write(wsconform.OpPing, []byte("Espressif"))
	if f := c.next(true); f.Op != wsconform.OpPong || string(f.Payload) != "Espressif" {
		t.Fatalf("ping: op %#x %q, want pong \"Espressif\"", f.Op, f.Payload)
	}
	out.Expect(t, "Got a WS PING frame, Replying PONG")

	// Answer three of the server's pings. Without the pongs counted, the
	// client would be given up (notAliveAfter = 3 periods) before the third.
	for pings := 0; pings < 3; {
		f, err := c.read()
		if err != nil {
			t.Fatalf("closed after %d answered pings: %v\n%s", pings, err, out)
		}
		if f.Op == wsconform.OpPing {
			c.write(wsconform.OpPong, f.Payload)
			pings++
		}
	}
	out.NotSince(t, 0, "Client not alive")

	// Now stay silent: the server must give the client up and close it.
	for {
		f, err := c.read()
		if err != nil || f.Op == wsconform.OpClose {
			break
		}
	}
	out.Expect(t, "wss_keep_alive: Client (fd="+fd+") not alive!")
	out.Expect(t, "Client not alive, closing fd "+fd)
	out.Expect(t, "Client disconnected "+fd)
}

// TestThreeClientsAtOnce is the pytest's second part: three clients at
// once, each getting its echo and the hello messages while answering the
// server's pings (golang.org/x/net/websocket answers them by itself), next
// to a fourth that never answers and is the only one closed.
func TestThreeClientsAtOnce(t *testing.T) {
	addr, tlsCfg, out := startExample(t, testTiming)
	silent := dialRawWS(t, addr, tlsCfg)
	silentFD := out.ExpectRegexp(t, `New client connected (\d+)`)[1]

	// Enough hellos that the clients outlive notAliveAfter: they stay only
	// because their pongs count.
	const hellos = 6
	if time.Duration(hellos)*testTiming.helloInterval <= testTiming.notAliveAfter {
		t.Fatal("test timing does not outlast notAliveAfter")
	}
	errs := make(chan error, 3)
	for i := range 3 {
		go func() { errs <- echoAndHellos(addr, tlsCfg, fmt.Sprintf("Espressif %d", i), hellos) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.Fatalf("log:\n%s", out)
	}
	for i := range 3 {
		if !strings.Contains(out.String(), fmt.Sprintf("Received packet with message: Espressif %d", i)) {
			t.Errorf("echo %d not logged", i)
		}
	}

	// The silent client was pinged, given up and closed; no other was.
	for {
		if f, err := silent.read(); err != nil || f.Op == wsconform.OpClose {
			break
		}
	}
	out.Expect(t, "Client not alive, closing fd "+silentFD)
	notAlive := strings.Count(out.String(), "Client not alive, closing fd")
	if notAlive != 1 {
		t.Errorf("%d clients closed as not alive, want only the silent one:\n%s", notAlive, out)
	}
}

// echoAndHellos is one client of TestThreeClientsAtOnce: it sends msg and
// reads until it has the echo and n hello messages.
func echoAndHellos(addr string, tlsCfg *tls.Config, msg string, n int) error {
	cfg, err := xws.NewConfig("wss://"+addr+"/ws", "https://localhost/")
	if err != nil {
		return err
	}
	cfg.TlsConfig = tlsCfg
	ws, err := xws.DialConfig(cfg)
	if err != nil {
		return fmt.Errorf("%s: dial: %v", msg, err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(extest.Timeout))
	if err := xws.Message.Send(ws, msg); err != nil {
		return fmt.Errorf("%s: send: %v", msg, err)
	}
	echoed, hellos := false, 0
	for !echoed || hellos < n {
		var got string
		if err := xws.Message.Receive(ws, &got); err != nil {
			return fmt.Errorf("%s: after %d hellos (echo %v): %v", msg, hellos, echoed, err)
		}
		switch got {
		case msg:
			echoed = true
		case helloMessage:
			hellos++
		default:
			return fmt.Errorf("%s: unexpected message %q", msg, got)
		}
	}
	return nil
}

// TestMainFlags runs the program itself: bad flags are refused with the
// reason, good ones serve until SIGTERM.
func TestMainFlags(t *testing.T) {
	extest.CheckRefused(t, "invalid -keep-alive-period 0s: must be positive", "-keep-alive-period", "0s")
	extest.CheckRefused(t, "invalid -not-alive-after -1s", "-not-alive-after", "-1s")
	extest.CheckRefused(t, "invalid -hello-interval 0s", "-hello-interval", "0s")

	port := extest.FreePort(t)
	p := extest.StartMain(t, "-port", port, "-hello-interval", "1h", "-v")
	fingerprint := p.Out.ExpectRegexp(t, `SHA-256 fingerprint ([0-9A-F:]{95})`)[1]
	p.Out.Expect(t, "Server listening on port "+port)
	// /ws is registered after that line: wait for httpd's debug line.
	p.Out.Expect(t, "registered URI handler uri=/ws")
	ws, err := xws.DialConfig(pinnedConfig(t, "127.0.0.1:"+port, fingerprint))
	if err != nil {
		t.Fatal(err)
	}
	xws.Message.Send(ws, "from main")
	p.Out.Expect(t, "Received packet with message: from main")
	ws.Close()
	p.StopWith(t, syscall.SIGTERM)
	// httpd_ssl.Start prints it, as httpd_ssl_start does; the example must
	// not print its own copy.
	if n := strings.Count(p.Out.String(), "Server listening on port"); n != 1 {
		t.Fatalf("\"Server listening on port\" printed %d times:\n%s", n, p.Out)
	}
}

// pinnedConfig is a client configuration that trusts the one certificate
// whose SHA-256 fingerprint the program printed, as a user comparing it
// would.
func pinnedConfig(t *testing.T, addr, fingerprint string) *xws.Config {
	t.Helper()
	cfg, err := xws.NewConfig("wss://"+addr+"/ws", "https://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TlsConfig = &tls.Config{
		InsecureSkipVerify: true, // replaced by the fingerprint check below
		VerifyPeerCertificate: func(chain [][]byte, _ [][]*x509.Certificate) error {
			got := httpd_ssl.Fingerprint(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0]}))
			if got != fingerprint {
				return fmt.Errorf("certificate fingerprint %s, the program printed %s", got, fingerprint)
			}
			return nil
		},
	}
	return cfg
}
