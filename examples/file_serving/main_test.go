package main

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

func TestMain(m *testing.M) { extest.Main(m, main) }

// start runs the file server on an ephemeral port over a new storage
// folder, inside a parent folder that holds a file the server must never
// reveal, change or delete. httpdtest stops it when the test ends and
// fails the test if goroutines are left behind.
func start(t *testing.T) (dir string, logs *extest.Log, srv *httpdtest.Server) {
	t.Helper()
	parent := t.TempDir()
	dir = filepath.Join(parent, "storage")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("TOP SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Checked after httpdtest's cleanup has stopped the server.
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(parent, "secret.txt")); err != nil || string(b) != "TOP SECRET" {
			t.Errorf("the file outside the storage folder changed: %q %v", b, err)
		}
		outside, _ := os.ReadDir(parent)
		if len(outside) != 2 {
			t.Errorf("files appeared next to the storage folder: %v", outside)
		}
	})
	logs = new(extest.Log)
	log := logs.Logger(tag)
	srv = httpdtest.StartWith(t, func() (*httpd.Handle, error) { return startFileServer("127.0.0.1", 0, dir, log) })
	logs.Expect(t, "Starting HTTP Server on port: '0'")
	return dir, logs, srv
}

// TestPytestScenario is the original's pytest script: upload, download
// with the same MD5, upload again (400, connection closed), delete, delete
// again (400), download of the deleted file (404), with its log lines.
func TestPytestScenario(t *testing.T) {
	dir, logs, srv := start(t)
	addr := srv.Addr
	const data = "Test data to be sent to the server"
	conn := extest.Dial(t, addr)
	r := conn.Do("POST", "/upload/example.txt", data)
	if r.Status != 303 || r.Header.Get("Location") != "/" || r.Body != "File uploaded successfully" {
		t.Fatalf("upload: %d %v %q", r.Status, r.Header, r.Body)
	}
	logs.Expect(t, "Receiving file : /example.txt...")
	logs.Expect(t, fmt.Sprintf("Remaining size : %d", len(data)))
	logs.Expect(t, "File reception complete")

	r = conn.Do("GET", "/example.txt", "")
	logs.Expect(t, fmt.Sprintf("Sending file : /example.txt (%d bytes)...", len(data)))
	logs.Expect(t, "File sending complete")
	if r.Status != 200 || md5.Sum([]byte(r.Body)) != md5.Sum([]byte(data)) || r.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("download: %d %v %q", r.Status, r.Header, r.Body)
	}

	// The same download by net/http's clients, over HTTP/1.1 and h2c.
	for _, c := range []*http.Client{srv.Client(), srv.H2Client()} {
		resp, err := c.Get(srv.URL + "/example.txt")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || md5.Sum(body) != md5.Sum([]byte(data)) || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("download over %s: %d %v %q", resp.Proto, resp.StatusCode, resp.Header, body)
		}
		logs.Expect(t, "File sending complete")
	}

	r = conn.Do("POST", "/upload/example.txt", "")
	logs.Expect(t, "File already exists : "+dir+"/example.txt")
	if r.Status != 400 || r.Body != "File already exists" {
		t.Fatalf("second upload: %d %q", r.Status, r.Body)
	}
	conn.ExpectClosed()

	conn = extest.Dial(t, addr)
	r = conn.Do("POST", "/delete/example.txt", "")
	logs.Expect(t, "Deleting file : /example.txt")
	if r.Status != 303 || r.Body != "File deleted successfully" {
		t.Fatalf("delete: %d %q", r.Status, r.Body)
	}
	r = conn.Do("POST", "/delete/example.txt", "")
	logs.Expect(t, "File does not exist : /example.txt")
	if r.Status != 400 || r.Body != "File does not exist" {
		t.Fatalf("second delete: %d %q", r.Status, r.Body)
	}
	conn.ExpectClosed()

	r = extest.Once(t, addr, "GET", "/example.txt", "")
	logs.Expect(t, "Failed to stat file : "+dir+"/example.txt")
	if r.Status != 404 || r.Body != "File does not exist" {
		t.Fatalf("download of the deleted file: %d %q", r.Status, r.Body)
	}
}

