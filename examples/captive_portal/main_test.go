package main

import (
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// startPortal starts the web server on an ephemeral port and returns its
// address and the console log.
func startPortal(t *testing.T) (string, *extest.Log) {
	t.Helper()
	out := &extest.Log{}
	log := out.Logger(tag)
	s, err := start(options{host: "127.0.0.1"}, out, log, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s.http.Addr().String(), out
}

// TestRedirectsAndRoot follows ESP-IDF's pytest (an unknown URI is
// redirected to /, whose page is served) on one keep-alive connection: the
// 404 handler answers and keeps the session, as returning ESP_OK does.
func TestRedirectsAndRoot(t *testing.T) {
	addr, out := startPortal(t)
	c := extest.Dial(t, addr)
	for _, tc := range []struct {
		method, uri string
	}{
		{"GET", "/test"},
		{"GET", "/generate_204"},        // Android's probe
		{"GET", "/hotspot-detect.html"}, // Apple's
		{"GET", "/connecttest.txt"},     // Windows'
		{"GET", "/a/b?c=d"},
		{"HEAD", "/missing"},
		{"POST", "/form"},
	} {
		r := c.Do(tc.method, tc.uri, "")
		want := redirectBody
		if tc.method == "HEAD" {
			want = ""
		}
		if r.Status != 302 || r.Header.Get("Location") != "/" || r.Body != want {
			t.Errorf("%s %s: %d Location %q body %q; want 302 to / with %q",
				tc.method, tc.uri, r.Status, r.Header.Get("Location"), r.Body, want)
		}
		out.Expect(t, "example: Redirecting to root")
	}

	r := c.Do("GET", "/", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/html" || r.Body != string(rootHTML) {
		t.Fatalf("GET /: %d %q %q", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	if !strings.Contains(r.Body, "<h1>ESP Captive Portal</h1>") {
		t.Errorf("portal page lacks its heading: %q", r.Body)
	}
	out.Expect(t, "example: Serve root")
}

// freeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
}

// TestMainFlags runs the program itself: bad flags are refused with the
// reason; good ones serve the portal and its DNS until SIGTERM.
func TestMainFlags(t *testing.T) {
	extest.CheckRefused(t, "invalid -dns-port 65536", "-dns-port", "65536")
	extest.CheckRefused(t, "give the address DNS answers carry with -dns-ip", "-host", "0.0.0.0", "-dns-port", "5353")
	extest.CheckRefused(t, "invalid -dns-ip \"::1\": must be an IPv4 address", "-dns-port", "5353", "-dns-ip", "::1")
	extest.CheckRefused(t, "invalid -dns-ip \"portal\"", "-dns-port", "5353", "-dns-ip", "portal")

	port, dnsPort := extest.FreePort(t), freeUDPPort(t)
	p := extest.StartMain(t, "-port", port, "-dns-port", dnsPort, "-dns-ip", "192.168.4.1")
	p.Out.Expect(t, "example: Starting server on port: '"+port+"'")
	p.Out.Expect(t, "example_dns_redirect_server: Socket bound, port "+dnsPort)
	if r := extest.Once(t, "127.0.0.1:"+port, "GET", "/generate_204", ""); r.Status != 302 || r.Header.Get("Location") != "/" {
		t.Fatalf("probe: %d %q", r.Status, r.Header.Get("Location"))
	}
	if got := lookup(t, "127.0.0.1:"+dnsPort, "connectivitycheck.gstatic.com."); got != "192.168.4.1" {
		t.Fatalf("DNS answer %q, want 192.168.4.1", got)
	}
	p.StopWith(t, syscall.SIGTERM)
	p.Out.Expect(t, "Shutting down socket")
}
