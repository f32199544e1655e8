package main

import (
	"bufio"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// startExample starts the example on an ephemeral port and returns its
// address and console log.
func startExample(t *testing.T, o options) (string, *extest.Log) {
	t.Helper()
	out := &extest.Log{}
	log := out.Logger(tag)
	o.host = "127.0.0.1"
	a, err := start(o, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop() })
	return a.h.Addr().String(), out
}

// longBody is what /long streams for request number 1 with n ticks.
func longBody(n int) string {
	var b strings.Builder
	b.WriteString("<div>req: 1</div>\n")
	for i := range n {
		b.WriteString("<div>" + strconv.Itoa(i) + "</div>\n")
	}
	return b.String()
}

var quickBody = regexp.MustCompile(`^random: \d+\n$`)

// TestLongWhileQuick is ESP-IDF's pytest: one /long, then three /quick on
// new connections while /long still streams.
func TestLongWhileQuick(t *testing.T) {
	const ticks = 5
	addr, out := startExample(t, options{workers: 2, ticks: ticks, tick: 300 * time.Millisecond})

	long := extest.Dial(t, addr)
	if err := long.Write(extest.Request("GET", "/long", addr, "")); err != nil {
		t.Fatal(err)
	}
	out.Expect(t, "uri: /long")
	long.Raw().SetReadDeadline(time.Now().Add(extest.Timeout))
	resp, err := http.ReadResponse(long.Reader(), &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("/long: %s, transfer encoding %v; want 200 chunked", resp.Status, resp.TransferEncoding)
	}
	out.Expect(t, "invoking /long")
	body := bufio.NewReader(resp.Body)
	if first, err := body.ReadString('\n'); err != nil || first != "<div>req: 1</div>\n" {
		t.Fatalf("first chunk %q, %v", first, err)
	}
	// The rest is read as it arrives, so that longDone closes when /long
	// completes, not when the test gets round to it.
	longDone := make(chan struct{})
	var rest []byte
	var restErr error
	go func() {
		rest, restErr = io.ReadAll(body)
		close(longDone)
	}()

	for range 3 {
		r := extest.Once(t, addr, "GET", "/quick", "")
		if r.Status != 200 || !quickBody.MatchString(r.Body) {
			t.Fatalf("/quick: %d %q", r.Status, r.Body)
		}
		out.Expect(t, "uri: /quick")
	}
	select {
	case <-longDone:
		t.Fatal("/long completed before the quick requests were answered: they waited for it")
	default:
	}

	<-longDone
	if restErr != nil || "<div>req: 1</div>\n"+string(rest) != longBody(ticks) {
		t.Fatalf("/long body after the first chunk %q, %v; want the rest of %q", rest, restErr, longBody(ticks))
	}
	// The session is usable again once the worker completed the request.
	if r := long.Do("GET", "/", ""); r.Status != 200 || r.Body != indexHTML {
		t.Fatalf("GET / after /long: %d %q", r.Status, r.Body)
	}
	out.Expect(t, "uri: /")
}

// TestBusy is the C example's busy case: with every worker streaming a
// /long, another /long is begun, finds no free worker, completes the copy
// and is answered "503 Busy" on the original request.
func TestBusy(t *testing.T) {
	addr, out := startExample(t, options{workers: 1, ticks: 1000, tick: time.Second})
	long := extest.Dial(t, addr)
	if err := long.Write(extest.Request("GET", "/long", addr, "")); err != nil {
		t.Fatal(err)
	}
	out.Expect(t, "invoking /long")

	busy := extest.Dial(t, addr)
	type result struct {
		r   *extest.Response
		err error
	}
	answered := make(chan result, 1)
	go func() {
		r, err := busy.Send("GET", "/long", "")
		answered <- result{r, err}
	}()
	out.Expect(t, "No workers are available")

	var res result
	select {
	case res = <-answered:
	case <-time.After(extest.Timeout):
		t.Fatalf("no answer to the busy /long:\n%s", out)
	}
	if res.err != nil || res.r.Status != 503 || res.r.Body != busyBody {
		t.Fatalf("busy /long: %+v %v; want 503 %q", res.r, res.err, busyBody)
	}
	// The connection stays usable after the 503, as on ESP-IDF.
	if r := busy.Do("GET", "/quick", ""); r.Status != 200 || !quickBody.MatchString(r.Body) {
		t.Fatalf("/quick after 503: %d %q", r.Status, r.Body)
	}
}

// TestMainFlags runs the program itself: bad flags are refused with the
// reason, good ones serve until SIGTERM.
func TestMainFlags(t *testing.T) {
	extest.CheckRefused(t, "invalid -workers 0: must be 1-64", "-workers", "0")
	extest.CheckRefused(t, "invalid -workers 65", "-workers", "65")
	extest.CheckRefused(t, "invalid -long-ticks -1: must be 0 or more", "-long-ticks", "-1")

	port := extest.FreePort(t)
	p := extest.StartMain(t, "-port", port, "-long-ticks", "0", "-v")
	p.Out.Expect(t, "Starting server on port: '"+port+"'")
	p.Out.Expect(t, "Registering URI handlers")
	// The line comes before the registrations, as in the C example: wait
	// for httpd's debug line of the last one.
	p.Out.Expect(t, "registered URI handler uri=/quick")
	addr := "127.0.0.1:" + port
	if r := extest.Once(t, addr, "GET", "/long", ""); r.Status != 200 || r.Body != longBody(0) {
		t.Fatalf("/long with no ticks: %d %q", r.Status, r.Body)
	}
	if r := extest.Once(t, addr, "GET", "/", ""); r.Body != indexHTML {
		t.Fatalf("GET /: %q", r.Body)
	}
	p.StopWith(t, syscall.SIGTERM)
	p.Out.Expect(t, "Stopping webserver")
}
