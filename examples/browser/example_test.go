package browser

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// repoRoot is the root module, two directories up from this package.
var repoRoot = filepath.Join("..", "..")

// builds holds the example binaries built by this test process, by
// directory, so that each example is built once.
var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// exampleBinary builds examples/dir from the root module, as `go build
// ./examples/dir` does, and returns the binary's path.
func exampleBinary(t *testing.T, dir string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[dir]; ok {
		return bin
	}
	if builds.bins == nil {
		d, err := os.MkdirTemp("", "esphttpd-browser-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins = d, map[string]string{}
	}
	bin := filepath.Join(builds.dir, dir)
	cmd := exec.Command("go", "build", "-o", bin, "./examples/"+dir)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", dir, err, out)
	}
	builds.bins[dir] = bin
	return bin
}

// TestMain removes the built examples once every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}

// syncBuffer collects a process's output, for checks and failure messages.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed by the next Write, for waitFor
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.buf.Write(p)
}

// waitFor reports whether s appears in the output within timeout. The
// output arrives through a pipe, so a line can land after what it caused
// reached the browser.
func (b *syncBuffer) waitFor(s string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		if bytes.Contains(b.buf.Bytes(), []byte(s)) {
			b.mu.Unlock()
			return true
		}
		if b.changed == nil {
			b.changed = make(chan struct{})
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			return false
		}
	}
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startExample runs the example binary of run on free ports of 127.0.0.1
// and returns each server's base URL, in run.servers' order, once each
// answers its first page, and the example's console output. The example is
// stopped with SIGINT, as a user stops it, when the test ends.
func startExample(t *testing.T, run exampleRun) ([]string, *syncBuffer) {
	t.Helper()
	args := []string{"-host", "127.0.0.1"}
	var bases []string
	for _, srv := range run.servers {
		port := freePort(t)
		args = append(args, srv.portFlag, port)
		bases = append(bases, srv.scheme+"://127.0.0.1:"+port)
	}
	cmd := exec.Command(exampleBinary(t, run.dir), append(args, run.args...)...)
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("%s did not stop on SIGINT within 10s", run.dir)
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", run.dir, out)
		}
	})
	for i, srv := range run.servers {
		waitServing(t, bases[i]+srv.pages[0].path, exited, out)
	}
	return bases, out
}

// waitServing waits until url answers anything but 404: the example
// listens before it registers its handlers, as the C examples do.
func waitServing(t *testing.T, url string, exited <-chan struct{}, out *syncBuffer) {
	t.Helper()
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	retry := time.NewTicker(20 * time.Millisecond)
	defer retry.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("the example exited before serving %s; output:\n%s", url, out)
		case <-ctx.Done():
			t.Fatalf("%s not served within 20s (last: %v); output:\n%s", url, err, out)
		case <-retry.C:
		}
	}
}
