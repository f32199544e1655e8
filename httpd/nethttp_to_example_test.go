package httpd_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/esphttpd/esphttpd/httpd"
)

// Serve a handler written for the handle API from an httptest.Server, as
// a test of that handler or an application that already runs net/http
// would; routing is the ServeMux's.
func ExampleToHTTP() {
	hello := func(r *httpd.Req) error {
		name, err := r.URLQueryStr()
		if err != nil {
			name = "World"
		}
		r.RespSetType("text/plain")
		return r.RespSendStr("Hello " + name + "! (" + r.Proto() + ")")
	}
	mux := http.NewServeMux()
	mux.Handle("GET /hello", httpd.ToHTTP(hello))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/hello?esp32")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Println(string(body))
	// Output:
	// 200 OK text/plain
	// Hello esp32! (HTTP/1.1)
}
