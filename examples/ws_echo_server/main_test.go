package main

import (
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	xws "golang.org/x/net/websocket"
)

// startAndDial starts the example on an ephemeral port, stopped when the
// test ends, and connects a WebSocket client to /ws, closed when the test
// ends; it returns the client and the console log.
func startAndDial(t *testing.T) (*xws.Conn, *extest.Log) {
	t.Helper()
	out := new(extest.Log)
	h, err := startWebserver("127.0.0.1", 0, out.Logger(tag))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	ws, err := xws.Dial("ws://"+h.Addr().String()+"/ws", "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	ws.SetDeadline(time.Now().Add(5 * time.Second))
	return ws, out
}

// TestEchoAndTriggerAsync is ESP-IDF's pytest: an echo, then "Trigger
// async" answered by a frame from queued work, with the console lines.
func TestEchoAndTriggerAsync(t *testing.T) {
	ws, out := startAndDial(t)
	xws.Message.Send(ws, "Hello world")
	var got string
	if err := xws.Message.Receive(ws, &got); err != nil || got != "Hello world" {
		t.Fatalf("echo %q %v", got, err)
	}
	xws.Message.Send(ws, "Trigger async")
	if err := xws.Message.Receive(ws, &got); err != nil || got != "Async data" {
		t.Fatalf("async frame %q %v", got, err)
	}
	// The device's console lines the ESP-IDF pytest looks for.
	for _, line := range []string{"Handshake done, the new connection was opened", "frame len is 11",
		"Got packet with message: Hello world", "Packet type: 1"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("log lacks %q:\n%s", line, out.String())
		}
	}
}
