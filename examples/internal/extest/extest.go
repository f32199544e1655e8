// Package extest holds what the examples' tests share: a log sink they can
// wait on the way ESP-IDF's pytest scripts wait on a device's console
// (dut.expect), a raw HTTP/1.1 client connection like the one the scripts
// drive with socket and http.client, a goroutine leak check, and running an
// example's main in a child process.
package extest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout bounds every wait of these helpers: a log line to appear, a
// response to arrive.
const Timeout = 10 * time.Second

// Log collects an example's console output. It is safe for concurrent
// writes; Expect reads it like a device console, in order.
type Log struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cursor int
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Mark returns the current read position, for NotSince.
func (l *Log) Mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursor
}

// Expect waits until s appears after the read position and moves the
// position past it, as pytest-embedded's dut.expect does. It fails t when
// s does not appear within Timeout.
func (l *Log) Expect(t testing.TB, s string) {
	t.Helper()
	l.wait(t, s, func(rest string) (int, int, bool) {
		i := strings.Index(rest, s)
		return i, i + len(s), i >= 0
	})
}

// ExpectRegexp is Expect for a regular expression; it returns the
// submatches.
func (l *Log) ExpectRegexp(t testing.TB, expr string) []string {
	t.Helper()
	re := regexp.MustCompile(expr)
	var m []string
	l.wait(t, expr, func(rest string) (int, int, bool) {
		loc := re.FindStringSubmatchIndex(rest)
		if loc == nil {
			return 0, 0, false
		}
		m = m[:0]
		for i := 0; i < len(loc); i += 2 {
			if loc[i] < 0 {
				m = append(m, "")
			} else {
				m = append(m, rest[loc[i]:loc[i+1]])
			}
		}
		return loc[0], loc[1], true
	})
	return m
}

func (l *Log) wait(t testing.TB, what string, find func(rest string) (start, end int, ok bool)) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		l.mu.Lock()
		rest := l.buf.String()[l.cursor:]
		if _, end, ok := find(rest); ok {
			l.cursor += end
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("log line %q did not appear within %v; log after the last match:\n%s", what, Timeout, rest)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Since returns what was logged after mark.
func (l *Log) Since(mark int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()[mark:]
}

// NotSince fails t if s was logged after mark.
func (l *Log) NotSince(t testing.TB, mark int, s string) {
	t.Helper()
	rest := l.Since(mark)
	if strings.Contains(rest, s) {
		t.Fatalf("unexpected log line %q in:\n%s", s, rest)
	}
}

// Conn is one client connection that writes raw requests and reads the
// responses, like idf_http_server_test's Session and http.client's
// HTTPConnection: several requests can share it (keep-alive), and whether
// the server closed it can be observed.
type Conn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// Dial connects to addr; the connection is closed when the test ends.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &Conn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// Close closes the connection.
func (c *Conn) Close() { c.nc.Close() }

// Raw returns the network connection.
func (c *Conn) Raw() net.Conn { return c.nc }

// Reader returns the buffered reader responses are read from.
func (c *Conn) Reader() *bufio.Reader { return c.br }

// Write sends raw bytes.
func (c *Conn) Write(s string) error {
	c.nc.SetWriteDeadline(time.Now().Add(Timeout))
	_, err := io.WriteString(c.nc, s)
	return err
}

// Request formats a request the way http.client does: Host, the headers
// (in the order given, as "Name: value" pairs), and Content-Length when
// there is a body or the method usually carries one.
func Request(method, path, host string, body string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	if body != "" || method == "POST" || method == "PUT" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// Response is a response read from a Conn.
type Response struct {
	Status int
	Header http.Header
	// Chunked reports a chunked body.
	Chunked bool
	Body    string
}

// Send writes a request built by Request and reads its response.
func (c *Conn) Send(method, path, body string, headers ...string) (*Response, error) {
	if err := c.Write(Request(method, path, c.nc.RemoteAddr().String(), body, headers...)); err != nil {
		return nil, err
	}
	return c.ReadResponse(method)
}

// Do is Send that fails the test on error.
func (c *Conn) Do(method, path, body string, headers ...string) *Response {
	c.t.Helper()
	resp, err := c.Send(method, path, body, headers...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// Once sends one request on a connection of its own and closes it, as the
// test scripts' one-request helpers do.
func Once(t testing.TB, addr, method, path, body string, headers ...string) *Response {
	t.Helper()
	c := Dial(t, addr)
	defer c.Close()
	return c.Do(method, path, body, headers...)
}

// ReadResponse reads one response to a request with the given method.
func (c *Conn) ReadResponse(method string) (*Response, error) {
	c.nc.SetReadDeadline(time.Now().Add(Timeout))
	hr, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, err
	}
	r := &Response{Status: hr.StatusCode, Header: hr.Header, Body: string(body)}
	for _, te := range hr.TransferEncoding {
		if te == "chunked" {
			r.Chunked = true
		}
	}
	return r, nil
}

// ExpectClosed fails the test unless the server closed the connection:
// nothing more can be read from it.
func (c *Conn) ExpectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(Timeout))
	n, err := c.br.Read(make([]byte, 1))
	if err == nil {
		c.t.Fatalf("connection still open: read %d more byte(s)", n)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("connection still open after %v", Timeout)
	}
}

// ExpectOpen fails the test if the server closed the connection within a
// short grace period.
func (c *Conn) ExpectOpen() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := c.br.Peek(1)
	c.nc.SetReadDeadline(time.Time{})
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return
	}
	c.t.Fatalf("connection not open as expected: %v", err)
}

// CheckGoroutines runs the tests and then fails the run if goroutines
// started during it are still alive: every example server must be stopped
// completely. Call it from TestMain.
func CheckGoroutines(m *testing.M) int {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code != 0 {
		return code
	}
	deadline := time.Now().Add(Timeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "goroutines left behind: %d, want at most %d\n%s\n", runtime.NumGoroutine(), base, buf)
			return 1
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

// childEnv marks a test binary started to run the example's main.
const childEnv = "ESPHTTPD_EXAMPLE_RUN_MAIN"

// RunMainIfChild runs main and exits when this test binary was started by
// StartMain. Call it first in TestMain.
func RunMainIfChild(main func()) {
	if os.Getenv(childEnv) != "1" {
		return
	}
	main()
	os.Exit(0)
}

// Process is an example's main running in a child process.
type Process struct {
	Cmd  *exec.Cmd
	Out  *Log
	done chan struct{}
}

// StartMain runs the test binary itself as the example's main program with
// args, as `go run ./examples/NAME args...` would. The process is killed
// when the test ends if it is still running.
func StartMain(t testing.TB, args ...string) *Process {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{Out: new(Log)}
	p.Cmd = exec.Command(exe, args...)
	p.Cmd.Env = append(os.Environ(), childEnv+"=1")
	p.Cmd.Stdout = p.Out
	p.Cmd.Stderr = p.Out
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		p.Cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		<-done
	})
	p.done = done
	return p
}

// Wait waits for the process to exit and returns its exit code.
func (p *Process) Wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
		return p.Cmd.ProcessState.ExitCode()
	case <-time.After(Timeout):
		t.Fatalf("example did not exit within %v; output:\n%s", Timeout, p.Out)
		return -1
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
