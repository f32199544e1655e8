package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// start runs the example on an ephemeral port and stops it when the test
// ends.
func start(t *testing.T) (*httpd.Handle, *extest.Log, string) {
	t.Helper()
	logs := new(extest.Log)
	log := logs.Logger(tag)
	h, err := startWebserver("127.0.0.1", 0, log)
	if err != nil {
		t.Fatalf("startWebserver: %v", err)
	}
	t.Cleanup(func() { h.Stop() })
	logs.Expect(t, "Registering URI handlers")
	return h, logs, h.Addr().String()
}

func expectBody(t *testing.T, what string, r *extest.Response, want string) {
	t.Helper()
	if r.Status != 200 || r.Body != want {
		t.Fatalf("%s: got %d %q, want 200 %q", what, r.Status, r.Body, want)
	}
}

// TestPersistence is the original's pytest script: a PUT creates the
// session context, a second PUT reuses it, a hundred POSTs accumulate on the
// same connection, GET returns the sum, closing the connection frees the
// context, and a new connection starts over.
func TestPersistence(t *testing.T) {
	_, logs, addr := start(t)
	conn := extest.Dial(t, addr)
	visitor, sum := 0, 0

	// Test PUT request and initialize session context
	num := rand.IntN(101)
	expectBody(t, "PUT /adder", conn.Do("PUT", "/adder", strconv.Itoa(num)), strconv.Itoa(num))
	visitor++
	logs.Expect(t, "/adder visitor count = "+strconv.Itoa(visitor))
	logs.Expect(t, "/adder PUT handler read "+strconv.Itoa(num))
	logs.Expect(t, "PUT allocating new session")

	// Retest PUT request and change session context value
	mark := logs.Mark()
	num = rand.IntN(101)
	expectBody(t, "second PUT /adder", conn.Do("PUT", "/adder", strconv.Itoa(num)), strconv.Itoa(num))
	visitor++
	sum += num
	logs.Expect(t, "/adder visitor count = "+strconv.Itoa(visitor))
	logs.Expect(t, "/adder PUT handler read "+strconv.Itoa(num))
	// Re-allocation must not happen.
	logs.NotSince(t, mark, "allocating new session")

	// Test POST request and session persistence
	for range 100 {
		num = rand.IntN(101)
		sum += num
		expectBody(t, "POST /adder", conn.Do("POST", "/adder", strconv.Itoa(num)), strconv.Itoa(sum))
		visitor++
		logs.Expect(t, "/adder visitor count = "+strconv.Itoa(visitor))
		logs.Expect(t, "/adder handler read "+strconv.Itoa(num))
	}
	logs.NotSince(t, mark, "allocating new session")

	// Test GET request and session persistence
	expectBody(t, "GET /adder", conn.Do("GET", "/adder", ""), strconv.Itoa(sum))
	visitor++
	logs.Expect(t, "/adder visitor count = "+strconv.Itoa(visitor))
	logs.Expect(t, "/adder GET handler send "+strconv.Itoa(sum))

	// Close connection and check for invocation of context "Free" function
	conn.Close()
	logs.Expect(t, "/adder Free Context function called")

	// Start another session to check user context data
	conn = extest.Dial(t, addr)
	num = rand.IntN(101)
	expectBody(t, "PUT /adder on a new connection", conn.Do("PUT", "/adder", strconv.Itoa(num)), strconv.Itoa(num))
	visitor++
	logs.Expect(t, "/adder visitor count = "+strconv.Itoa(visitor))
	logs.Expect(t, "/adder PUT handler read "+strconv.Itoa(num))
	logs.Expect(t, "PUT allocating new session")
	conn.Close()
	logs.Expect(t, "/adder Free Context function called")
}

