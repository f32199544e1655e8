package browser

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
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

// startExample runs the example binary of run on free ports of 127.0.0.1
// and returns each server's base URL, in run.servers' order, once each
// answers its first page, and the example's console output. The example is
// stopped with SIGINT, as a user stops it, when the test ends.
func startExample(t *testing.T, run exampleRun) ([]string, *extest.Log) {
	t.Helper()
	args := []string{"-host", "127.0.0.1"}
	var bases []string
	for _, srv := range run.servers {
		port := extest.FreePort(t)
		args = append(args, srv.portFlag, port)
		bases = append(bases, srv.scheme+"://127.0.0.1:"+port)
	}
	cmd := exec.Command(exampleBinary(t, run.dir), append(args, run.args...)...)
	out := new(extest.Log)
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
func waitServing(t *testing.T, url string, exited <-chan struct{}, out *extest.Log) {
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
