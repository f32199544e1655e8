package httpd_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

// formHandler answers with the fields and, for each file, its field,
// name, size and SHA-256, computed while the file streams in.
func formHandler(limits httpd.FormLimits, fileSeen chan<- struct{}) httpd.HandlerFunc {
	return func(r *httpd.Req) error {
		var files []string
		values, err := httpd.ReadForm(r, limits, func(f *httpd.FormFile) error {
			h := sha256.New()
			var first [1]byte
			n, err := io.ReadFull(f, first[:])
			if err != nil {
				return err
			}
			h.Write(first[:n])
			if fileSeen != nil {
				fileSeen <- struct{}{}
			}
			m, err := io.Copy(h, f)
			if err != nil {
				return err
			}
			files = append(files, fmt.Sprintf("%s:%s:%d:%s", f.Field, f.FileName, int64(n)+m, hex.EncodeToString(h.Sum(nil))))
			return nil
		})
		var fe *httpd.FormError
		if errors.As(err, &fe) {
			return fe.Send(r)
		}
		if err != nil {
			return err
		}
		var keys []string
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			out = append(out, k+"="+strings.Join(values[k], ","))
		}
		return r.RespSendStr(strings.Join(out, "&") + "|" + strings.Join(files, ";"))
	}
}

// multipartBody builds a form with the fields given in order and one file.
func multipartBody(t *testing.T, fields [][2]string, fileName string, file []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if fileName != "" {
		w, err := mw.CreateFormFile("upload", fileName)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(file)
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// TestReadFormMultipartFourMiB proves a 4 MiB file part streams through
// the callback intact, next to ordinary fields, over HTTP/1.1 and h2c.
func TestReadFormMultipartFourMiB(t *testing.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/upload", Method: httpd.POST, Handler: formHandler(httpd.FormLimits{MaxBytes: 8 << 20}, nil),
	})
	file := make([]byte, 4<<20)
	rand.Read(file)
	sum := sha256.Sum256(file)
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		ctype, body := multipartBody(t, [][2]string{{"a", "1"}, {"b", "two words"}, {"a", "3"}}, "big.bin", file)
		req := newReq(t, "POST", srv.URL+"/upload", body)
		req.Header.Set("Content-Type", ctype)
		resp, got := fetch(t, c, req)
		want := fmt.Sprintf("a=1,3&b=two words|upload:big.bin:%d:%s", len(file), hex.EncodeToString(sum[:]))
		if resp.StatusCode != 200 || got != want {
			t.Errorf("got %d %q\nwant %q", resp.StatusCode, got, want)
		}
	})
}

// TestReadFormStreams proves file bytes reach the callback before the
// client has sent the rest of the body: the client holds back the end of
// the body until the callback has seen the start of the file.
func TestReadFormStreams(t *testing.T) {
	fileSeen := make(chan struct{}, 1)
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/upload", Method: httpd.POST, Handler: formHandler(httpd.FormLimits{}, fileSeen),
	})
	file := bytes.Repeat([]byte("x"), 100<<10)
	ctype, body := multipartBody(t, nil, "f.txt", file)
	whole := body.Bytes()
	split := bytes.Index(whole, file) + 1000 // the first 1000 file bytes go first
	pr, pw := io.Pipe()
	go func() {
		pw.Write(whole[:split])
		<-fileSeen
		pw.Write(whole[split:])
		pw.Close()
	}()
	req := newReq(t, "POST", srv.URL+"/upload", pr)
	req.Header.Set("Content-Type", ctype)
	req.ContentLength = int64(len(whole))
	resp, got := fetch(t, srv.Client(), req)
	if resp.StatusCode != 200 || !strings.Contains(got, fmt.Sprintf("upload:f.txt:%d:", len(file))) {
		t.Errorf("%d %q", resp.StatusCode, got)
	}
}

// TestReadFormURLEncoded proves urlencoded bodies, with Content-Length and
// chunked, are decoded.
func TestReadFormURLEncoded(t *testing.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/form", Method: httpd.POST, Handler: formHandler(httpd.FormLimits{}, nil),
	})
	protoClients(t, srv, func(t *testing.T, c *http.Client, _ string) {
		req := newReq(t, "POST", srv.URL+"/form", strings.NewReader(url.Values{"x": {"a b", "c&d"}, "y": {"ü"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, got := fetch(t, c, req)
		if resp.StatusCode != 200 || got != "x=a b,c&d&y=ü|" {
			t.Errorf("%d %q", resp.StatusCode, got)
		}
	})
	c := srv.Dial()
	io.WriteString(c, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n4\r\nk=v&\r\n3\r\nk=w\r\n0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if string(got) != "k=v,w|" {
		t.Errorf("chunked: %q", got)
	}
}

// TestReadFormRefusals proves malformed and oversized forms get a clear
// status and message, never a crash or a hang, over raw TCP.
func TestReadFormRefusals(t *testing.T) {
	limits := httpd.FormLimits{MaxBytes: 64 << 10, MaxFields: 3, MaxFieldBytes: 10, MaxFileBytes: 1000}
	srv := httpdtest.Start(t, httpdtest.Config(),
		&httpd.URI{URI: "/form", Method: httpd.POST, Handler: formHandler(limits, nil)},
		&httpd.URI{URI: "/nofiles", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			_, err := httpd.ReadForm(r, limits, nil)
			var fe *httpd.FormError
			if errors.As(err, &fe) {
				return fe.Send(r)
			}
			return r.RespSendStr("accepted")
		}},
	)
	mp := func(parts ...string) string {
		return strings.Join(parts, "\r\n")
	}
	const b = "BOUND"
	const mpType = "multipart/form-data; boundary=" + b
	field := func(name, value string) string {
		return "--" + b + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
	}
	file := func(name, data string) string {
		return "--" + b + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + name + "\"\r\n\r\n" + data
	}
	end := "--" + b + "--\r\n"
	for _, tc := range []struct {
		name, path, ctype, body string
		status                  int
		msg                     string
	}{
		{"ok", "/form", mpType, mp(field("a", "1"), end), 200, "a=1|"},
		{"no Content-Type", "/form", "", "a=1", 415, "no Content-Type"},
		{"not a form", "/form", "application/json", "{}", 415, "not a form"},
		{"bad Content-Type", "/form", "multipart/form-data; boundary", "", 400, "malformed Content-Type"},
		{"no boundary", "/form", "multipart/form-data", "x", 400, "without a boundary"},
		{"garbage", "/form", mpType, "this is not multipart", 400, "malformed multipart"},
		{"no closing boundary", "/form", mpType, field("a", "1"), 400, "malformed multipart"},
		{"truncated part header", "/form", mpType, "--" + b + "\r\nContent-Disposition: form-d", 400, "malformed multipart"},
		{"part without name", "/form", mpType, mp("--"+b+"\r\nContent-Disposition: form-data\r\n\r\nx", end), 400, "without a form-data name"},
		{"field too long", "/form", mpType, mp(field("a", strings.Repeat("v", 11)), end), 413, "field a is over the limit"},
		{"too many parts", "/form", mpType, mp(field("a", "1"), field("b", "2"), field("c", "3"), field("d", "4"), end), 413, "more than 3 parts"},
		{"file too big", "/form", mpType, mp(file("x.bin", strings.Repeat("z", 1001)), end), 413, "file x.bin is over the limit"},
		{"file at the limit", "/form", mpType, mp(file("x.bin", strings.Repeat("z", 1000)), end), 200, "f:x.bin:1000:"},
		{"files not accepted", "/nofiles", mpType, mp(file("x.bin", "z"), end), 413, "file parts are not accepted"},
		{"urlencoded bad escape", "/form", "application/x-www-form-urlencoded", "a=%zz", 400, "malformed urlencoded"},
		{"urlencoded too many", "/form", "application/x-www-form-urlencoded", "a=1&a=2&b=3&c=4", 413, "more than 3 fields"},
		{"urlencoded value too long", "/form", "application/x-www-form-urlencoded", "a=12345678901", 413, `field "a" is over 10 bytes`},
	} {
		c := srv.Dial()
		head := "POST " + tc.path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		if tc.ctype != "" {
			head += "Content-Type: " + tc.ctype + "\r\n"
		}
		fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", head, len(tc.body), tc.body)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status || !strings.Contains(string(got), tc.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, resp.StatusCode, got, tc.status, tc.msg)
		}
	}
}

// TestReadFormRefusesLengthBeforeBody proves a Content-Length over
// MaxBytes is answered 413 without waiting for the body: the client sends
// only the head.
func TestReadFormRefusesLengthBeforeBody(t *testing.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/form", Method: httpd.POST, Handler: formHandler(httpd.FormLimits{MaxBytes: 1 << 20}, nil),
	})
	c := srv.Dial()
	io.WriteString(c, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1073741824\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(got), "over the limit of 1048576") {
		t.Errorf("%d %q", resp.StatusCode, got)
	}
}
