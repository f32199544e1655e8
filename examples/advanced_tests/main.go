// Command advanced_tests is a port of ESP-IDF's
// examples/protocols/http_server/advanced_tests (main/main.c and
// main/tests.c) to esphttpd: the server the http_server component's own
// test script (idf_http_server_test/test.py) is run against.
//
// Run it with
//
//	go run ./examples/advanced_tests                 # http://127.0.0.1:8080
//	go run ./examples/advanced_tests -port 9000 -host 0.0.0.0
//
// On start it checks the URI handler limit (registering handlers until the
// table is full, then unregistering them, logging each step as the
// original's test_handler_limit does), then registers its handlers:
//
//   - GET /hello, /hello/type_html: "Hello World!" as text/html; /hello
//     also logs how much stack is free ("Free Stack for server task").
//   - GET /hello/status_500: "Hello World!" with status 500.
//   - POST and PUT /echo: the body back, with the request's Custom header
//     copied into the response. A body too large to buffer answers 500, as
//     a failed malloc does on the device.
//   - GET /test_header: checks Header1 and Header3, answers Header2's value.
//   - POST /adder: a per-connection sum in the session context.
//   - POST /leftover_data: echoes the first 10 bytes and leaves the rest
//     unread, for the server to discard.
//   - GET /async_data: "Hello World!", then a second response,
//     "Hello Double World!", written by queued work on the same socket.
//
// Log lines print as on the ESP-IDF console ("I (1234) TESTS: ..."); the
// server's own lines carry the tag "httpd". SIGINT or SIGTERM stops the
// server (stop_tests).
package main

import (
	"fmt"

	"github.com/esphttpd/esphttpd/examples/internal/exmain"
)

// tag is the log tag of main.c; tests.c logs under testsTag.
const tag = "example"

func main() {
	p := exmain.New("advanced_tests", tag)
	p.Parse()
	p.Exit(p.Serve("Stopping webserver", func() (exmain.Server, error) {
		h, err := startTests(options{Host: p.Host, Port: p.Port}, p.Log)
		if err != nil {
			p.Log.Error(fmt.Sprintf("Failed to start the tests' server: %v", err))
			return nil, err
		}
		return exmain.StopFunc(func() error { return stopTests(h, p.Log) }), nil
	}))
}
