package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// start runs the server on an ephemeral port with the front end from dir
// ("" for the built-in one); httpdtest stops it when the test ends and
// fails the test if goroutines are left behind.
func start(t *testing.T, dir string) (*extest.Log, *httpdtest.Server) {
	t.Helper()
	web, closeWeb, err := frontEnd(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeWeb) // after httpdtest's cleanup has stopped the server
	logs := new(extest.Log)
	log := logs.Logger(tag)
	srv := httpdtest.StartWith(t, func() (*httpd.Handle, error) { return startRestServer("127.0.0.1", 0, web, log) })
	logs.Expect(t, "Starting HTTP Server")
	return logs, srv
}

// TestAPI proves the two GET endpoints answer the original's JSON.
func TestAPI(t *testing.T) {
	_, srv := start(t, "")
	addr := srv.Addr
	r := extest.Once(t, addr, "GET", "/api/v1/system/info", "")
	var info struct {
		Version string
		Cores   int
	}
	if err := json.Unmarshal([]byte(r.Body), &info); err != nil || r.Header.Get("Content-Type") != "application/json" ||
		info.Version != runtime.Version() || info.Cores != runtime.NumCPU() {
		t.Errorf("system info: %v %q %+v", r.Header, r.Body, info)
	}
	for range 20 {
		r := extest.Once(t, addr, "GET", "/api/v1/temp/raw", "")
		var temp struct{ Raw *int }
		if err := json.Unmarshal([]byte(r.Body), &temp); err != nil || temp.Raw == nil || *temp.Raw < 0 || *temp.Raw >= 20 {
			t.Fatalf("temp: %q", r.Body)
		}
	}
}

// TestBrightness proves valid control values are logged and answered,
// and that oversized, malformed and incomplete bodies get a clear error,
// never a crash.
func TestBrightness(t *testing.T) {
	logs, srv := start(t, "")
	addr := srv.Addr
	conn := extest.Dial(t, addr)
	r := conn.Do("POST", "/api/v1/light/brightness", `{"red":10,"green":20,"blue":30}`)
	if r.Status != 200 || r.Body != "Post control value successfully" {
		t.Fatalf("valid: %d %q", r.Status, r.Body)
	}
	logs.Expect(t, "Light control: red = 10, green = 20, blue = 30")
	conn.Write("POST /api/v1/light/brightness HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"9\r\n{\"red\":1,\r\n17\r\n\"green\":2,\"blue\":3}    \r\n0\r\n\r\n")
	if r, err := conn.ReadResponse("POST"); err != nil || r.Status != 200 {
		t.Fatalf("chunked: %v %v", r, err)
	}
	logs.Expect(t, "Light control: red = 1, green = 2, blue = 3")

	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
		closes     bool
	}{
		{"10240 bytes", `{"red":1,"green":2,"blue":3}` + strings.Repeat(" ", 10240-28), 500, "content too long", true},
		{"10239 bytes", `{"red":1,"green":2,"blue":3}` + strings.Repeat(" ", 10239-28), 200, "Post control value successfully", false},
		{"empty", "", 400, "Invalid JSON", false},
		{"not JSON", "red=1", 400, "Invalid JSON", false},
		{"truncated", `{"red":1,"gre`, 400, "Invalid JSON", false},
		{"trailing data", `{"red":1,"green":2,"blue":3} {}`, 400, "Invalid JSON", false},
		{"string value", `{"red":"1","green":2,"blue":3}`, 400, "Invalid JSON", false},
		{"float value", `{"red":1.5,"green":2,"blue":3}`, 400, "Invalid JSON", false},
		{"overflow", `{"red":1e99,"green":2,"blue":3}`, 400, "Invalid JSON", false},
		{"missing blue", `{"red":1,"green":2}`, 400, "red, green and blue must be integers", false},
		{"null", `null`, 400, "red, green and blue must be integers", false},
		{"array", `[1,2,3]`, 400, "Invalid JSON", false},
	} {
		conn := extest.Dial(t, addr)
		r := conn.Do("POST", "/api/v1/light/brightness", tc.body)
		if r.Status != tc.status || !strings.Contains(r.Body, tc.msg) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, r.Status, r.Body, tc.status, tc.msg)
		}
		if tc.closes {
			conn.ExpectClosed()
		} else {
			conn.ExpectOpen()
		}
		conn.Close() // the server keeps MaxOpenSockets (7) sessions
	}
}

