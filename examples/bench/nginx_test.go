package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// deploymentDoc holds the nginx configuration TestNginxUpstream runs.
const deploymentDoc = "../../docs/deployment.md"

// nginxBinary finds nginx (Debian installs it in /usr/sbin, often not on a
// user's PATH). Without it the test is skipped, unless CI is set.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed (apt-get install nginx; .ci/run installs it)")
	}
	t.Skip("nginx is not installed (apt-get install nginx): skipping the nginx upstream test")
	return ""
}

// docNginxConfig returns the ```nginx block of docs/deployment.md.
func docNginxConfig(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(deploymentDoc)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("%s has no nginx block", deploymentDoc)
	}
	return string(m[1])
}

// freePort is a loopback port nothing listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// upstream is an esphttpd handle that counts the connections it accepts
// and reports, for GET /hop, the Connection header nginx sent (nginx's
// default towards upstreams is HTTP/1.0 with "Connection: close").
type upstream struct {
	h      *httpd.Handle
	opened atomic.Int32
	served atomic.Int32
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	cfg := ESPConfig("127.0.0.1", 0)
	cfg.OpenFn = func(*httpd.Handle, int) error { u.opened.Add(1); return nil }
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop() })
	u.h = h
	h.RegisterURIHandler(&httpd.URI{URI: "/hop", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		u.served.Add(1)
		conn, _ := r.HdrValueStr("Connection")
		return r.RespSendStr(fmt.Sprintf("connection=%q", conn))
	}})
	h.RegisterURIHandler(espWSEcho())
	return u
}

// TestNginxUpstream runs the nginx configuration of docs/deployment.md in
// front of two esphttpd handles and checks that requests pass through on
// kept-alive HTTP/1.1 upstream connections, spread over both upstreams,
// and that a WebSocket echo passes too.
func TestNginxUpstream(t *testing.T) {
	bin := nginxBinary(t)
	ups := [2]*upstream{startUpstream(t), startUpstream(t)}
	front := freePort(t)
	conf := docNginxConfig(t)
	for i, old := range []string{"127.0.0.1:8080", "127.0.0.1:8081"} {
		if !strings.Contains(conf, old) {
			t.Fatalf("the documented config has no upstream %s", old)
		}
		conf = strings.Replace(conf, old, ups[i].h.Addr().String(), 1)
	}
	if !strings.Contains(conf, "listen 80;") {
		t.Fatal("the documented config has no \"listen 80;\"")
	}
	conf = strings.Replace(conf, "listen 80;", "listen 127.0.0.1:"+strconv.Itoa(front)+";", 1)

	// The documented block belongs in the http context; around it, what a
	// test needs: one process in the foreground, everything in dir.
	dir := t.TempDir()
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, conf)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"))
	out, err := os.Create(filepath.Join(dir, "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out // a file: no copying goroutine to race with
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when nginx has exited
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	addr := "127.0.0.1:" + strconv.Itoa(front)
	waitListening(t, addr, exited, dir)

	// 40 requests on one client connection: nginx alternates between the
	// upstreams and should reuse one connection to each.
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	const requests = 40
	for i := range requests {
		io.WriteString(nc, "GET /hop HTTP/1.1\r\nHost: example.test\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `connection=""` {
			t.Fatalf("request %d: %d %q; want 200 and a request without Connection", i, resp.StatusCode, body)
		}
	}
	for i, u := range ups {
		if u.served.Load() == 0 {
			t.Errorf("upstream %d served nothing", i)
		}
		// One connection each, or a few if nginx opened more at the start:
		// without keep-alive it would be one per request.
		if n := u.opened.Load(); n > 4 {
			t.Errorf("upstream %d accepted %d connections for %d requests: upstream keep-alive is not working", i, n, u.served.Load())
		}
	}

	// A WebSocket echo through the Upgrade mapping.
	r, err := RunWS(context.Background(), WSLoad{URL: "ws://" + addr + "/ws", Conns: 2, Size: 4096, Batch: 1, Ops: 5})
	if err != nil || r.Ops != 10 || r.Errors != 0 {
		t.Fatalf("WebSocket through nginx: %d echoes, %d errors, %v", r.Ops, r.Errors, err)
	}
}

// waitListening waits until nginx accepts connections on addr, failing
// with its output when it exits first.
func waitListening(t *testing.T, addr string, exited <-chan struct{}, dir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			out, _ := os.ReadFile(filepath.Join(dir, "output"))
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited:\n%s\n%s", out, log)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not listen on %s after 10 s", addr)
		}
		time.Sleep(20 * time.Millisecond) // the poll interval: nginx announces nothing when it listens
	}
}
