package httpd_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
)

// Mount a net/http ServeMux under /api/: the wildcard matcher routes the
// subtree to one URI handler and http.StripPrefix hands the mux the rest of
// the path.
func ExampleFromHTTP() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s\n", r.PathValue("id"))
	})

	cfg := httpd.DefaultConfig()
	cfg.Host = "127.0.0.1"
	cfg.ServerPort = 0
	cfg.URIMatchFn = uri_match.Wildcard // "/api/*" matches every path under /api/
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()
	err = h.RegisterURIHandler(&httpd.URI{
		URI:     "/api/*",
		Method:  httpd.ANY, // the mux answers 405 itself
		Handler: httpd.FromHTTP(http.StripPrefix("/api", mux)),
	})
	if err != nil {
		log.Fatal(err)
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/items/42", h.Port()))
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength)
	fmt.Print(string(body))
	// Output:
	// 200 OK text/plain; charset=utf-8 8
	// item 42
}