// TestFrontEnd proves the built-in front end is served with
// rest_server.c's types, chunked, and that missing files get its 500.
func TestFrontEnd(t *testing.T) {
	logs, srv := start(t, "")
	addr := srv.Addr
	for _, tc := range []struct{ path, ctype, file string }{
		{"/", "text/html", "index.html"},
		{"/?x=1", "text/html", "index.html"},
		{"/app.js", "application/javascript", "app.js"},
		{"/style.css", "text/css", "style.css"},
	} {
		r := extest.Once(t, addr, "GET", tc.path, "")
		want, _ := fs.ReadFile(builtIn, "www/"+tc.file)
		if r.Status != 200 || r.Header.Get("Content-Type") != tc.ctype || !r.Chunked || r.Body != string(want) {
			t.Errorf("%s: %d %v chunked %v", tc.path, r.Status, r.Header, r.Chunked)
		}
		logs.Expect(t, "File sending complete")
	}
	conn := extest.Dial(t, addr)
	r := conn.Do("GET", "/missing.png", "")
	if r.Status != 500 || r.Body != "Failed to read existing file" {
		t.Errorf("missing: %d %q", r.Status, r.Body)
	}
	conn.ExpectClosed()
	logs.Expect(t, "Failed to open file : /missing.png")
}

// TestFrontEndFromDir proves -dir files are read at request time and that
// no path, however encoded, and no symbolic link reaches outside the
// folder.
func TestFrontEndFromDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "www")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("TOP SECRET"), 0o644)
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("v1"), 0o644)
	_, srv := start(t, dir)
	addr := srv.Addr
	if r := extest.Once(t, addr, "GET", "/", ""); r.Body != "v1" {
		t.Fatalf("first: %q", r.Body)
	}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("v2"), 0o644)
	if r := extest.Once(t, addr, "GET", "/", ""); r.Body != "v2" {
		t.Errorf("after the edit: %q", r.Body)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "link.txt")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	for _, p := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%5csecret.txt",
		"/..\\secret.txt", "//secret.txt", "/%2fsecret.txt", "/link.txt", "/./index.html", "/%00"} {
		r := extest.Once(t, addr, "GET", p, "")
		if r.Status < 400 || strings.Contains(r.Body, "TOP SECRET") {
			t.Errorf("%s: %d %q", p, r.Status, r.Body)
		}
	}
}

// TestWithNetHTTPClient drives the API the way the front end does, with
// net/http's clients over HTTP/1.1 and h2c.
func TestWithNetHTTPClient(t *testing.T) {
	logs, srv := start(t, "")
	for i, c := range []*http.Client{srv.Client(), srv.H2Client()} {
		resp, err := c.Post(srv.URL+"/api/v1/light/brightness", "application/json",
			strings.NewReader(fmt.Sprintf(`{"red": 255, "green": %d, "blue": 127}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "Post control value successfully" {
			t.Errorf("over %s: %d %q", resp.Proto, resp.StatusCode, body)
		}
		logs.Expect(t, fmt.Sprintf("Light control: red = 255, green = %d, blue = 127", i))
		resp, err = c.Get(srv.URL + "/api/v1/system/info")
		if err != nil {
			t.Fatal(err)
		}
		var info struct{ Version string }
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err != nil || info.Version != runtime.Version() {
			t.Errorf("system info over %s: %v %+v", resp.Proto, err, info)
		}
	}
}

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// TestMainFlags runs the program: a missing -dir folder stops it with the
// cause, and a started server answers and stops on SIGTERM.
func TestMainFlags(t *testing.T) {
	p := extest.StartMain(t, "-port", extest.FreePort(t), "-dir", filepath.Join(t.TempDir(), "absent"))
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Out.String(), "front end folder") {
		t.Errorf("absent -dir: exit %d, output %q", code, p.Out)
	}
	port := extest.FreePort(t)
	p = extest.StartMain(t, "-port", port, "-host", "127.0.0.1", "-v")
	p.Out.Expect(t, "Started server") // the httpd line: listening
	// Handlers are registered after that line: wait for httpd's debug line.
	p.Out.Expect(t, "registered URI handler uri=/api/v1/temp/raw")
	if r := extest.Once(t, "127.0.0.1:"+port, "GET", "/api/v1/temp/raw", ""); r.Status != 200 {
		t.Errorf("temp: %d", r.Status)
	}
	p.StopWith(t, syscall.SIGTERM)
}
