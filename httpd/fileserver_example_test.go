package httpd_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"testing/fstest"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
)

// Serve a file tree under /static/. Any fs.FS works: os.DirFS("www"), an
// embed.FS (through fs.Sub to drop its directory prefix), or, as here, an
// in-memory one.
func ExampleFileServer() {
	site := fstest.MapFS{
		"index.html": {Data: []byte("<h1>Hello</h1>")},
		"app.css":    {Data: []byte("h1 { color: teal }")},
	}
	cfg := httpd.DefaultConfig()
	cfg.Host = "127.0.0.1"
	cfg.ServerPort = 0
	cfg.URIMatchFn = uri_match.Wildcard
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()
	err = h.RegisterURIHandler(&httpd.URI{
		URI: "/static/*", Method: httpd.ANY, Handler: httpd.FileServer(site, "/static"),
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, p := range []string{"/static/", "/static/app.css"} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d%s", h.Port(), p), nil)
		req.Header.Set("Range", "bytes=0-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Range"), string(body))
	}
	// Output:
	// 206 Partial Content text/html; charset=utf-8 bytes 0-1/14 <h
	// 206 Partial Content text/css; charset=utf-8 bytes 0-1/18 h1
}
