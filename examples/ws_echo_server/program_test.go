package main

import (
	"os"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/examples/internal/wsconform"
)

func TestMain(m *testing.M) {
	extest.RunMainIfChild(main)
	os.Exit(extest.CheckGoroutines(m))
}

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
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(t); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, p.Out)
	}
	p.Out.Expect(t, "ws_echo_server: Stopping webserver")
}
