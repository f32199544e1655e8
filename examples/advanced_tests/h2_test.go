package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// h2cClient is net/http's client speaking HTTP/2 with prior knowledge
// (no HTTP/1.1 at all), so every request below is a stream of one
// connection.
func h2cClient(t *testing.T) *http.Client {
	t.Helper()
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// h2Do sends one request and returns its status and body, failing the
// test unless it came back over HTTP/2.
func h2Do(t *testing.T, c *http.Client, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.ProtoMajor != 2 {
		t.Fatalf("%s %s: %s, %v", method, url, resp.Proto, err)
	}
	return resp.StatusCode, string(b)
}

// TestAsyncResponseOverHTTP2 runs async_response_test's URI over h2c,
// which the server speaks by default (issue 14 item 11). The handler's
// answer goes out on its stream. The second response, which the queued
// work writes with SocketSend outside any handler, has no stream to go on:
// SocketSend refuses it (ErrInvalidState) instead of writing HTTP/1.1
// bytes into the HTTP/2 connection, so the connection keeps serving, and
// its session, whose context /adder keeps, is the same one.
func TestAsyncResponseOverHTTP2(t *testing.T) {
	_, logs, addr := start(t, options{})
	c := h2cClient(t)
	base := "http://" + addr
	if st, body := h2Do(t, c, "POST", base+"/adder", "5"); st != 200 || body != "5" {
		t.Fatalf("POST /adder 5: %d %q", st, body)
	}
	if st, body := h2Do(t, c, "GET", base+"/async_data", ""); st != 200 || body != "Hello World!" {
		t.Fatalf("GET /async_data: %d %q", st, body)
	}
	fd := logs.ExpectRegexp(t, `Queuing work fd : (\d+)`)[1]
	logs.Expect(t, "Executing queued work fd : "+fd)
	if st, body := h2Do(t, c, "GET", base+"/hello", ""); st != 200 || body != "Hello World!" {
		t.Fatalf("GET /hello after the queued work: %d %q", st, body)
	}
	if st, body := h2Do(t, c, "POST", base+"/adder", "3"); st != 200 || body != "8" {
		t.Fatalf("POST /adder 3 on the same connection: %d %q, want \"8\"", st, body)
	}
}
