package httpd_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

const secret = "TOP SECRET"

// fileTree builds a served root next to a secret file, with symbolic
// links inside and out of the root, and returns the root and the
// contents of some files.
type fileTree struct {
	root        string
	a, big, gz  []byte
	appJS, mtim string
}

func newFileTree(t *testing.T) fileTree {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	ft := fileTree{root: root, a: bytes.Repeat([]byte("0123456789"), 100), big: make([]byte, 2<<20)}
	rand.Read(ft.big)
	ft.appJS = "console.log('plain');\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, ft.appJS)
	zw.Close()
	ft.gz = gz.Bytes()
	files := map[string][]byte{
		"../secret.txt":        []byte(secret),
		"index.html":           []byte("<html>root index</html>"),
		"a.txt":                ft.a,
		"big.bin":              ft.big,
		"app.js":               []byte(ft.appJS),
		"app.js.gz":            ft.gz,
		"onlygz.js.gz":         ft.gz,
		"noext":                []byte("<html><body>sniff me</body></html>"),
		"sub/index.html":       []byte("sub index"),
		"sub2/file.txt":        []byte("no index here"),
		"dir with space/x.txt": []byte("spaced"),
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"inlink":     "a.txt",
		"insub":      "sub/../a.txt",
		"outlink":    "../secret.txt",
		"outdir":     "..",
		"abslink":    filepath.Join(dir, "secret.txt"),
		"chain":      "chain2",
		"chain2":     "../secret.txt",
		"sub/updown": "../../secret.txt",
		"loop":       "loop",
	}
	for name, dest := range links {
		if err := os.Symlink(dest, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Skipf("symbolic links unavailable: %v", err)
		}
	}
	mt := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(root, "a.txt"), mt, mt); err != nil {
		t.Fatal(err)
	}
	ft.mtim = mt.Format(http.TimeFormat)
	return ft
}

func startFileServer(t *testing.T, ft fileTree) *httpdtest.Server {
	return httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/static/*", Method: httpd.ANY, Handler: httpd.FileServer(os.DirFS(ft.root), "/static"),
	})
}

// TestFileServerServes proves content, types, index files, redirects,
// precompressed variants, sniffing, in-root links and large files over
// HTTP/1.1 and h2c.
func TestFileServerServes(t *testing.T) {
	ft := newFileTree(t)
	srv := startFileServer(t, ft)
	cases := []struct {
		name, method, path, acceptEnc string
		status                        int
		body                          string
		ctype, cenc, vary, location   string
		length                        int64 // -2: do not check
	}{
		{"file", "GET", "/static/a.txt", "", 200, string(ft.a), "text/plain; charset=utf-8", "", "", "", 1000},
		{"HEAD", "HEAD", "/static/a.txt", "", 200, "", "text/plain; charset=utf-8", "", "", "", 1000},
		{"root index", "GET", "/static/", "", 200, "<html>root index</html>", "text/html; charset=utf-8", "", "", "", -2},
		{"prefix alone is not in the subtree", "GET", "/static", "", 404, "", "", "", "", "", -2},
		{"dir redirect keeps query", "GET", "/static/sub?x=1", "", 301, "", "", "", "", "/static/sub/?x=1", -2},
		{"sub index", "GET", "/static/sub/", "", 200, "sub index", "text/html; charset=utf-8", "", "", "", -2},
		{"no index", "GET", "/static/sub2/", "", 404, "", "", "", "", "", -2},
		{"file with slash", "GET", "/static/a.txt/", "", 404, "", "", "", "", "", -2},
		{"missing", "GET", "/static/nope.txt", "", 404, "", "", "", "", "", -2},
		{"encoded space", "GET", "/static/dir%20with%20space/x.txt", "", 200, "spaced", "text/plain; charset=utf-8", "", "", "", -2},
		{"gzip chosen", "GET", "/static/app.js", "br, gzip", 200, string(ft.gz), "text/javascript; charset=utf-8", "gzip", "Accept-Encoding", "", int64(len(ft.gz))},
		{"identity when not accepted", "GET", "/static/app.js", "", 200, ft.appJS, "text/javascript; charset=utf-8", "", "Accept-Encoding", "", -2},
		{"gzip refused by q=0", "GET", "/static/app.js", "gzip;q=0, *", 200, ft.appJS, "text/javascript; charset=utf-8", "", "Accept-Encoding", "", -2},
		{"gzip by wildcard", "GET", "/static/app.js", "*", 200, string(ft.gz), "text/javascript; charset=utf-8", "gzip", "Accept-Encoding", "", -2},
		{"only gz, accepted", "GET", "/static/onlygz.js", "gzip", 200, string(ft.gz), "text/javascript; charset=utf-8", "gzip", "Accept-Encoding", "", -2},
		{"only gz, refused", "GET", "/static/onlygz.js", "", 406, "", "", "", "Accept-Encoding", "", -2},
		{"sniffed", "GET", "/static/noext", "", 200, "<html><body>sniff me</body></html>", "text/html; charset=utf-8", "", "", "", -2},
		{"link inside", "GET", "/static/inlink", "", 200, string(ft.a), "", "", "", "", -2},
		{"link through sub and back", "GET", "/static/insub", "", 200, string(ft.a), "", "", "", "", -2},
		{"big file streams", "GET", "/static/big.bin", "", 200, string(ft.big), "application/octet-stream", "", "", "", -1},
		{"POST", "POST", "/static/a.txt", "", 405, "", "", "", "", "", -2},
	}
	if mime.TypeByExtension(".js") != "text/javascript; charset=utf-8" {
		t.Fatalf("this system maps .js to %q", mime.TypeByExtension(".js"))
	}
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		for _, tc := range cases {
			req := newReq(t, tc.method, srv.URL+tc.path, nil)
			if tc.acceptEnc != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEnc)
			}
			resp, body := fetch(t, c, req)
			h := resp.Header
			bad := resp.StatusCode != tc.status ||
				(tc.status != 404 && tc.status != 406 && tc.status != 405 && body != tc.body) ||
				(tc.ctype != "" && h.Get("Content-Type") != tc.ctype) ||
				h.Get("Content-Encoding") != tc.cenc || h.Get("Vary") != tc.vary ||
				h.Get("Location") != tc.location ||
				(tc.length != -2 && resp.ContentLength != tc.length)
			if tc.status == 405 && h.Get("Allow") != "GET, HEAD" {
				bad = true
			}
			if bad {
				t.Errorf("%s: %d CL %d %v body %.60q", tc.name, resp.StatusCode, resp.ContentLength, h, body)
			}
		}
	})
}

// TestFileServerConditional proves ETag and Last-Modified validators
// answer 304, and that a changed validator gets the content.
func TestFileServerConditional(t *testing.T) {
	ft := newFileTree(t)
	srv := startFileServer(t, ft)
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		resp, _ := fetch(t, c, newReq(t, "GET", srv.URL+"/static/a.txt", nil))
		etag := resp.Header.Get("ETag")
		if etag == "" || resp.Header.Get("Last-Modified") != ft.mtim {
			t.Fatalf("validators: ETag %q Last-Modified %q", etag, resp.Header.Get("Last-Modified"))
		}
		for _, tc := range []struct {
			header, value string
			status        int
		}{
			{"If-None-Match", etag, 304},
			{"If-None-Match", `"other", W/` + etag, 304},
			{"If-None-Match", "*", 304},
			{"If-None-Match", `"other"`, 200},
			{"If-Modified-Since", ft.mtim, 304},
			{"If-Modified-Since", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat), 304},
			{"If-Modified-Since", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat), 200},
			{"If-Modified-Since", "not a date", 200},
		} {
			req := newReq(t, "GET", srv.URL+"/static/a.txt", nil)
			req.Header.Set(tc.header, tc.value)
			resp, body := fetch(t, c, req)
			if resp.StatusCode != tc.status || (tc.status == 304) != (body == "") || (tc.status == 304 && resp.Header.Get("ETag") != etag) {
				t.Errorf("%s: %s: %d %q ETag %q", tc.header, tc.value, resp.StatusCode, body, resp.Header.Get("ETag"))
			}
		}
		// A precompressed variant has its own tag.
		req := newReq(t, "GET", srv.URL+"/static/app.js", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		gzResp, _ := fetch(t, c, req)
		plain, _ := fetch(t, c, newReq(t, "GET", srv.URL+"/static/app.js", nil))
		if gzResp.Header.Get("ETag") == plain.Header.Get("ETag") {
			t.Errorf("gzip and identity share ETag %s", plain.Header.Get("ETag"))
		}
	})
}

// TestFileServerRanges proves single ranges, suffix and open ranges,
// multipart/byteranges, 416, and the cases where the whole file is sent.
func TestFileServerRanges(t *testing.T) {
	ft := newFileTree(t)
	srv := startFileServer(t, ft)
	a := string(ft.a)
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		etag := func() string {
			resp, _ := fetch(t, c, newReq(t, "GET", srv.URL+"/static/a.txt", nil))
			return resp.Header.Get("ETag")
		}()
		for _, tc := range []struct {
			name, method, rng, ifRange string
			status                     int
			body, contentRange         string
			parts                      []string
		}{
			{"one", "GET", "bytes=10-19", "", 206, a[10:20], "bytes 10-19/1000", nil},
			{"open end", "GET", "bytes=990-", "", 206, a[990:], "bytes 990-999/1000", nil},
			{"suffix", "GET", "bytes=-5", "", 206, a[995:], "bytes 995-999/1000", nil},
			{"end past size", "GET", "bytes=995-5000", "", 206, a[995:], "bytes 995-999/1000", nil},
			{"two", "GET", "bytes=0-4, 10-14", "", 206, "", "", []string{a[0:5], a[10:15]}},
			{"one satisfiable of two", "GET", "bytes=0-1,5000-6000", "", 206, a[0:2], "bytes 0-1/1000", nil},
			{"unsatisfiable", "GET", "bytes=5000-", "", 416, "", "bytes */1000", nil},
			{"malformed ignored", "GET", "bytes=abc", "", 200, a, "", nil},
			{"other unit ignored", "GET", "lines=1-2", "", 200, a, "", nil},
			{"reversed ignored", "GET", "bytes=9-1", "", 200, a, "", nil},
			{"overlaps past size", "GET", "bytes=0-999,0-999", "", 200, a, "", nil},
			{"If-Range match", "GET", "bytes=0-0", etag, 206, a[:1], "bytes 0-0/1000", nil},
			{"If-Range mismatch", "GET", "bytes=0-0", `"stale"`, 200, a, "", nil},
			{"If-Range date", "GET", "bytes=0-0", ft.mtim, 206, a[:1], "bytes 0-0/1000", nil},
			{"HEAD ignores Range", "HEAD", "bytes=0-0", "", 200, "", "", nil},
		} {
			req := newReq(t, tc.method, srv.URL+"/static/a.txt", nil)
			req.Header.Set("Range", tc.rng)
			if tc.ifRange != "" {
				req.Header.Set("If-Range", tc.ifRange)
			}
			resp, body := fetch(t, c, req)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.contentRange {
				t.Errorf("%s: %d Content-Range %q", tc.name, resp.StatusCode, resp.Header.Get("Content-Range"))
				continue
			}
			if tc.parts == nil {
				if tc.status != 416 && body != tc.body {
					t.Errorf("%s: body %.40q", tc.name, body)
				}
				continue
			}
			mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/byteranges" {
				t.Errorf("%s: Content-Type %q", tc.name, resp.Header.Get("Content-Type"))
				continue
			}
			mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
			var got []string
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				got = append(got, p.Header.Get("Content-Type")+"|"+string(b))
			}
			var want []string
			for _, p := range tc.parts {
				want = append(want, "text/plain; charset=utf-8|"+p)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: parts %q, want %q", tc.name, got, want)
			}
		}
	})
}