// TestListingAndBuiltins proves the listing (form, script, entries with
// escaped names, sub-folders), the built-in /index.html redirect and
// favicon, and that uploaded files of those names replace the built-ins.
func TestListingAndBuiltins(t *testing.T) {
	dir, logs, srv := start(t)
	addr := srv.Addr
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "in.txt"), []byte("inside"), 0o644)
	os.WriteFile(filepath.Join(dir, `a<b>&"c".txt`), []byte("12345"), 0o644)

	r := extest.Once(t, addr, "GET", "/", "")
	if r.Status != 200 || !strings.HasPrefix(r.Body, "<!DOCTYPE html><html><body>") ||
		!bytes.Contains([]byte(r.Body), uploadScript) || !strings.HasSuffix(r.Body, "</tbody></table></body></html>") {
		t.Fatalf("listing: %d %.300q", r.Status, r.Body)
	}
	for _, want := range []string{
		`<a href="/a%3Cb%3E&amp;%22c%22.txt">a&lt;b&gt;&amp;&#34;c&#34;.txt</a></td><td>file</td><td>5</td>`,
		`action="/delete/a%3Cb%3E&amp;%22c%22.txt"`,
		`<a href="/sub/">sub</a></td><td>directory</td>`,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("listing lacks %s", want)
		}
	}
	logs.Expect(t, `Found file : a<b>&"c".txt (5 bytes)`)

	r = extest.Once(t, addr, "GET", "/sub/", "")
	if r.Status != 200 || !strings.Contains(r.Body, `<a href="/sub/in.txt">in.txt</a>`) {
		t.Errorf("sub listing: %d", r.Status)
	}
	r = extest.Once(t, addr, "GET", "/nodir/", "")
	logs.Expect(t, "Failed to stat dir : "+dir+"/nodir/")
	if r.Status != 404 || r.Body != "Directory does not exist" {
		t.Errorf("missing folder: %d %q", r.Status, r.Body)
	}

	r = extest.Once(t, addr, "GET", "/index.html", "")
	if r.Status != 307 || r.Header.Get("Location") != "/" {
		t.Errorf("/index.html: %d %v", r.Status, r.Header)
	}
	r = extest.Once(t, addr, "GET", "/favicon.ico", "")
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/x-icon" || r.Body != string(favicon) {
		t.Errorf("/favicon.ico: %d %v", r.Status, r.Header)
	}
	extest.Once(t, addr, "POST", "/upload/index.html", "<p>mine</p>")
	r = extest.Once(t, addr, "GET", "/index.html", "")
	if r.Status != 200 || r.Body != "<p>mine</p>" || r.Header.Get("Content-Type") != "text/html" {
		t.Errorf("uploaded /index.html: %d %v %q", r.Status, r.Header, r.Body)
	}
}

// TestLimits proves the original's size and name limits and their
// answers, and that each closes the connection.
func TestLimits(t *testing.T) {
	dir, logs, srv := start(t)
	addr := srv.Addr
	// 41 bytes of path fit FILE_PATH_MAX with "/data" in front; 42 do not.
	fits := "/" + strings.Repeat("n", 40)
	tooLong := fits + "n"
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		msg, log                 string
	}{
		{"too large", "POST", "/upload/big.bin", "", []string{fmt.Sprintf("Content-Length: %d", maxFileSize+1)}, 400,
			"File size must be less than 200KB!", fmt.Sprintf("File too large : %d bytes", maxFileSize+1)},
		{"name too long", "POST", "/upload" + tooLong, "x", nil, 500, "Filename too long", ""},
		{"name too long to delete", "POST", "/delete" + tooLong, "", nil, 500, "Filename too long", ""},
		{"path too long to get", "GET", tooLong, "", nil, 500, "Filename too long", "Filename is too long"},
		{"trailing slash", "POST", "/upload/dir/", "x", nil, 500, "Invalid filename", "Invalid filename : /dir/"},
		{"delete trailing slash", "POST", "/delete/dir/", "", nil, 500, "Invalid filename", "Invalid filename : /dir/"},
		{"missing folder", "POST", "/upload/nodir/x.txt", "x", nil, 500, "Failed to create file", "Failed to create file : " + dir + "/nodir/x.txt"},
	} {
		conn := extest.Dial(t, addr)
		var raw string
		if tc.headers != nil {
			// Only the head: the answer must not wait for the body.
			raw = fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n", tc.method, tc.path, strings.Join(tc.headers, "\r\n"))
		} else {
			raw = extest.Request(tc.method, tc.path, "x", tc.body)
		}
		if err := conn.Write(raw); err != nil {
			t.Fatal(err)
		}
		r, err := conn.ReadResponse(tc.method)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Status != tc.status || r.Body != tc.msg {
			t.Errorf("%s: %d %q, want %d %q", tc.name, r.Status, r.Body, tc.status, tc.msg)
		}
		conn.ExpectClosed()
		if tc.log != "" {
			logs.Expect(t, tc.log)
		}
	}
	r := extest.Once(t, addr, "POST", "/upload"+fits, "x")
	if r.Status != 303 {
		t.Errorf("longest name: %d %q", r.Status, r.Body)
	}
	exact := strings.Repeat("e", maxFileSize)
	if r := extest.Once(t, addr, "POST", "/upload/exact.bin", exact); r.Status != 303 {
		t.Errorf("%d-byte upload: %d %q", maxFileSize, r.Status, r.Body)
	}
	if r := extest.Once(t, addr, "GET", "/exact.bin", ""); r.Body != exact {
		t.Errorf("%d-byte download: %d bytes", maxFileSize, len(r.Body))
	}
}

