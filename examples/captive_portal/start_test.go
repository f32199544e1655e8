package main

import (
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
)

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }
