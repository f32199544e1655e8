// Package exttool finds the external programs that some tests drive as
// independent clients (curl, openssl, sslscan, nghttp, h2load, h2spec,
// chromium).
//
// A developer's machine that has only Go must pass the test command, so a
// missing tool skips the test that needs it, naming the tool and how to
// install it. Under CI (the environment variable CI set, as .ci/run runs)
// the tools are installed on purpose, so a missing one fails the test
// instead of letting it pass silently.
//
// The package imports only the standard library, so that any test in the
// module, internal packages included, can use it.
package exttool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// installHints tells how to get each tool the tests use on Debian, the
// system .ci/run installs them on.
var installHints = map[string]string{
	"curl":     "apt-get install curl",
	"openssl":  "apt-get install openssl",
	"sslscan":  "apt-get install sslscan",
	"nghttp":   "apt-get install nghttp2-client",
	"h2load":   "apt-get install nghttp2-client",
	"h2spec":   "go install github.com/summerwind/h2spec/cmd/h2spec@latest",
	"chromium": "apt-get install chromium",
}

// InCI reports whether the tests run under CI: the environment variable
// CI is set to anything but "", "0" or "false" (CI systems set CI=true).
func InCI() bool {
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "0", "false":
		return false
	}
	return true
}

// Require returns the path of the program name, looked up in PATH. When it
// is missing, the test is skipped with a message naming the tool, or, when
// InCI, failed. Call it before starting anything the test would have to
// clean up.
func Require(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (" + hint(name) + "; .ci/run installs it): " + err.Error()
	if InCI() {
		t.Fatal("CI is set, so external tools are required: " + msg)
	} else {
		t.Skip("skipping: " + msg)
	}
	return ""
}

// hint returns how to install name.
func hint(name string) string {
	if h, ok := installHints[name]; ok {
		return h
	}
	return "install it"
}
