package main

// The tests follow the http_server component's test script,
// tools/ci/python_packages/idf_http_server_test/test.py, and the log lines
// pytest_http_server_advanced.py waits for.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// start runs the tests' server on an ephemeral port and stops it when the
// test ends.
func start(t *testing.T, opts options) (*httpd.Handle, *extest.Log, string) {
	t.Helper()
	logs := new(extest.Log)
	log := logs.Logger(tag)
	opts.Host, opts.Port = "127.0.0.1", 0
	h, err := startTests(opts, log)
	if err != nil {
		t.Fatalf("startTests: %v\n%s", err, logs)
	}
	t.Cleanup(func() { h.Stop() })
	logs.Expect(t, "TESTS: Registering basic handlers")
	logs.Expect(t, "TESTS: Success")
	return h, logs, h.Addr().String()
}

func check(t *testing.T, what string, r *extest.Response, status int, body string) {
	t.Helper()
	if r.Status != status || r.Body != body {
		t.Fatalf("%s: got %d %q, want %d %q", what, r.Status, r.Body, status, body)
	}
}

func checkStatus(t *testing.T, what string, r *extest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got status %d (%q), want %d", what, r.Status, r.Body, status)
	}
}

// TestStartupLog checks the start-up lines the pytest script parses and the
// handler limit self-test with the lines its older version expected.
func TestStartupLog(t *testing.T) {
	logs := new(extest.Log)
	log := logs.Logger(tag)
	h, err := startTests(options{Host: "127.0.0.1"}, log)
	if err != nil {
		t.Fatalf("startTests: %v\n%s", err, logs)
	}
	t.Cleanup(func() { h.Stop() })

	m := logs.ExpectRegexp(t, `(?m)^I \(\d+\) TESTS: Started HTTP server on port: '(\d+)'$`)
	if m[1] != strconv.Itoa(h.Port()) {
		t.Errorf("logged port %s, server listens on %d", m[1], h.Port())
	}
	m = logs.ExpectRegexp(t, `Max URI handlers: '(\d+)'[\s\S]*Max Open Sessions: '(\d+)'[\s\S]*`+
		`Max Header Length: '(\d+)'[\s\S]*Max URI Length: '(\d+)'[\s\S]*Max Stack Size: '(\d+)'`)
	if want := []string{"9", "7", "512", "512"}; strings.Join(m[1:5], " ") != strings.Join(want, " ") {
		t.Errorf("limits logged %v, want %v", m[1:5], want)
	}

	// Handler limit test: every step ends in Success.
	for _, step := range []struct{ line, refusal string }{
		{"Test: Register Max URI handlers: 9...", ""},
		{"Test: Register Max URI + 1 handlers: 10 th...", "no slots left for registering handler"},
		{"Test: Unregister 0th handler...", ""},
		{"Test: Again unregister 0th handler not registered...", "handler 0 with method 1 not found"},
		{"Test: Register back 0th handler...", ""},
		{"Test: Register 0th handler again after registering...", "W ("},
		{"Test: Register 1 more handler...", "no slots left for registering handler"},
		{"Test: Unregister all handlers:", ""},
	} {
		logs.Expect(t, "TESTS: "+step.line)
		if step.refusal != "" {
			logs.Expect(t, step.refusal)
		}
		logs.ExpectRegexp(t, `(?m)^I \(\d+\) TESTS: Success$`)
	}
	if strings.Contains(logs.String(), "TESTS: Fail") {
		t.Errorf("handler limit test failed:\n%s", logs)
	}
	logs.Expect(t, "TESTS: Registering basic handlers")
	logs.Expect(t, "TESTS: No of handlers = 9")
	logs.ExpectRegexp(t, `(?m)^I \(\d+\) TESTS: Success$`)

	// The self-test left the table as it found it: all nine handlers fit.
	addr := h.Addr().String()
	check(t, "GET /hello", extest.Once(t, addr, "GET", "/hello", ""), 200, "Hello World!")
	check(t, "GET /async_data", extest.Once(t, addr, "GET", "/async_data", ""), 200, "Hello World!")

	if err := stopTests(h, log); err != nil {
		t.Fatal(err)
	}
	logs.Expect(t, "TESTS: Stopping httpd")
	logs.ExpectRegexp(t, `TESTS: HTTPD Stop: Current free memory: \d+`)
}