// TestNewConnectionStartsFromZero: the sum lives in the connection, not in
// the server.
func TestNewConnectionStartsFromZero(t *testing.T) {
	_, logs, addr := start(t)
	a, b := extest.Dial(t, addr), extest.Dial(t, addr)

	expectBody(t, "POST 7 on a", a.Do("POST", "/adder", "7"), "7")
	logs.Expect(t, "/adder allocating new session")
	expectBody(t, "POST 5 on b", b.Do("POST", "/adder", "5"), "5")
	logs.Expect(t, "/adder allocating new session")
	expectBody(t, "POST 1 on a", a.Do("POST", "/adder", "1"), "8")
	expectBody(t, "GET on b", b.Do("GET", "/adder", ""), "5")

	// GET on a fresh connection allocates a zero accumulator.
	c := extest.Dial(t, addr)
	expectBody(t, "GET on a new connection", c.Do("GET", "/adder", ""), "0")
	logs.Expect(t, "/adder GET allocating new session")
	logs.Expect(t, "/adder GET handler send 0")
	expectBody(t, "POST on it", c.Do("POST", "/adder", "-3"), "-3")

	// The visitor counter is shared by every connection and method.
	logs.Expect(t, "/adder visitor count = 6")
}

// TestFreeOnClose: the free function runs once per context, whoever closes
// the connection, the server stopping included; a connection that never
// got a context frees nothing.
func TestFreeOnClose(t *testing.T) {
	h, logs, addr := start(t)
	bare := extest.Dial(t, addr)
	if r := bare.Do("DELETE", "/adder", ""); r.Status != 405 {
		t.Fatalf("DELETE /adder: status %d, want 405", r.Status)
	}

	conns := make([]*extest.Conn, 3)
	for i := range conns {
		conns[i] = extest.Dial(t, addr)
		expectBody(t, "PUT", conns[i].Do("PUT", "/adder", strconv.Itoa(i)), strconv.Itoa(i))
	}
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	for range conns {
		logs.Expect(t, "/adder Free Context function called")
	}
	logs.NotSince(t, logs.Mark(), "/adder Free Context function called")
	for _, c := range conns {
		c.ExpectClosed()
	}
}

// TestBodyErrors: a request without a body cannot be read and closes the
// session without a response, as the original's handlers return ESP_FAIL;
// atoi semantics apply to what is read.
func TestBodyErrors(t *testing.T) {
	_, logs, addr := start(t)
	c := extest.Dial(t, addr)
	if err := c.Write(extest.Request("POST", "/adder", addr, "")); err != nil {
		t.Fatal(err)
	}
	c.ExpectClosed()
	logs.Expect(t, "/adder visitor count = 1")

	c = extest.Dial(t, addr)
	expectBody(t, "POST ' 12abc'", c.Do("POST", "/adder", " 12abc"), "12")
	logs.Expect(t, "/adder handler read 12")
	expectBody(t, "POST 'abc'", c.Do("POST", "/adder", "abc"), "12")
	logs.Expect(t, "/adder handler read 0")
	// Only the first 10 bytes are read, as with the original's buffer; the
	// rest of the body is discarded and the connection goes on.
	expectBody(t, "POST 12 digits", c.Do("POST", "/adder", "100000000099"), "1000000012")
	expectBody(t, "GET", c.Do("GET", "/adder", ""), "1000000012")
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{
		"": 0, "0": 0, "42": 42, "-17": -17, "+5": 5, "  \t\n9x": 9, "x9": 0, "12 34": 12, "-": 0,
	} {
		if got := atoi([]byte(in)); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestMainProgram runs main as `go run ./examples/persistent_sockets -port
// N -host H` would, and stops it with SIGTERM.
func TestMainProgram(t *testing.T) {
	port := extest.FreePort(t)
	p := extest.StartMain(t, "-host", "127.0.0.1", "-port", port)
	p.Out.Expect(t, fmt.Sprintf("example: Starting server on port: '%s'", port))
	p.Out.Expect(t, "example: Registering URI handlers")
	c := extest.Dial(t, "127.0.0.1:"+port)
	expectBody(t, "PUT", c.Do("PUT", "/adder", "40"), "40")
	expectBody(t, "POST", c.Do("POST", "/adder", "2"), "42")
	p.StopWith(t, syscall.SIGTERM)
	p.Out.Expect(t, "example: Stopping webserver")
	p.Out.Expect(t, "example: /adder Free Context function called")
}

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }
