// Package exmain holds what every example's main does the same way (see
// Program): the flags -host, -port and -v, an ESP-IDF console logger at
// the level -v asks for, serving until the process is told to stop, and
// the exit status.
package exmain

import (
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
)

// Logger returns an ESP-IDF console logger for tag writing to out: Info and
// above, Debug too when verbose (ESP_LOGD).
func Logger(out io.Writer, tag string, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(espconsole.NewHandler(out, tag, &espconsole.Options{Level: level}))
}

// StopRequested starts listening for SIGINT and SIGTERM and returns the
// channel they arrive on. Call it before starting the server, so that a
// signal sent as soon as the server is up is not missed; then wait on it,
// as the device runs until it is reset.
func StopRequested() <-chan os.Signal {
	return notifyStop()
}

// notifyStop is StopRequested, with a channel signal.Stop accepts.
func notifyStop() chan os.Signal {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	return sig
}
