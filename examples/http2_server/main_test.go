package main

import (
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// TestMain runs main when extest.StartMain started this binary as the
// example, and checks that the tests leave no goroutine behind.
func TestMain(m *testing.M) { extest.Main(m, main) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause, with and without -tls.
func TestStartFailures(t *testing.T) {
	extest.CheckStartFailures(t)
	extest.CheckStartFailures(t, "-tls")
}

// TestMainProgram runs main as `go run ./examples/http2_server -tls -v`
// would, on a free port: it logs the certificate's fingerprint and where it
// serves, answers the page over h2, logs the data /dynamic receives (-v),
// and exits with status 0 on SIGINT, and on SIGTERM without -tls.
func TestMainProgram(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		scheme string
		stop   os.Signal
	}{
		{args: []string{"-tls", "-v"}, scheme: "https", stop: os.Interrupt},
		{scheme: "http", stop: syscall.SIGTERM},
	} {
		port := extest.FreePort(t)
		p := extest.StartMain(t, append([]string{"-host", "127.0.0.1", "-port", port}, tc.args...)...)
		if tc.scheme == "https" {
			p.Out.ExpectRegexp(t, `I \(\d+\) net_http_server_sample: self-signed certificate, SHA-256 fingerprint [0-9A-F:]{95}\n`)
		}
		p.Out.Expect(t, "I (")
		p.Out.Expect(t, "net_http_server_sample: serving "+tc.scheme+" (HTTP/1.1 and HTTP/2) on 127.0.0.1:"+port)
		cl, base := newClient(t), tc.scheme+"://127.0.0.1:"+port
		resp, body := fetch(t, cl, "POST", base+"/dynamic", "from main")
		if resp.StatusCode != 200 || body != "from main" {
			t.Fatalf("%v: POST /dynamic: %d %q", tc.args, resp.StatusCode, body)
		}
		if tc.scheme == "https" {
			if resp.ProtoMajor != 2 {
				t.Errorf("-tls: POST /dynamic over %s, want HTTP/2", resp.Proto)
			}
			p.Out.Expect(t, "D (")
			p.Out.Expect(t, "net_http_server_sample: All data received (9 bytes).")
		}
		p.StopWith(t, tc.stop)
		if strings.Contains(p.Out.String(), "D (") != (tc.scheme == "https") {
			t.Errorf("%v: debug lines only with -v:\n%s", tc.args, p.Out)
		}
	}
}

func startExample(t *testing.T, useTLS bool) *httpd.Handle {
	t.Helper()
	o := options{host: "127.0.0.1", port: 0, tls: useTLS}
	if useTLS {
		o.cert, o.key = httpd_ssl.SelfSigned("localhost", "127.0.0.1")
	}
	h, err := startServer(o, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	return h
}

// tool runs an external client; exttool.Require skips the test when it is
// missing (fails it under CI).
func tool(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(exttool.Require(t, name), args...)
	var err error
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not finish in %v:\n%s", name, args, timeout, out)
	}
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func TestCurl(t *testing.T) {
	h := startExample(t, false)
	base := "http://" + h.Addr().String()
	out := tool(t, 10*time.Second, "curl", "-sS", "--http2-prior-knowledge", "--compressed", "-w", "|%{http_version}", base+"/")
	if !strings.Contains(out, "<h1>Zephyr HTTP server sample</h1>") || !strings.HasSuffix(out, "|2") {
		t.Fatalf("prior knowledge: %q", out)
	}
	out = tool(t, 10*time.Second, "curl", "-sS", "--http2", "-w", "|%{http_version}", "--data-binary", "echo me", base+"/dynamic")
	if out != "echo me|2" {
		t.Fatalf("h2c upgrade: %q", out)
	}
	out = tool(t, 10*time.Second, "curl", "-sS", "-w", "|%{http_version}", base+"/headers")
	if !strings.Contains(out, `"path":"/headers"`) || !strings.HasSuffix(out, "|1.1") {
		t.Fatalf("HTTP/1.1: %q", out)
	}

	hs := startExample(t, true)
	out = tool(t, 10*time.Second, "curl", "-sS", "-k", "--http2", "--compressed", "-w", "|%{http_version}", "https://"+hs.Addr().String()+"/")
	if !strings.Contains(out, "Zephyr HTTP server sample") || !strings.HasSuffix(out, "|2") {
		t.Fatalf("ALPN h2: %q", out)
	}
}

func TestNghttp(t *testing.T) {
	h := startExample(t, false)
	out := tool(t, 10*time.Second, "nghttp", "-nv", "http://"+h.Addr().String()+"/headers")
	if !strings.Contains(out, ":status: 200") || !strings.Contains(out, "END_STREAM") {
		t.Fatalf("nghttp -nv:\n%s", out)
	}
	out = tool(t, 10*time.Second, "nghttp", "-nv", "-u", "http://"+h.Addr().String()+"/")
	if !strings.Contains(out, ":status: 200") {
		t.Fatalf("nghttp -nvu (upgrade):\n%s", out)
	}
}

func TestH2load(t *testing.T) {
	h := startExample(t, false)
	out := tool(t, 60*time.Second, "h2load", "-n", "10000", "-c", "10", "-m", "10", "http://"+h.Addr().String()+"/headers")
	m := regexp.MustCompile(`requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed`).FindStringSubmatch(out)
	if m == nil || m[1] != "10000" || m[3] != "10000" || m[4] != "0" {
		t.Fatalf("h2load:\n%s", out)
	}
}

// TestH2spec runs the HTTP/2 conformance suite against the example, over
// h2c and over TLS: every case must pass.
func TestH2spec(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		h := startExample(t, useTLS)
		args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(h.Port()), "-o", "5"}
		if useTLS {
			args = append(args, "-t", "-k")
		}
		out := tool(t, 5*time.Minute, "h2spec", args...)
		m := regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] || m[4] != "0" {
			tail := out
			if i := strings.Index(out, "Failures:"); i >= 0 {
				tail = out[i:]
			}
			t.Fatalf("h2spec (TLS %v): %v\n%s", useTLS, m, tail)
		}
		t.Logf("h2spec (TLS %v): %s", useTLS, m[0])
	}
}
