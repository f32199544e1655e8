package exttool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder stands in for the test that calls Require, so that the skip or
// failure Require asks for can be observed instead of ending this test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = args[0].(string) }
func (r *recorder) Fatal(args ...any) { r.failed = args[0].(string) }

func TestRequire(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present-tool")
	if err := os.WriteFile(present, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tool, ci        string
		wantPath              string
		wantSkip, wantFailure bool
	}{
		{name: "present, no CI", tool: "present-tool", wantPath: present},
		{name: "present, CI", tool: "present-tool", ci: "true", wantPath: present},
		{name: "missing, no CI", tool: "missing-tool", wantSkip: true},
		{name: "missing, CI=false", tool: "missing-tool", ci: "false", wantSkip: true},
		{name: "missing, CI=0", tool: "missing-tool", ci: "0", wantSkip: true},
		{name: "missing, CI", tool: "missing-tool", ci: "true", wantFailure: true},
		{name: "missing, CI=1", tool: "missing-tool", ci: "1", wantFailure: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", dir)
			t.Setenv("CI", tc.ci)
			r := &recorder{TB: t}
			got := Require(r, tc.tool)
			if got != tc.wantPath {
				t.Errorf("path %q, want %q", got, tc.wantPath)
			}
			if (r.skipped != "") != tc.wantSkip || (r.failed != "") != tc.wantFailure {
				t.Fatalf("skipped %q, failed %q; want skip %v, failure %v", r.skipped, r.failed, tc.wantSkip, tc.wantFailure)
			}
			if msg := r.skipped + r.failed; msg != "" && !strings.Contains(msg, tc.tool+" is not installed") {
				t.Errorf("message does not name the tool: %q", msg)
			}
		})
	}
}

func TestHintNamesTheDebianPackage(t *testing.T) {
	for tool, want := range map[string]string{"h2load": "nghttp2-client", "chromium": "apt-get install chromium", "unknown": "install it"} {
		if got := hint(tool); !strings.Contains(got, want) {
			t.Errorf("hint(%q) = %q, want it to contain %q", tool, got, want)
		}
	}
}
