package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// startExample starts the example with a fresh self-signed certificate and
// returns the server, the path of the certificate as PEM, and the log.
func startExample(t *testing.T) (*httpd.Handle, string, *extest.Log) {
	t.Helper()
	cert, key := httpd_ssl.SelfSigned("localhost", "127.0.0.1")
	certPath := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certPath, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	out := &extest.Log{}
	log := out.Logger("example")
	h, err := startWebserver(options{host: "127.0.0.1", port: 0, cert: cert, key: key}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { httpd_ssl.Stop(h) })
	return h, certPath, out
}

func TestCurlWithCACert(t *testing.T) {
	curl := exttool.Require(t, "curl")
	h, certPath, out := startExample(t)
	url := "https://" + h.Addr().String() + "/"
	cmd := exec.Command(curl, "-sS", "--max-time", "10", "--cacert", certPath, url)
	body, err := cmd.CombinedOutput()
	if err != nil || string(body) != "<h1>Hello Secure World!</h1>" {
		t.Fatalf("curl: %v\n%s", err, body)
	}
	// Without the CA, curl must refuse the certificate.
	cmd = exec.Command(curl, "-sS", "--max-time", "10", url)
	if err := cmd.Run(); err == nil {
		t.Fatal("curl accepted a self-signed certificate without --cacert")
	}
	for _, line := range []string{"User callback invoked!", "Socket FD: 1", "Current Ciphersuite: TLS_"} {
		out.Expect(t, line)
	}
}

func TestOpenSSLSClient(t *testing.T) {
	openssl := exttool.Require(t, "openssl")
	h, certPath, _ := startExample(t)
	cmd := exec.Command(openssl, "s_client", "-connect", h.Addr().String(),
		"-CAfile", certPath, "-servername", "localhost", "-verify_return_error", "-ign_eof")
	cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	done := make(chan struct{})
	var outb []byte
	var err error
	go func() { outb, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("openssl s_client did not finish")
	}
	out := string(outb)
	if err != nil || !strings.Contains(out, "Verify return code: 0 (ok)") || !strings.Contains(out, "<h1>Hello Secure World!</h1>") {
		t.Fatalf("openssl s_client: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Protocol  : TLSv1.3") && !strings.Contains(out, "TLSv1.3") {
		t.Errorf("no TLS 1.3 negotiated:\n%s", out)
	}
}

// TestFailedHandshakeLogged: a client that speaks plain HTTP to the TLS
// port fails its handshake, and the user callback's SESS_ERROR branch logs
// its address, as the C example's does.
func TestFailedHandshakeLogged(t *testing.T) {
	h, _, out := startExample(t)
	c := extest.Dial(t, h.Addr().String())
	c.Write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	out.ExpectRegexp(t, `W \(\d+\) example: SSL handshake failed from client IP: 127\.0\.0\.1`)
}
