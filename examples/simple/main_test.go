package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// start runs the example on an ephemeral port of 127.0.0.1 and stops it when
// the test ends. It returns the handle, the console log and the address.
func start(t *testing.T, cfg config) (*httpd.Handle, *extest.Log, string) {
	t.Helper()
	logs := new(extest.Log)
	log := logs.Logger(tag)
	cfg.Host, cfg.Port = "127.0.0.1", 0
	h, err := startWebserver(cfg, log)
	if err != nil {
		t.Fatalf("startWebserver: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	logs.Expect(t, "Starting server on port: '0'")
	logs.Expect(t, "Registering URI handlers")
	return h, logs, h.Addr().String()
}

func checkResp(t *testing.T, what string, r *extest.Response, status int, body string) {
	t.Helper()
	if r.Status != status || r.Body != body {
		t.Fatalf("%s: got %d %q, want %d %q", what, r.Status, r.Body, status, body)
	}
}

// TestGetHello is client.test_get_handler and the log lines the pytest
// script expects after it.
func TestGetHello(t *testing.T) {
	_, logs, addr := start(t, defaultConfig())
	c := extest.Dial(t, addr)
	r := c.Do("GET", "/hello?query1=value1&query2=value2&query3=value3", "",
		"Test-Header-1", "Test-Value-1", "Test-Header-2", "Test-Value-2")
	checkResp(t, "GET /hello", r, 200, "Hello World!")
	for _, h := range [][2]string{{"Custom-Header-1", "Custom-Value-1"}, {"Custom-Header-2", "Custom-Value-2"}, {"Content-Type", "text/html"}} {
		if got := r.Header.Get(h[0]); got != h[1] {
			t.Errorf("response header %s = %q, want %q", h[0], got, h[1])
		}
	}

	host := logs.ExpectRegexp(t, `(?m)^I \(\d+\) example: Found header => Host: (\d+\.\d+\.\d+\.\d+)`)
	if host[1] != "127.0.0.1" {
		t.Errorf("logged Host %q, want 127.0.0.1", host[1])
	}
	logs.Expect(t, "Found header => Test-Header-2: Test-Value-2")
	logs.Expect(t, "Found header => Test-Header-1: Test-Value-1")
	logs.Expect(t, "Found URL query => query1=value1&query2=value2&query3=value3")
	logs.Expect(t, "Found URL query parameter => query1=value1")
	logs.Expect(t, "Found URL query parameter => query3=value3")
	logs.Expect(t, "Found URL query parameter => query2=value2")
	// Once the response is sent the request headers are gone.
	logs.ExpectRegexp(t, `(?m)^I \(\d+\) example: Request headers lost$`)

	// The connection is kept alive: a second request on it works.
	checkResp(t, "second GET /hello", c.Do("GET", "/hello", ""), 200, "Hello World!")
	logs.Expect(t, "Request headers lost")
}

// TestCustomURIQuery is client.test_custom_uri_query with the pytest
// script's encoded query and the decoded values it expects.
func TestCustomURIQuery(t *testing.T) {
	_, logs, addr := start(t, defaultConfig())
	const queries = "query1=http%3A%2F%2Ffoobar&query3=abcd%2B1234%20xyz&query2=Esp%21%40%20%23%2471"
	checkResp(t, "GET /hello?query", extest.Once(t, addr, "GET", "/hello?"+queries, ""), 200, "Hello World!")
	for _, line := range []string{
		"Found URL query => " + queries,
		"Found URL query parameter => query1=http%3A%2F%2Ffoobar",
		"Decoded query parameter => http://foobar",
		"Found URL query parameter => query3=abcd%2B1234%20xyz",
		"Decoded query parameter => abcd+1234 xyz",
		"Found URL query parameter => query2=Esp%21%40%20%23%2471",
		"Decoded query parameter => Esp!@ #$71",
	} {
		logs.Expect(t, line)
	}

	// A value that does not fit the original's 64-byte buffer is not
	// logged, a missing one neither.
	long := strings.Repeat("x", queryKeyMaxLen)
	mark := logs.Mark()
	checkResp(t, "GET /hello?long", extest.Once(t, addr, "GET", "/hello?query1="+long+"&other=1", ""), 200, "Hello World!")
	logs.Expect(t, "Found URL query => query1="+long+"&other=1")
	logs.Expect(t, "Request headers lost")
	logs.NotSince(t, mark, "Found URL query parameter")
}

// TestPostEcho is client.test_post_handler with the pytest script's 10 KB
// of random printable data: the body comes back chunked, piece by piece.
func TestPostEcho(t *testing.T) {
	_, logs, addr := start(t, defaultConfig())
	data := randomPrintable(10 * 1024)
	r := extest.Once(t, addr, "POST", "/echo", data)
	if r.Status != 200 || r.Body != data {
		t.Fatalf("POST /echo: status %d, %d bytes back (want 200 and the %d bytes sent)", r.Status, len(r.Body), len(data))
	}
	if !r.Chunked {
		t.Errorf("response not chunked: %v", r.Header)
	}
	logs.Expect(t, "=========== RECEIVED DATA ==========")
	logs.Expect(t, data[:echoBufSize])
	logs.Expect(t, "====================================")

	// A body larger than the server buffers streams through the handler's
	// 100-byte buffer.
	big := randomPrintable(64 * 1024)
	mark := logs.Mark()
	r = extest.Once(t, addr, "POST", "/echo", big)
	if r.Status != 200 || r.Body != big {
		t.Fatalf("POST /echo 64 KB: status %d, %d bytes back", r.Status, len(r.Body))
	}
	if n, min := strings.Count(logs.Since(mark), "=========== RECEIVED DATA =========="), len(big)/echoBufSize; n < min {
		t.Errorf("%d pieces logged for 64 KB, want at least %d", n, min)
	}

	// An empty body gives an empty chunked response.
	checkResp(t, "POST /echo (empty)", extest.Once(t, addr, "POST", "/echo", ""), 200, "")
}

// TestCtrl is client.test_put_handler: /ctrl 0 unregisters /hello and
// /echo and installs the custom 404 handler, which keeps the connection
// for /hello and closes it for /echo; /ctrl 1 restores everything.
func TestCtrl(t *testing.T) {
	_, logs, addr := start(t, defaultConfig())

	c := extest.Dial(t, addr)
	checkResp(t, "PUT /ctrl 0", c.Do("PUT", "/ctrl", "0"), 200, "")
	logs.Expect(t, "Unregistering /hello and /echo URIs")

	checkResp(t, "GET /hello after /ctrl 0", c.Do("GET", "/hello", ""), 404, "/hello URI is not available")
	c.ExpectOpen()
	// Same connection: the custom handler kept it open.
	checkResp(t, "POST /echo after /ctrl 0", c.Do("POST", "/echo", "Some content"), 404, "/echo URI is not available")
	// ... and closed it this time.
	c.ExpectClosed()
	if _, err := c.Send("POST", "/hello", "Some content"); err == nil {
		t.Fatal("request on the connection the server closed succeeded")
	}

	other := extest.Dial(t, addr)
	checkResp(t, "GET /other after /ctrl 0", other.Do("GET", "/other", ""), 404, "Some 404 error message")
	other.ExpectClosed()

	checkResp(t, "PUT /ctrl 1", extest.Once(t, addr, "PUT", "/ctrl", "1"), 200, "")
	logs.Expect(t, "Registering /hello and /echo URIs")

	c = extest.Dial(t, addr)
	checkResp(t, "GET /hello after /ctrl 1", c.Do("GET", "/hello", ""), 200, "Hello World!")
	// The default 404 handler is back.
	checkResp(t, "GET /invalid after /ctrl 1", c.Do("GET", "/invalid", ""), 404, "Nothing matches the given URI")
	checkResp(t, "POST /echo after /ctrl 1", extest.Once(t, addr, "POST", "/echo", "Some content"), 200, "Some content")

	// /ctrl without a body cannot read its byte and closes the session.
	c = extest.Dial(t, addr)
	c.Write(extest.Request("PUT", "/ctrl", addr, ""))
	c.ExpectClosed()
}

// TestAny: /any is registered for every method.
func TestAny(t *testing.T) {
	_, _, addr := start(t, defaultConfig())
	c := extest.Dial(t, addr)
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		checkResp(t, m+" /any", c.Do(m, "/any", ""), 200, "Hello World!")
	}
}

// TestLRUPurge is the pytest script's lru_purge_enable test: more idle
// connections than sessions never keep a new client out.
func TestLRUPurge(t *testing.T) {
	h, _, addr := start(t, defaultConfig())
	max := httpd.DefaultConfig().MaxOpenSockets
	idle := make([]*extest.Conn, 0, max+3)
	for range max + 3 {
		idle = append(idle, extest.Dial(t, addr))
	}
	checkResp(t, "GET /hello with every session taken", extest.Once(t, addr, "GET", "/hello", ""), 200, "Hello World!")
	if n := len(h.GetClientList()); n > max {
		t.Errorf("%d sessions open, want at most %d", n, max)
	}
	// The oldest idle connection was purged.
	idle[0].ExpectClosed()
}

// TestBasicAuth is /basic_auth with CONFIG_EXAMPLE_BASIC_AUTH.
func TestBasicAuth(t *testing.T) {
	cfg := defaultConfig()
	cfg.BasicAuth = true
	_, logs, addr := start(t, cfg)
	c := extest.Dial(t, addr)

	r := c.Do("GET", "/basic_auth", "")
	checkResp(t, "no credentials", r, 401, "")
	if got := r.Header.Get("WWW-Authenticate"); got != `Basic realm="Hello"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	logs.Expect(t, "E (")
	logs.Expect(t, "No auth header received")

	bad := "Basic " + base64.StdEncoding.EncodeToString([]byte("ESP32:wrong"))
	checkResp(t, "wrong password", c.Do("GET", "/basic_auth", "", "Authorization", bad), 401, "")
	logs.Expect(t, "Found header => Authorization: "+bad)
	logs.Expect(t, "Not authenticated")

	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("ESP32:ESP32Webserver"))
	r = c.Do("GET", "/basic_auth", "", "Authorization", good)
	checkResp(t, "right password", r, 200, `{"authenticated": true,"user": "ESP32"}`)
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	logs.Expect(t, "Authenticated!")

	// Without -basic-auth the URI does not exist.
	_, _, addr = start(t, defaultConfig())
	checkResp(t, "/basic_auth not enabled", extest.Once(t, addr, "GET", "/basic_auth", ""), 404, "Nothing matches the given URI")
}

// TestSSE is /sse with CONFIG_EXAMPLE_ENABLE_SSE_HANDLER: events arrive on
// the stream while the server keeps answering other clients, and stopping
// the server ends the stream.
func TestSSE(t *testing.T) {
	cfg := defaultConfig()
	cfg.SSE = true
	h, _, addr := start(t, cfg)
	c := extest.Dial(t, addr)
	if err := c.Write(extest.Request("GET", "/sse", addr, "")); err != nil {
		t.Fatal(err)
	}
	c.Raw().SetReadDeadline(time.Now().Add(extest.Timeout))
	head, err := c.Reader().ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "HTTP/1.1 200 OK") {
		t.Fatalf("status line %q, %v", head, err)
	}
	var sawType bool
	for {
		line, err := c.Reader().ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		sawType = sawType || strings.EqualFold(strings.TrimSpace(line), "Content-Type: text/event-stream")
	}
	if !sawType {
		t.Error("no Content-Type: text/event-stream")
	}
	for range 2 { // the first event comes at once, the second a second later
		if _, err := c.Reader().ReadString('\n'); err != nil { // chunk size
			t.Fatal(err)
		}
		ev, err := c.Reader().ReadString('\n')
		if err != nil || !strings.HasPrefix(ev, "data: Time since boot: ") || !strings.HasSuffix(ev, " seconds\n") {
			t.Fatalf("event %q, %v", ev, err)
		}
		c.Reader().ReadString('\n') // blank line ending the event
		c.Reader().ReadString('\n') // CRLF ending the chunk
	}

	// Other clients are served while the stream runs.
	checkResp(t, "GET /hello during SSE", extest.Once(t, addr, "GET", "/hello", ""), 200, "Hello World!")

	// Stop ends the stream (the cleanup's second Stop is a no-op).
	done := make(chan error, 1)
	go func() { done <- h.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(extest.Timeout):
		t.Fatal("Stop did not return while an SSE stream was open")
	}
	c.ExpectClosed()
}

// TestCurl drives the example with curl, an independent client, as the
// original's README does.
func TestCurl(t *testing.T) {
	curl := exttool.Require(t, "curl")
	_, logs, addr := start(t, defaultConfig())

	run := func(args ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), extest.Timeout)
		defer cancel()
		var out, errOut bytes.Buffer
		cmd := exec.CommandContext(ctx, curl, append([]string{"-v", "-sS", "--max-time", "10"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, errOut.String())
		}
		return out.String(), strings.ReplaceAll(errOut.String(), "\r", "")
	}
	expectVerbose := func(stderr string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !strings.Contains(stderr, "\n"+l+"\n") {
				t.Errorf("curl -v output lacks %q:\n%s", l, stderr)
			}
		}
	}

	body, verbose := run("-H", "Test-Header-1: Test-Value-1", "-H", "Test-Header-2: Test-Value-2",
		"http://"+addr+"/hello?query1=value1&query2=value2&query3=value3")
	if body != "Hello World!" {
		t.Errorf("GET /hello body %q", body)
	}
	expectVerbose(verbose,
		"> GET /hello?query1=value1&query2=value2&query3=value3 HTTP/1.1",
		"< HTTP/1.1 200 OK",
		"< Content-Type: text/html",
		"< Content-Length: 12",
		"< Custom-Header-1: Custom-Value-1",
		"< Custom-Header-2: Custom-Value-2")
	logs.Expect(t, "Found header => Host: "+addr)
	logs.Expect(t, "Found header => Test-Header-2: Test-Value-2")
	logs.Expect(t, "Found header => Test-Header-1: Test-Value-1")
	logs.Expect(t, "Found URL query parameter => query1=value1")
	logs.Expect(t, "Found URL query parameter => query3=value3")
	logs.Expect(t, "Found URL query parameter => query2=value2")
	logs.Expect(t, "Request headers lost")

	// POST /echo with a file, as "curl -X POST --data-binary @anyfile".
	data := randomPrintable(3000)
	file := filepath.Join(t.TempDir(), "anyfile")
	if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	body, verbose = run("-X", "POST", "--data-binary", "@"+file, "http://"+addr+"/echo")
	if body != data {
		t.Errorf("POST /echo echoed %d bytes, want the %d sent", len(body), len(data))
	}
	expectVerbose(verbose, "> POST /echo HTTP/1.1", "< HTTP/1.1 200 OK", "< Transfer-Encoding: chunked")
	logs.Expect(t, "=========== RECEIVED DATA ==========")
	logs.Expect(t, data[:echoBufSize])
}

// TestMainProgram runs main as `go run ./examples/simple -port N -host H`
// would, and stops it with SIGINT.
func TestMainProgram(t *testing.T) {
	port := extest.FreePort(t)
	p := extest.StartMain(t, "-port", port, "-host", "127.0.0.1", "-v")
	p.Out.Expect(t, "example: Starting server on port: '"+port+"'")
	p.Out.Expect(t, "example: Registering URI handlers")
	// The line comes before the registrations, as in the C example: wait
	// for httpd's debug line.
	p.Out.Expect(t, "registered URI handler uri=/hello")
	resp := extest.Once(t, "127.0.0.1:"+port, "GET", "/hello", "")
	checkResp(t, "GET /hello", resp, 200, "Hello World!")
	p.StopWith(t, os.Interrupt)
	p.Out.Expect(t, "example: Stopping webserver")
}

func randomPrintable(n int) string {
	const printable = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\r\x0b\x0c"
	b := make([]byte, n)
	for i := range b {
		b[i] = printable[rand.IntN(len(printable))]
	}
	return string(b)
}

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }
