package httpd_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"

	"github.com/esphttpd/esphttpd/httpd"
)

// Accept an upload form: fields come back as url.Values, the file streams
// through the callback (here into a hash; a real handler writes it to
// storage), and a *FormError answers whatever was wrong with the form.
func ExampleReadForm() {
	upload := func(r *httpd.Req) error {
		var report string
		values, err := httpd.ReadForm(r, httpd.FormLimits{MaxFileBytes: 1 << 20}, func(f *httpd.FormFile) error {
			h := sha256.New()
			n, err := io.Copy(h, f)
			report = fmt.Sprintf("%s: %d bytes, sha256 %x", f.FileName, n, h.Sum(nil)[:4])
			return err
		})
		var fe *httpd.FormError
		if errors.As(err, &fe) {
			return fe.Send(r) // 400, 413 or 415 with the reason
		}
		if err != nil {
			return err // the connection failed: close the session
		}
		return r.RespSendStr(values.Get("comment") + "; " + report)
	}

	cfg := httpd.DefaultConfig()
	cfg.Host = "127.0.0.1"
	cfg.ServerPort = 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()
	h.RegisterURIHandler(&httpd.URI{URI: "/upload", Method: httpd.POST, Handler: upload})

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("comment", "holiday photo")
	fw, _ := mw.CreateFormFile("file", "photo.jpg")
	fw.Write(bytes.Repeat([]byte{0xff}, 100000))
	mw.Close()
	url := fmt.Sprintf("http://127.0.0.1:%d/upload", h.Port())
	for _, ctype := range []string{mw.FormDataContentType(), "text/plain"} {
		resp, err := http.Post(url, ctype, bytes.NewReader(body.Bytes()))
		if err != nil {
			log.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(answer))
	}
	// Output:
	// 200 holiday photo; photo.jpg: 100000 bytes, sha256 be87f6db
	// 415 Content-Type text/plain is not a form
}
