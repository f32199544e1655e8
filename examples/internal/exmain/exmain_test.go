package exmain

import (
	"bytes"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoggerLevel(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var b bytes.Buffer
		log := Logger(&b, "example", verbose)
		log.Debug("debug line")
		log.Info("info line")
		if got := strings.Contains(b.String(), "D ("); got != verbose {
			t.Errorf("verbose=%v: debug printed %v:\n%s", verbose, got, b.String())
		}
		if !strings.Contains(b.String(), "I (") || !strings.Contains(b.String(), "example: info line") {
			t.Errorf("verbose=%v: no info line:\n%s", verbose, b.String())
		}
	}
}

func TestStopRequestedCatchesSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		stop := StopRequested()
		syscall.Kill(os.Getpid(), sig)
		select {
		case got := <-stop:
			if got != sig {
				t.Fatalf("got %v, want %v", got, sig)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%v not delivered", sig)
		}
	}
}
