package httpd_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestStaticFSResource serves a directory as Zephyr 4.x's static_fs
// resource does, from os.DirFS and from embed.FS: the index at "/",
// Content-Type by extension, the .gz variant to clients accepting gzip,
// ETag and If-None-Match, 405 for other methods, and no way out of the
// directory.
func TestStaticFSResource(t *testing.T) {
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	os.Mkdir(www, 0o755)
	for name, data := range map[string]string{
		"index.html": "<h1>index</h1>", "main.js": "console.log(1)", "main.js.gz": "GZ-BYTES",
	} {
		os.WriteFile(filepath.Join(www, name), []byte(data), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644)
	if err := os.Symlink("../secret.txt", filepath.Join(www, "out.txt")); err != nil {
		t.Fatal(err)
	}
	embedded, err := fs.Sub(embedded, "testdata/fileserver")
	if err != nil {
		t.Fatal(err)
	}
	for name, fsys := range map[string]fs.FS{"os.DirFS": os.DirFS(www), "embed.FS": embedded} {
		t.Run(name, func(t *testing.T) {
			h := serviceStart(t)
			if err := h.RegisterResource("/*", &httpd.StaticFSResource{FS: fsys}); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, h)
			resp := c.do(get("/"))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("/: %d %v", resp.StatusCode, resp.Header)
			}
			js := "/main.js"
			if name == "embed.FS" {
				js = "/app.js"
			}
			plain := c.do(get(js))
			gz := c.do("GET " + js + " HTTP/1.1\r\nAccept-Encoding: br, gzip\r\n\r\n")
			if plain.Header.Get("Content-Encoding") != "" || gz.Header.Get("Content-Encoding") != "gzip" ||
				gz.Header.Get("Vary") != "Accept-Encoding" || plain.body == gz.body {
				t.Fatalf("%s: plain %v, gzip %v", js, plain.Header, gz.Header)
			}
			for _, resp := range []response{plain, gz} {
				if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
					t.Fatalf("%s: Content-Type %q", js, ct)
				}
			}
			etag := plain.Header.Get("ETag")
			if resp := c.do("GET " + js + " HTTP/1.1\r\nIf-None-Match: " + etag + "\r\n\r\n"); etag == "" || resp.StatusCode != 304 {
				t.Fatalf("If-None-Match %q: %d", etag, resp.StatusCode)
			}
			if resp := c.do("POST " + js + " HTTP/1.1\r\nContent-Length: 0\r\n\r\n"); resp.StatusCode != 405 {
				t.Fatalf("POST: %d", resp.StatusCode)
			}
			for target, want := range map[string]int{
				"/../secret.txt": 400, "/%2e%2e/secret.txt": 400, "/%2E%2E%2Fsecret.txt": 400,
				"//etc/passwd": 400, "/missing.html": 404,
			} {
				// A connection each (a 400 may close it), closed after: the
				// service admits 4 clients at once.
				oc := newClient(t, h)
				if resp := oc.do(get(target)); resp.StatusCode != want {
					t.Errorf("%s: %d, want %d", target, resp.StatusCode, want)
				}
				oc.nc.Close()
			}
			if name == "os.DirFS" {
				if resp := c.do(get("/out.txt")); resp.StatusCode != 403 || resp.body == "secret" {
					t.Errorf("symlink out of the directory: %d %q", resp.StatusCode, resp.body)
				}
			}
		})
	}
	h := serviceStart(t)
	if err := h.RegisterResource("/x", &httpd.StaticFSResource{}); err == nil {
		t.Fatal("a StaticFSResource without FS was accepted")
	}
}