// TestBasic is test.py's "Basic HTTP Client Tests".
func TestBasic(t *testing.T) {
	_, logs, addr := start(t, options{})

	// get_hello, and the stack check the pytest script makes on its log.
	r := extest.Once(t, addr, "GET", "/hello", "")
	check(t, "GET /hello", r, 200, "Hello World!")
	if ct := r.Header.Get("Content-Type"); ct != "text/html" {
		t.Errorf("GET /hello Content-Type %q", ct)
	}
	free, _ := strconv.ParseUint(logs.ExpectRegexp(t, `Free Stack for server task: '(\d+)'`)[1], 10, 64)
	if free < maxStack/10 {
		t.Errorf("More than 90%% of stack being used: %d of %d free", free, maxStack)
	}

	checkStatus(t, "POST /hello", extest.Once(t, addr, "POST", "/hello", "Hello"), 405)
	checkStatus(t, "PUT /hello", extest.Once(t, addr, "PUT", "/hello", "Hello"), 405)
	check(t, "POST /echo", extest.Once(t, addr, "POST", "/echo", "Hello"), 200, "Hello")
	checkStatus(t, "GET /echo", extest.Once(t, addr, "GET", "/echo", ""), 405)
	check(t, "PUT /echo", extest.Once(t, addr, "PUT", "/echo", "Hello"), 200, "Hello")

	r = extest.Once(t, addr, "GET", "/hello/type_html", "")
	check(t, "GET /hello/type_html", r, 200, "Hello World!")
	if ct := r.Header.Get("Content-Type"); ct != "text/html" {
		t.Errorf("GET /hello/type_html Content-Type %q", ct)
	}
	check(t, "GET /hello/status_500", extest.Once(t, addr, "GET", "/hello/status_500", ""), 500, "Hello World!")
	checkStatus(t, "GET /false_uri", extest.Once(t, addr, "GET", "/false_uri", ""), 404)
}

// TestEcho: the Custom request header comes back, the log shows the body,
// and test.py's packet_size_limit_test body of 50 KB passes whole.
func TestEcho(t *testing.T) {
	_, logs, addr := start(t, options{})
	c := extest.Dial(t, addr)
	r := c.Do("POST", "/echo", "Hello", "Custom", "SomeValue")
	check(t, "POST /echo", r, 200, "Hello")
	if got := r.Header.Get("Custom"); got != "SomeValue" {
		t.Errorf("Custom response header %q, want SomeValue", got)
	}
	logs.Expect(t, "/echo handler read content length 5")
	logs.Expect(t, "/echo handler recv length 5")
	logs.Expect(t, "/echo handler read Hello")

	big := randomPrintable(50 * 1024)
	mark := logs.Mark()
	r = c.Do("PUT", "/echo", big)
	if r.Status != 200 || r.Body != big {
		t.Fatalf("PUT /echo 50 KB: status %d, %d bytes back", r.Status, len(r.Body))
	}
	if r.Header.Get("Custom") != "" {
		t.Error("Custom header without a Custom request header")
	}
	logs.Expect(t, "/echo handler read content length 51200")
	logs.NotSince(t, mark, "/echo handler read "+big[:10])

	// An empty body echoes nothing.
	check(t, "POST /echo empty", c.Do("POST", "/echo", ""), 200, "")
}

// TestEchoFailures: test.py's code_500_server_error_test (a body too large
// to allocate), and a body that stops arriving (408 from the handler).
func TestEchoFailures(t *testing.T) {
	_, logs, addr := start(t, options{RecvWaitTimeout: 300 * time.Millisecond})

	c := extest.Dial(t, addr)
	c.Write("POST /echo HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: " + strconv.Itoa(1<<30) + "\r\n\r\nABCD")
	r, err := c.ReadResponse("POST")
	if err != nil {
		t.Fatal(err)
	}
	checkStatus(t, "POST /echo with 1 GiB announced", r, 500)
	c.ExpectClosed()
	logs.Expect(t, "/echo handler read content length 1073741824")
	logs.ExpectRegexp(t, `(?m)^E \(\d+\) TESTS: Failed to allocate memory of 1073741825 bytes!$`)

	// Larger than the server buffers before the handler runs, so the
	// handler's own Recv times out.
	size := httpd.DefaultConfig().MaxBufferedBody + 1
	c = extest.Dial(t, addr)
	c.Write("PUT /echo HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\nABCD")
	r, err = c.ReadResponse("PUT")
	if err != nil {
		t.Fatal(err)
	}
	check(t, "PUT /echo with a stalled body", r, 408, "Server closed this connection")
	c.ExpectClosed()
	logs.Expect(t, "/echo handler recv length 4")
}