// TestFileServerHostilePaths proves no request target, however encoded,
// reaches a file outside the root, over raw TCP so nothing normalises the
// path on the way.
func TestFileServerHostilePaths(t *testing.T) {
	ft := newFileTree(t)
	srv := startFileServer(t, ft)
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/static/../secret.txt", 400},
		{"/static/%2e%2e/secret.txt", 400},
		{"/static/%2E%2E/secret.txt", 400},
		{"/static/.%2e/secret.txt", 400},
		{"/static/%2e%2e%2fsecret.txt", 400},
		{"/static/..%2Fsecret.txt", 400},
		{"/static/sub/../../secret.txt", 400},
		{"/static/sub/%2e%2e/%2e%2e/secret.txt", 400},
		{"/static/..\\secret.txt", 400},
		{"/static/%5c..%5csecret.txt", 400},
		{"/static/..%5csecret.txt", 400},
		{"/static//etc/passwd", 400},
		{"/static/%2fetc/passwd", 400},
		{"/static/./a.txt", 400},
		{"/static/sub//index.html", 400},
		{"/static/a.txt%00.html", 400},
		{"/static/%c0%ae%c0%ae/secret.txt", 400},
		{"/static/%zz", 400},
		{"/static/%252e%252e/secret.txt", 404},
		{"/static/outlink", 403},
		{"/static/outdir/secret.txt", 403},
		{"/static/abslink", 403},
		{"/static/chain", 403},
		{"/static/sub/updown", 403},
		{"/static/loop", 403},
		{"/static../secret.txt", 404},
		{"http://x/static/../secret.txt", 400}, // absolute form routes on its path (RFC 9112 3.2.2), which is refused
	} {
		c := srv.Dial()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", tc.target)
		raw, err := io.ReadAll(c)
		if err != nil {
			t.Errorf("%s: %v", tc.target, err)
			continue
		}
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%s: served the secret:\n%s", tc.target, raw)
		}
		status, _, _ := strings.Cut(string(raw), "\r\n")
		if want := fmt.Sprintf("HTTP/1.1 %d ", tc.status); !strings.HasPrefix(status, want) {
			t.Errorf("%s: %q, want %q", tc.target, status, want)
		}
	}
}

