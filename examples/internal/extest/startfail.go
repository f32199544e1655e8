package extest

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// CheckStartFailures runs the example's main (see StartMain; the test
// binary's TestMain must call RunMainIfChild) the two ways a newcomer sees
// it fail, with args added to every run:
//   - -port outside 1..65535: refused with exit status 2 and a message
//     naming the range, instead of wrapping into a uint16 (88577 would
//     become 23041);
//   - -port already taken: a non-zero exit that prints the cause, not only
//     "Error starting server!".
func CheckStartFailures(t *testing.T, args ...string) {
	t.Helper()
	for _, bad := range []string{"0", "65536", "88577", "-1", "http"} {
		p := StartMain(t, append([]string{"-host", "127.0.0.1", "-port", bad}, args...)...)
		if code := p.Wait(t); code != 2 {
			t.Errorf("-port %s: exit status %d, want 2; output:\n%s", bad, code, p.Out)
		}
		if out := p.Out.String(); !strings.Contains(out, "1 to 65535") {
			t.Errorf("-port %s: the output does not name the valid range:\n%s", bad, out)
		}
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	p := StartMain(t, append([]string{"-host", "127.0.0.1", "-port", port}, args...)...)
	if code := p.Wait(t); code == 0 {
		t.Errorf("port %s taken: exit status 0; output:\n%s", port, p.Out)
	}
	if out := p.Out.String(); !strings.Contains(out, "address already in use") {
		t.Errorf("port %s taken: the output does not give the cause:\n%s", port, out)
	}
}
