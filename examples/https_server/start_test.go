package main

import (
	"os"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

// TestMain lets extest.StartMain run this example's main in a child process.
func TestMain(m *testing.M) {
	extest.RunMainIfChild(main)
	os.Exit(m.Run())
}

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }
