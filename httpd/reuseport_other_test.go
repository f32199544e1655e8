//go:build !linux

package httpd_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestReusePortNeedsLinux checks the clear error where SO_REUSEPORT does
// not spread connections.
func TestReusePortNeedsLinux(t *testing.T) {
	cfg := testConfig()
	cfg.ReusePort = true
	h, err := httpd.Start(cfg)
	if err == nil {
		h.Stop()
		t.Fatal("Start accepted ReusePort off Linux")
	}
	if !errors.Is(err, httpd.ErrInvalidArg) || !strings.Contains(err.Error(), "ReusePort needs Linux") {
		t.Fatalf("error %q does not say ReusePort needs Linux", err)
	}
}
