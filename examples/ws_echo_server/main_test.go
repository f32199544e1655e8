package main

import (
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	xws "golang.org/x/net/websocket"
)

// TestEchoAndTriggerAsync is ESP-IDF's pytest: an echo, then "Trigger
// async" answered by a frame from queued work, with the console lines.
func TestEchoAndTriggerAsync(t *testing.T) {
	var out extest.Log
	log := out.Logger(tag)
	h, err := startWebserver("127.0.0.1", 0, log)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	ws, err := xws.Dial("ws://"+h.Addr().String()+"/ws", "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(5 * time.Second))
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
