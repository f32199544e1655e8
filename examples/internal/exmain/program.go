package exmain

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
)

// Program is what an example's main shares with every other: the flags
// -host, -port and -v, the console logger -v asks for, serving until
// SIGINT or SIGTERM, and the exit status. With it a main reads like the C
// example's app_main: what it configures, starts and registers.
type Program struct {
	// Name is how the program names itself on standard error.
	Name string

	// Host is -host, the address to listen on (default 127.0.0.1).
	Host string
	// Port is -port, a TCP port from 1 to 65535 (default 8080).
	Port uint16
	// Verbose is -v: also print debug lines (ESP_LOGD).
	Verbose bool

	// Out is the console: standard output, as the device's UART.
	Out io.Writer
	// Log prints on Out under the C example's tag, at the level -v asks
	// for. Parse sets it.
	Log *slog.Logger

	tag   string
	flags *flag.FlagSet
}

// New defines -host, -port and -v on the command line (flag.CommandLine)
// for the example called name, whose log lines carry tag.
func New(name, tag string) *Program {
	return newProgram(flag.CommandLine, name, tag)
}

// newProgram is New on fs.
func newProgram(fs *flag.FlagSet, name, tag string) *Program {
	p := &Program{Name: name, Out: os.Stdout, tag: tag, flags: fs}
	fs.StringVar(&p.Host, "host", "127.0.0.1", "address to listen on")
	PortVar(fs, &p.Port, "port", 8080, "TCP port to listen on (1-65535)")
	fs.BoolVar(&p.Verbose, "v", false, "also print debug lines (ESP_LOGD)")
	return p
}

// Parse parses the command line and builds Log. A refused flag, -port
// outside 1..65535 among them, exits with status 2 and the usage, as the
// flag package does.
func (p *Program) Parse() {
	p.parse(os.Args[1:])
}

func (p *Program) parse(args []string) error {
	err := p.flags.Parse(args)
	p.Log = Logger(p.Out, p.tag, p.Verbose)
	return err
}

// RefuseFlags exits with status 2, as a refused flag does, when err is not
// nil: err names a flag value the flag package accepted but the example
// cannot use (checked after Parse, such as a worker count below one).
func (p *Program) RefuseFlags(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
		os.Exit(2)
	}
}

// Server is what an example runs: an httpd.Handle, or a few servers and
// workers stopped together.
type Server interface {
	// Stop stops everything the example started and waits for it.
	Stop() error
}

// StopFunc is a Server that stops by calling the function.
type StopFunc func() error

// Stop calls f.
func (f StopFunc) Stop() error { return f() }

// Serve calls start, which brings the example up as app_main does, and
// returns its error when it fails. Otherwise it serves until SIGINT or
// SIGTERM (the device runs until it is reset), logs stopping unless it is
// empty, and stops the server. Signals are caught before start runs, so a
// signal sent as soon as the server is up is not missed.
func (p *Program) Serve(stopping string, start func() (Server, error)) error {
	sig := notifyStop()
	defer signal.Stop(sig)
	s, err := start()
	if err != nil {
		return err
	}
	<-sig
	if stopping != "" {
		p.Log.Info(stopping)
	}
	return s.Stop()
}

// Exit ends the process: status 0 when err is nil; otherwise err, the
// reason the example could not start or stop, goes to standard error and
// the status is 1. A newcomer whose port is taken reads why.
func (p *Program) Exit(err error) {
	os.Exit(p.exitCode(err))
}

func (p *Program) exitCode(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name, err)
	return 1
}
