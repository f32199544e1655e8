package main

import (
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/examples/internal/wsconform"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// TestMainProgram runs main as `go run ./examples/ws_echo_server -port N`
// would, echoes one fragmented message, and stops it with SIGTERM.
func TestMainProgram(t *testing.T) {
	port := extest.FreePort(t)
	p := extest.StartMain(t, "-host", "127.0.0.1", "-port", port, "-v")
	p.Out.Expect(t, "ws_echo_server: Registering URI handlers")
	// The line comes before the registrations, as in the C example: wait
	// for httpd's debug line.
	p.Out.Expect(t, "registered URI handler uri=/ws")
	c, err := wsconform.Dial("127.0.0.1:"+port, "/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Send(wsconform.Frame{Op: wsconform.OpText, Payload: []byte("Hello ")},
		wsconform.Frame{Fin: true, Op: wsconform.OpContinuation, Payload: []byte("world")})
	if err := c.Expect(wsconform.OpText, []byte("Hello world")); err != nil {
		t.Fatal(err)
	}
	p.Out.Expect(t, "ws_echo_server: Got packet with message: Hello world")
	p.StopWith(t, syscall.SIGTERM)
	p.Out.Expect(t, "ws_echo_server: Stopping webserver")
}
