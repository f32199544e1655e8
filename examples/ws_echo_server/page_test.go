package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	xws "golang.org/x/net/websocket"
)

// GET / serves the browser client: an HTML page whose script opens /ws.
// examples/browser checks that a real browser shows the echo.
func TestIndexPage(t *testing.T) {
	h, err := startWebserver("127.0.0.1", 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	resp := extest.Once(t, h.Addr().String(), "GET", "/", "")
	if resp.Status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"<!DOCTYPE html>", `new WebSocket(scheme + location.host + "/ws")`, `id="echo"`} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestLoggedPayload(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	tests := []struct{ name, payload, want string }{
		{"empty", "", ""},
		{"short", "Hello world", "Hello world"},
		{"at the cap", long[:maxLoggedPayload], long[:maxLoggedPayload]},
		{"over the cap", long, long[:maxLoggedPayload] + "... (200000 bytes)"},
	}
	for _, tc := range tests {
		if got := loggedPayload([]byte(tc.payload)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A 200 KB message is echoed whole, but the console shows its first 128
// bytes and its length, not a 200 KB line.
func TestLongMessageLogCapped(t *testing.T) {
	ws, out := startAndDial(t)
	msg := strings.Repeat("0123456789", 20_000)
	if err := xws.Message.Send(ws, msg); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := xws.Message.Receive(ws, &got); err != nil || got != msg {
		t.Fatalf("echo of %d bytes: got %d bytes, %v", len(msg), len(got), err)
	}
	out.Expect(t, "Got packet with message: "+msg[:maxLoggedPayload]+"... (200000 bytes)")
	for _, line := range strings.Split(out.String(), "\n") {
		if len(line) > 512 {
			t.Errorf("a log line of %d bytes: %.80s...", len(line), line)
		}
	}
}