// TestTestHeader is test.py's get_test_headers, on one connection, plus the
// handler's failure answers.
func TestTestHeader(t *testing.T) {
	_, logs, addr := start(t, options{})
	c := extest.Dial(t, addr)
	for _, val := range []string{"", "  ", "Value2", "   Value2", "Value2  ", "  Value2  "} {
		r := c.Do("GET", "/test_header", "", "Header1", "Value1", "Header3", "Value3", "Header2", val)
		// ESP-IDF skips the white space before a value and keeps the rest.
		want := ""
		if i := strings.Index(val, "Value2"); i >= 0 {
			want = val[i:]
		}
		want = headerValue(want)
		check(t, fmt.Sprintf("GET /test_header with Header2 %q", val), r, 200, want)
		logs.Expect(t, "Header1 content: Value1")
		logs.Expect(t, "Expected value and received value matched for Header1")
		logs.Expect(t, "Header3 content: Value3")
		logs.Expect(t, "Expected value and received value matched for Header3")
		logs.Expect(t, "Header2 content: "+want)
	}

	for _, tc := range []struct {
		headers []string
		body    string
	}{
		{[]string{"Header3", "Value3", "Header2", "x"}, "Header1 not found"},
		{[]string{"Header1", "", "Header3", "Value3", "Header2", "x"}, "Header1 not found"},
		{[]string{"Header1", "Value9", "Header3", "Value3", "Header2", "x"}, "Wrong value of Header1 received"},
		{[]string{"Header1", "Value1", "Header2", "x"}, "Header3 not found"},
		{[]string{"Header1", "Value1", "Header3", "Value1", "Header2", "x"}, "Wrong value of Header3 received"},
		{[]string{"Header1", "Value1", "Header3", "Value3"}, "Header2 not found"},
	} {
		c := extest.Dial(t, addr)
		check(t, fmt.Sprintf("GET /test_header with %q", tc.headers), c.Do("GET", "/test_header", "", tc.headers...), 400, tc.body)
		// The handler returned an error: the session is closed.
		c.ExpectClosed()
	}
	logs.ExpectRegexp(t, `(?m)^E \(\d+\) TESTS: Header1 not found$`)
}

// headerValue is what a header value the test sends arrives as. ESP-IDF
// keeps trailing white space (test.py expects "Value2  " back), esphttpd's
// parser removes it, as RFC 9112 has a server do.
func headerValue(v string) string { return strings.TrimRight(v, " \t") }