// TestChunkedUpload proves a chunked body is stored whole, and one over the
// limit is refused and removed.
func TestChunkedUpload(t *testing.T) {
	dir, _, srv := start(t)
	addr := srv.Addr
	conn := extest.Dial(t, addr)
	conn.Write("POST /upload/c.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
	if r, err := conn.ReadResponse("POST"); err != nil || r.Status != 303 {
		t.Fatalf("chunked upload: %v %v", r, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c.txt")); string(b) != "hello world" {
		t.Errorf("stored %q", b)
	}
	big := strings.Repeat("z", maxFileSize+1)
	conn = extest.Dial(t, addr)
	conn.Write(fmt.Sprintf("POST /upload/big.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(big), big))
	if r, err := conn.ReadResponse("POST"); err != nil || r.Status != 400 {
		t.Fatalf("chunked upload over the limit: %v %v", r, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "big.txt")); !os.IsNotExist(err) {
		t.Errorf("the refused upload was kept: %v", err)
	}
}

// TestNoEscapeFromStorage sends hostile paths to every handler over raw
// TCP: none may read, create or delete anything outside the storage folder
// (start's cleanup checks the folder's neighbours), whatever the encoding,
// and symbolic links leading out are not followed.
func TestNoEscapeFromStorage(t *testing.T) {
	dir, _, srv := start(t)
	addr := srv.Addr
	if err := os.Symlink("../secret.txt", filepath.Join(dir, "link")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	os.Symlink("..", filepath.Join(dir, "up"))
	paths := []string{
		"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/.%2e/secret.txt",
		"/..%2fsecret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt", "//secret.txt",
		"/%2f..%2fsecret.txt", "/./secret.txt", "/x/../../secret.txt", "/secret.txt%00",
		"/%c0%ae%c0%ae/secret.txt", "/%zz", "/link", "/up/secret.txt", "/up/",
	}
	for _, p := range paths {
		for _, tc := range []struct{ method, prefix, body string }{
			{"GET", "", ""}, {"POST", "/upload", "OVERWRITTEN"}, {"POST", "/delete", ""},
		} {
			if p == "/link" && tc.prefix == "/delete" {
				continue // removes the link itself, checked below
			}
			r := extest.Once(t, addr, tc.method, tc.prefix+p, tc.body)
			if strings.Contains(r.Body, "TOP SECRET") || r.Status < 400 {
				t.Errorf("%s %s%s: %d %q", tc.method, tc.prefix, p, r.Status, r.Body)
			}
		}
	}
	// Deleting the link itself is fine: it removes the link, not its target.
	if r := extest.Once(t, addr, "POST", "/delete/link", ""); r.Status != 303 {
		t.Errorf("delete link: %d %q", r.Status, r.Body)
	}
}

// TestStartFailures: a -port outside 1..65535 is refused, and a port in
// use is reported with its cause.
func TestStartFailures(t *testing.T) { extest.CheckStartFailures(t) }

// TestMainFlags runs the program: a started server uses -dir, answers and
// stops on SIGTERM.
func TestMainFlags(t *testing.T) {
	port := extest.FreePort(t)
	dir := t.TempDir()
	p := extest.StartMain(t, "-port", port, "-host", "127.0.0.1", "-dir", dir, "-v")
	p.Out.Expect(t, "Starting HTTP Server on port: '"+port+"'")
	p.Out.Expect(t, "Started server") // the httpd line: listening
	// Handlers are registered after that line: wait for httpd's debug line.
	p.Out.Expect(t, "registered URI handler uri=/upload/*")
	addr := "127.0.0.1:" + port
	extest.Once(t, addr, "POST", "/upload/x.txt", "via main")
	if b, _ := os.ReadFile(filepath.Join(dir, "x.txt")); string(b) != "via main" {
		t.Errorf("-dir not used: %q", b)
	}
	p.StopWith(t, syscall.SIGTERM)
}
