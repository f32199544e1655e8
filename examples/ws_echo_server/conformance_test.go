package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/wsconform"
	"github.com/esphttpd/esphttpd/httpd"
)

// TestConformance runs the restated Autobahn cases 1-7 and 9 against the
// example, each on a connection of its own. examples/wsinterop runs the
// same cases against gorilla/websocket, so a case that expects the wrong
// thing fails there.
func TestConformance(t *testing.T) {
	// Warn level: the example's per-message Info lines are not formatted.
	log := slog.New(espconsole.NewHandler(io.Discard, "ws_echo_server", &espconsole.Options{Level: slog.LevelWarn}))
	h, err := startWebserver("127.0.0.1", 0, log)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	if got := httpd.DefaultConfig().WSMaxMessageLen; got != wsconform.MaxMessage {
		t.Fatalf("WSMaxMessageLen %d, the cases assume %d", got, wsconform.MaxMessage)
	}
	addr := h.Addr().String()
	for _, tc := range wsconform.Cases() {
		t.Run(tc.ID, func(t *testing.T) {
			c, err := wsconform.Dial(addr, "/ws")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := tc.Run(c); err != nil {
				t.Fatalf("%s: %v", tc.Desc, err)
			}
		})
	}
}
