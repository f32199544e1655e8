package exmain

import (
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

// TestMain lets extest.StartMain run demoMain, an example built on
// Program, in a child process. It checks no goroutines: catching signals
// in this process (TestStopRequestedCatchesSignals) starts os/signal's
// loop, which lives as long as the process.
func TestMain(m *testing.M) {
	extest.RunMainIfChild(demoMain)
	os.Exit(m.Run())
}

// demoMain is the smallest example: it listens on -host:-port, logs as a C
// example does, and refuses -refuse after parsing as examples refuse a
// flag value they cannot use.
func demoMain() {
	p := New("demo", "demo")
	refuse := flag.Bool("refuse", false, "refuse the command line after parsing")
	p.Parse()
	if *refuse {
		p.RefuseFlags(errors.New("invalid -refuse: refused on purpose"))
	}
	p.Exit(p.Serve("Stopping demo", func() (Server, error) {
		p.Log.Debug("debug line")
		ln, err := net.Listen("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
		if err != nil {
			return nil, err
		}
		p.Log.Info("Listening on port: '" + strconv.Itoa(int(p.Port)) + "'")
		return StopFunc(ln.Close), nil
	}))
}

// TestProgramStartFailures: a bad -port exits 2 naming the range, a taken
// one exits 1 with the cause on standard error.
func TestProgramStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// TestProgramRefuseFlags: RefuseFlags exits 2 with the program's name and
// the reason.
func TestProgramRefuseFlags(t *testing.T) {
	extest.CheckRefused(t, "demo: invalid -refuse: refused on purpose", "-refuse")
}

// TestProgramServesUntilSignal: the program serves until SIGINT or SIGTERM,
// logs its stopping line, stops the server and exits 0; -v adds debug
// lines.
func TestProgramServesUntilSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			port := extest.FreePort(t)
			p := extest.StartMain(t, "-port", port, "-v")
			p.Out.Expect(t, "demo: debug line")
			p.Out.Expect(t, "demo: Listening on port: '"+port+"'")
			extest.Dial(t, "127.0.0.1:"+port).Close()
			p.StopWith(t, sig)
			p.Out.Expect(t, "demo: Stopping demo")
			// The listener is closed: the port can be taken again.
			ln, err := net.Listen("tcp", "127.0.0.1:"+port)
			if err != nil {
				t.Fatalf("port still taken after stop: %v", err)
			}
			ln.Close()
		})
	}
}

func TestProgramDefaults(t *testing.T) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	p := newProgram(fs, "demo", "demo")
	if err := p.parse(nil); err != nil {
		t.Fatal(err)
	}
	if p.Host != "127.0.0.1" || p.Port != 8080 || p.Verbose || p.Log == nil || p.Out != os.Stdout {
		t.Fatalf("defaults: %+v", p)
	}
	if err := p.parse([]string{"-port", "65536"}); err == nil {
		t.Fatal("-port 65536 accepted")
	}
}

func TestProgramExitCode(t *testing.T) {
	p := &Program{Name: "demo"}
	if got := p.exitCode(nil); got != 0 {
		t.Errorf("exitCode(nil) = %d, want 0", got)
	}
	if got := p.exitCode(errors.New("listen: address already in use")); got != 1 {
		t.Errorf("exitCode(err) = %d, want 1", got)
	}
}

// TestServeStartFailure: a failed start is returned, nothing is stopped and
// no stopping line is logged.
func TestServeStartFailure(t *testing.T) {
	var out extest.Log
	p := &Program{Name: "demo", Log: Logger(&out, "demo", false)}
	want := errors.New("no sockets left")
	if err := p.Serve("Stopping demo", func() (Server, error) { return nil, want }); err != want {
		t.Fatalf("Serve = %v, want %v", err, want)
	}
	out.NotSince(t, 0, "Stopping demo")
}