//go:embed testdata/fileserver
var embedded embed.FS

// TestFileServerEmbedFS proves an embed.FS, whose files have no
// modification time, still gets a content-based ETag and 304s, and that
// precompressed variants and the index work from it.
func TestFileServerEmbedFS(t *testing.T) {
	ui, err := fs.Sub(embedded, "testdata/fileserver")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/ui/*", Method: httpd.GET, Handler: httpd.FileServer(ui, "/ui"),
	})
	wantIndex, _ := embedded.ReadFile("testdata/fileserver/index.html")
	wantGz, _ := embedded.ReadFile("testdata/fileserver/app.js.gz")
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		resp, body := fetch(t, c, newReq(t, "GET", srv.URL+"/ui/", nil))
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || body != string(wantIndex) || etag == "" || resp.Header.Get("Last-Modified") != "" {
			t.Fatalf("index: %d %q ETag %q Last-Modified %q", resp.StatusCode, body, etag, resp.Header.Get("Last-Modified"))
		}
		req := newReq(t, "GET", srv.URL+"/ui/", nil)
		req.Header.Set("If-None-Match", etag)
		if resp, _ := fetch(t, c, req); resp.StatusCode != 304 {
			t.Errorf("If-None-Match: %d", resp.StatusCode)
		}
		req = newReq(t, "GET", srv.URL+"/ui/app.js", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, body = fetch(t, c, req)
		if resp.Header.Get("Content-Encoding") != "gzip" || body != string(wantGz) {
			t.Errorf("app.js: %v %q", resp.Header, body)
		}
	})
}
