package browser

import (
	"net/http"
	"testing"
)

// httpOnly is the protocol Chromium uses on a plain-HTTP port: it never
// speaks h2c, even to a server that offers it (http2_server).
const httpOnly = "http/1.1"

// overTLS is the protocol Chromium negotiates with ALPN on the examples'
// HTTPS ports: httpd_ssl offers h2 first while Config.HTTP2 is on.
const overTLS = "h2"

// server is one listening port of an example run.
type server struct {
	portFlag string // the example's flag for this port: "-port", "-tls-port"
	scheme   string // "http" or "https"
	pages    []page
}

// exampleRun is one run of an example binary and the pages a browser loads
// from it: one row per run, in the examples table.
type exampleRun struct {
	name    string   // subtest name
	dir     string   // the example under examples/
	args    []string // flags besides -host and the port flags
	servers []server
}

// examples is every page the examples serve to a browser (GET). Pages that
// answer an error keep their example's status and text.
var examples = []exampleRun{
	{name: "simple", dir: "simple", servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/hello", status: http.StatusOK, text: "Hello World!"},
		{path: "/any", status: http.StatusOK, text: "Hello World!"},
	}}}},
	{name: "persistent_sockets", dir: "persistent_sockets", servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/adder", status: http.StatusOK, text: "0"},
	}}}},
	// advanced_tests keeps ESP-IDF's exact limits (httpd.ESPIDFDefaultConfig),
	// which its test.py checks: a browser's request head is over 512 bytes,
	// so every page answers 431, as it does on the device.
	{name: "advanced_tests", dir: "advanced_tests", servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/hello", status: http.StatusRequestHeaderFieldsTooLarge, text: "Header fields are too long"},
		{path: "/hello/type_html", status: http.StatusRequestHeaderFieldsTooLarge, text: "Header fields are too long"},
		{path: "/hello/status_500", status: http.StatusRequestHeaderFieldsTooLarge, text: "Header fields are too long"},
		{path: "/test_header", status: http.StatusRequestHeaderFieldsTooLarge, text: "Header fields are too long"},
		{path: "/async_data", status: http.StatusRequestHeaderFieldsTooLarge, text: "Header fields are too long"},
	}}}},
	{name: "https_server", dir: "https_server", servers: []server{{portFlag: "-port", scheme: "https", pages: []page{
		{path: "/", status: http.StatusOK, text: "Hello Secure World!"},
	}}}},
	{name: "http2_server h2c port", dir: "http2_server", servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/", status: http.StatusOK, text: "Zephyr HTTP server sample"},
		{path: "/dynamic", status: http.StatusOK},
		{path: "/headers", status: http.StatusOK, text: `"path":"/headers"`},
	}}}},
	{name: "http2_server -tls", dir: "http2_server", args: []string{"-tls"}, servers: []server{{portFlag: "-port", scheme: "https", pages: []page{
		{path: "/", status: http.StatusOK, text: "Zephyr HTTP server sample"},
		{path: "/dynamic", status: http.StatusOK},
		{path: "/headers", status: http.StatusOK, text: `"path":"/headers"`},
	}}}},
	{name: "zephyr_sample", dir: "zephyr_sample", servers: []server{
		{portFlag: "-port", scheme: "http", pages: []page{
			{path: "/index.html", status: http.StatusOK, text: "It Works!"},
			{path: "/index.html/more", status: http.StatusOK, text: "It Works!"},
			{path: "/headers", status: http.StatusOK, text: "User-Agent: Mozilla/5.0"},
			{path: "/no/such/page", status: http.StatusOK, text: "404 Not Found"}, // Zephyr's soft 404
		}},
		{portFlag: "-tls-port", scheme: "https", pages: []page{
			{path: "/index.html", status: http.StatusOK, text: "It Works!"},
		}},
	}},
}

// TestExamplePages loads every page of the examples table in Chromium.
func TestExamplePages(t *testing.T) {
	browser := newBrowser(t)
	for _, run := range examples {
		t.Run(run.name, func(t *testing.T) {
			bases, _ := startExample(t, run)
			for i, srv := range run.servers {
				protocol := httpOnly
				if srv.scheme == "https" {
					protocol = overTLS
				}
				for _, p := range srv.pages {
					expectPage(t, browser, bases[i]+p.path, p, protocol)
				}
			}
		})
	}
}