// TestParallelSessionsAdder is test.py's parallel_sessions_adder: as many
// sessions as the server allows, each pipelining three POSTs on /adder,
// each keeping its own sum.
func TestParallelSessionsAdder(t *testing.T) {
	_, logs, addr := start(t, options{})
	sessions := lwipMaxSockets - 3
	conns := make([]*extest.Conn, sessions)
	for i := range conns {
		conns[i] = extest.Dial(t, addr)
	}
	var wg sync.WaitGroup
	errs := make([]error, sessions)
	for i, c := range conns {
		wg.Go(func() {
			const depth = 3
			var req strings.Builder
			for range depth { // pipelined: all three before any response
				req.WriteString(extest.Request("POST", "/adder", addr, strconv.Itoa(i)))
			}
			if err := c.Write(req.String()); err != nil {
				errs[i] = err
				return
			}
			for k := 1; k <= depth; k++ {
				r, err := c.ReadResponse("POST")
				if err != nil {
					errs[i] = err
					return
				}
				if want := strconv.Itoa(i * k); r.Status != 200 || r.Body != want {
					errs[i] = fmt.Errorf("response %d: %d %q, want 200 %q", k, r.Status, r.Body, want)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("session %d: %v", i, err)
		}
	}
	for range sessions {
		logs.Expect(t, "/adder allocating new session")
	}
	for _, c := range conns {
		c.Close()
	}
	for range sessions {
		logs.Expect(t, "Custom Free Context function called")
	}
}

// TestLeftoverData is test.py's leftover_data_test: the body the handler
// leaves unread is purged, for valid and invalid URIs.
func TestLeftoverData(t *testing.T) {
	_, logs, addr := start(t, options{})
	const body = "abcdefghijklmnopqrstuvwxyz\r\nabcdefghijklmnopqrstuvwxyz"
	c := extest.Dial(t, addr)
	check(t, "POST /leftover_data", c.Do("POST", "/leftover_data", body), 200, "abcdefghij")
	logs.Expect(t, "leftover data handler read abcdefghij")
	check(t, "GET /hello after it", c.Do("GET", "/hello", ""), 200, "Hello World!")
	checkStatus(t, "POST /false_uri", c.Do("POST", "/false_uri", body), 404)
	// The server closes the session after the error.
	c.ExpectClosed()

	c = extest.Dial(t, addr)
	check(t, "GET /hello on a new connection", c.Do("GET", "/hello", ""), 200, "Hello World!")

	// A body larger than the server buffers is purged too.
	long := strings.Repeat("0123456789", 4000)
	check(t, "POST /leftover_data 40 KB", c.Do("POST", "/leftover_data", long), 200, "0123456789")
	check(t, "GET /hello after it", c.Do("GET", "/hello", ""), 200, "Hello World!")
}

// TestAsyncResponse is test.py's async_response_test: two responses on one
// connection, the second written by work queued from the handler.
func TestAsyncResponse(t *testing.T) {
	_, logs, addr := start(t, options{})
	c := extest.Dial(t, addr)
	check(t, "first response", c.Do("GET", "/async_data", ""), 200, "Hello World!")
	r, err := c.ReadResponse("GET")
	if err != nil {
		t.Fatalf("second response: %v", err)
	}
	check(t, "second response", r, 200, "Hello Double World!")
	fd := logs.ExpectRegexp(t, `Queuing work fd : (\d+)`)[1]
	logs.Expect(t, "Executing queued work fd : "+fd)

	// The connection goes on after both.
	check(t, "GET /hello after them", c.Do("GET", "/hello", ""), 200, "Hello World!")
}

// TestSpilloverSession is test.py's spillover_session: with every session
// taken, one more connection is not served until a session closes.
func TestSpilloverSession(t *testing.T) {
	_, _, addr := start(t, options{})
	max := lwipMaxSockets - 3
	conns := make([]*extest.Conn, max)
	for i := range conns {
		conns[i] = extest.Dial(t, addr)
		check(t, fmt.Sprintf("connection %d", i), conns[i].Do("GET", "/hello", ""), 200, "Hello World!")
	}
	extra := extest.Dial(t, addr)
	extra.Write(extest.Request("GET", "/hello", addr, ""))
	extra.ExpectOpen() // no answer while all sessions are taken
	conns[0].Close()
	r, err := extra.ReadResponse("GET")
	if err != nil {
		t.Fatal(err)
	}
	check(t, "the extra connection once a session closed", r, 200, "Hello World!")
	for _, c := range conns[1:] {
		check(t, "GET /hello on the others", c.Do("GET", "/hello", ""), 200, "Hello World!")
	}
}

// TestRecvTimeout is test.py's recv_timeout_test: half a request line and
// nothing more gets 408 once the receive timeout passes.
func TestRecvTimeout(t *testing.T) {
	_, _, addr := start(t, options{RecvWaitTimeout: 300 * time.Millisecond})
	c := extest.Dial(t, addr)
	c.Write("GE")
	r, err := c.ReadResponse("GET")
	if err != nil {
		t.Fatal(err)
	}
	check(t, "partial request", r, 408, "Server closed this connection")
	c.ExpectClosed()
}

// TestErrorCodes is test.py's error code tests.
func TestErrorCodes(t *testing.T) {
	_, _, addr := start(t, options{RecvWaitTimeout: 300 * time.Millisecond})
	send := func(raw string) *extest.Response {
		t.Helper()
		c := extest.Dial(t, addr)
		c.Write(raw)
		r, err := c.ReadResponse("GET")
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		return r
	}
	host := "Host: " + addr + "\r\n"
	for _, tc := range []struct {
		name   string
		raw    string
		status int
	}{
		{"505 version not supported", "GET /hello HTTP/2.0\r\n" + host + "\r\n", 505},
		{"404 not found", "GET /dummy HTTP/1.1\r\n" + host + "\r\n", 404},
		{"405 method not allowed", "POST /hello HTTP/1.1\r\n" + host + "\r\n", 405},
		{"408 request timeout", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 10\r\n\r\nABCD", 408},
		{"400 upgrade not supported", "OPTIONS * HTTP/1.1\r\nHost:" + addr + "\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n", 400},
		{"414 URI too long", "GET /" + strings.Repeat("x", 600) + " HTTP/1.1\r\n" + host + "\r\n", 414},
		{"431 header too long", "POST /echo HTTP/1.1\r\n" + host + "Custom: " + strings.Repeat("x", 600) + "\r\n\r\n", 431},
	} {
		checkStatus(t, tc.name, send(tc.raw), tc.status)
	}
	// test.py's 501 and 400 tests send unknown methods; ESP-IDF answers
	// both 400, esphttpd 501 (Method Not Implemented) or 400.
	for _, m := range []string{"ABC", "XYZ"} {
		r := send(m + " /hello HTTP/1.1\r\n" + host + "\r\n")
		if r.Status != 400 && r.Status != 501 {
			t.Errorf("method %s: status %d, want 400 or 501", m, r.Status)
		}
		t.Logf("method %s: %d %s", m, r.Status, r.Body)
	}
}

// TestArbitraryTermination is test.py's arbitrary_termination_test: bare
// LF line ends are accepted, stray CRs are not.
func TestArbitraryTermination(t *testing.T) {
	_, _, addr := start(t, options{})
	host := addr
	for i, tc := range []struct {
		req    string
		status int
		header string
		body   string
	}{
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nCustom: SomeValue\r\n\r\n", 200, "SomeValue", ""},
		{"POST /echo HTTP/1.1\nHost: " + host + "\r\nCustom: SomeValue\r\n\r\n", 200, "SomeValue", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\nCustom: SomeValue\r\n\r\n", 200, "SomeValue", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nCustom: SomeValue\n\r\n", 200, "SomeValue", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nCustom: SomeValue\r\n\n", 200, "SomeValue", ""},
		{"POST /echo HTTP/1.1\nHost: " + host + "\nCustom: SomeValue\n\n", 200, "SomeValue", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\n\r\nABCDE", 200, "", "ABCDE"},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\r\n\nABCDE", 200, "", "ABCDE"},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\n\nABCDE", 200, "", "ABCDE"},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 5\n\n\rABCD", 200, "", "\rABCD"},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\r\nCustom: SomeValue\r\r\n\r\r\n", 400, "", ""},
		{"POST /echo HTTP/1.1\r\r\nHost: " + host + "\r\n\r\n", 400, "", ""},
		{"POST /echo HTTP/1.1\r\n\rHost: " + host + "\r\n\r\n", 400, "", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\rCustom: SomeValue\r\n", 400, "", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nCustom: Some\rValue\r\n", 400, "", ""},
		{"POST /echo HTTP/1.1\r\nHost: " + host + "\r\nCustom- SomeValue\r\n\r\n", 400, "", ""},
	} {
		c := extest.Dial(t, addr)
		c.Write(tc.req)
		r, err := c.ReadResponse("POST")
		c.Close()
		if err != nil {
			t.Errorf("case %d %q: %v", i, tc.req, err)
			continue
		}
		if r.Status != tc.status {
			t.Errorf("case %d %q: status %d (%q), want %d", i, tc.req, r.Status, r.Body, tc.status)
			continue
		}
		if tc.header != "" && r.Header.Get("Custom") != tc.header {
			t.Errorf("case %d: Custom header %q, want %q", i, r.Header.Get("Custom"), tc.header)
		}
		if tc.body != "" && r.Body != tc.body {
			t.Errorf("case %d: body %q, want %q", i, r.Body, tc.body)
		}
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{"": 0, "7": 7, " -3x": -3, "+12": 12, "a1": 0} {
		if got := atoi([]byte(in)); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestMainProgram runs main as `go run ./examples/advanced_tests -port N
// -host H` would, and stops it with SIGINT: stop_tests' lines follow.
func TestMainProgram(t *testing.T) {
	port := extest.FreePort(t)
	p := extest.StartMain(t, "-port", port, "-host", "127.0.0.1")
	p.Out.Expect(t, "TESTS: Started HTTP server on port: '"+port+"'")
	p.Out.Expect(t, "TESTS: No of handlers = 9")
	check(t, "GET /hello", extest.Once(t, "127.0.0.1:"+port, "GET", "/hello", ""), 200, "Hello World!")
	p.StopWith(t, os.Interrupt)
	p.Out.Expect(t, "example: Stopping webserver")
	p.Out.Expect(t, "TESTS: Stopping httpd")
	p.Out.Expect(t, "TESTS: HTTPD Stop: Current free memory: ")
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
