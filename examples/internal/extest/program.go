package extest

import (
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
)

// Main is the TestMain of an example's tests: it runs the example's main
// when StartMain started this test binary as the program, and otherwise
// runs the tests with CheckGoroutines.
func Main(m *testing.M, main func()) {
	RunMainIfChild(main)
	os.Exit(CheckGoroutines(m))
}

// Logger returns an ESP-IDF console logger for tag writing to l at the
// debug level, as the example's -v does, so that tests can wait on the
// lines a device prints.
func (l *Log) Logger(tag string) *slog.Logger {
	return slog.New(espconsole.NewHandler(l, tag, &espconsole.Options{Level: slog.LevelDebug}))
}

// CheckRefused runs the example's main with args (see StartMain) and fails
// t unless it refuses them the way a refused flag is: exit status 2 with
// want, the reason, in its output.
func CheckRefused(t *testing.T, want string, args ...string) {
	t.Helper()
	p := StartMain(t, args...)
	if code := p.Wait(t); code != 2 || !strings.Contains(p.Out.String(), want) {
		t.Errorf("%v: exit status %d, output %q; want status 2 with %q", args, code, p.Out, want)
	}
}

// StopWith sends sig (SIGINT or SIGTERM) to the process and fails t unless
// it exits with status 0, as an example stopped on purpose does.
func (p *Process) StopWith(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(t); code != 0 {
		t.Fatalf("exit status %d after %v; output:\n%s", code, sig, p.Out)
	}
}
