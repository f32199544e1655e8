package main

import (
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

func TestMain(m *testing.M) {
	extest.RunMainIfChild(main)
	os.Exit(extest.CheckGoroutines(m))
}

// startPortal starts the web server on an ephemeral port and returns its
// address and the console log.
func startPortal(t *testing.T) (string, *extest.Log) {
	t.Helper()
	out := &extest.Log{}
	log := slog.New(espconsole.NewHandler(out, tag, nil))
	s, err := start(options{host: "127.0.0.1"}, out, log, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
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
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-dns-port", "65536"}, "invalid -dns-port 65536"},
		{[]string{"-host", "0.0.0.0", "-dns-port", "5353"}, "give the address DNS answers carry with -dns-ip"},
		{[]string{"-dns-port", "5353", "-dns-ip", "::1"}, "invalid -dns-ip \"::1\": must be an IPv4 address"},
		{[]string{"-dns-port", "5353", "-dns-ip", "portal"}, "invalid -dns-ip \"portal\""},
	} {
		p := extest.StartMain(t, tc.args...)
		if code := p.Wait(t); code != 2 || !strings.Contains(p.Out.String(), tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit 2 with %q", tc.args, code, p.Out, tc.want)
		}
	}

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
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if code := p.Wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, p.Out)
	}
	p.Out.Expect(t, "Shutting down socket")
}
