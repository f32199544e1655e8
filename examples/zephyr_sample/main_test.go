package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// TestMain runs main when extest.StartMain started this binary as the
// example, and checks that the tests leave no goroutine behind.
func TestMain(m *testing.M) { extest.Main(m, main) }

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause; so is a -tls-port in use, and the HTTP
// server started before it is stopped again.
func TestStartFailures(t *testing.T) {
	extest.CheckStartFailures(t, "-tls-port", extest.FreePort(t))
	extest.CheckRefused(t, "1 to 65535", "-port", extest.FreePort(t), "-tls-port", "65536")

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tlsPort := uint16(taken.Addr().(*net.TCPAddr).Port)
	httpPort := extest.FreePort(t)
	p := extest.StartMain(t, "-host", "127.0.0.1", "-port", httpPort, "-tls-port", strconv.Itoa(int(tlsPort)))
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Out.String(), "zephyr_sample: HTTPS server: ") ||
		!strings.Contains(p.Out.String(), "address already in use") {
		t.Errorf("-tls-port taken: exit status %d, want 1 with the cause; output:\n%s", code, p.Out)
	}

	// In this process, so that the HTTP port can be checked afterwards.
	port, _ := strconv.Atoi(httpPort)
	if _, err := startServers("127.0.0.1", uint16(port), tlsPort, quietLog()); err == nil {
		t.Fatal("startServers with the HTTPS port taken: no error")
	}
	free, err := net.Listen("tcp", "127.0.0.1:"+httpPort)
	if err != nil {
		t.Fatalf("the HTTP server still holds its port after HTTPS failed: %v", err)
	}
	free.Close()
}

// TestMainProgram runs main as `go run ./examples/zephyr_sample` would, on
// free ports: it logs both servers' addresses as the sample does, serves
// /index.html on both, and stops both on SIGINT with exit status 0.
func TestMainProgram(t *testing.T) {
	httpPort, tlsPort := extest.FreePort(t), extest.FreePort(t)
	p := extest.StartMain(t, "-host", "127.0.0.1", "-port", httpPort, "-tls-port", tlsPort)
	p.Out.Expect(t, "http_server: Zephyr HTTP Server")
	p.Out.Expect(t, "http_server: Address: 127.0.0.1, port: "+httpPort)
	p.Out.Expect(t, "http_server: Zephyr HTTPS Server")
	p.Out.Expect(t, "http_server: Address: 127.0.0.1, port: "+tlsPort)
	cl := &http.Client{Timeout: extest.Timeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	for _, base := range []string{"http://127.0.0.1:" + httpPort, "https://127.0.0.1:" + tlsPort} {
		resp, err := cl.Get(base + "/index.html")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "It Works!") {
			t.Errorf("%s/index.html: %d %q", base, resp.StatusCode, body)
		}
	}
	p.StopWith(t, os.Interrupt)
}

// rawGet sends one request on conn and returns the response with its body.
func rawGet(t *testing.T, br *bufio.Reader, conn net.Conn, path string, extra string) (*http.Response, string) {
	t.Helper()
	io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Wget/1.16 (linux-gnu)\r\n"+extra+"\r\n")
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestURLTable(t *testing.T) {
	h, err := startHTTP("127.0.0.1", 0, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	conn, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)

	resp, body := rawGet(t, br, conn, "/index.html", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<h1><center>It Works!</center></h1>") ||
		len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("/index.html: %d %v %q", resp.StatusCode, resp.TransferEncoding, body)
	}
	if _, body := rawGet(t, br, conn, "/index.html/xxx", ""); !strings.Contains(body, "It Works!") {
		t.Fatalf("/index.html/xxx: %q", body)
	}
	_, body = rawGet(t, br, conn, "/headers", "Accept: */*\r\nX-Evil: <script>\r\n")
	for _, want := range []string{"<h2>HTTP Header Fields</h2>", "<li>User-Agent: Wget/1.16 (linux-gnu)</li>",
		"<li>Accept: */*</li>", "<li>Host: 127.0.0.1</li>", "<li>X-Evil: &lt;script&gt;</li>",
		"<h2>HTTP Method: GET</h2>", "<h2>URL: /headers</h2>", "<h2>Server: "} {
		if !strings.Contains(body, want) {
			t.Errorf("/headers lacks %q:\n%s", want, body)
		}
	}
	if _, body := rawGet(t, br, conn, "/headers/index.html", ""); !strings.Contains(body, "<h2>URL: /headers/index.html</h2>") {
		t.Fatalf("/headers/index.html: %q", body)
	}
	// Soft 404: 200 OK with a 404 page, and the session stays open.
	resp, body = rawGet(t, br, conn, "/not_found", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<h1><center>404 Not Found</center></h1>") {
		t.Fatalf("/not_found: %d %q", resp.StatusCode, body)
	}
	if resp, _ := rawGet(t, br, conn, "/index.html", ""); resp.StatusCode != 200 {
		t.Fatal("session closed after the soft 404")
	}
}

func TestHTTPSSideBySide(t *testing.T) {
	cert, key := httpd_ssl.SelfSigned("localhost", "127.0.0.1")
	h, err := startHTTPS("127.0.0.1", 0, cert, key, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cert)
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	resp, err := cl.Get("https://" + h.Addr().String() + "/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "It Works!") {
		t.Fatalf("%q", body)
	}
	resp, err = cl.Get("https://" + h.Addr().String() + "/headers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("HTTPS /headers: %d, want 404", resp.StatusCode)
	}
}
