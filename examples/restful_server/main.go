// Command restful_server is a port of ESP-IDF's
// examples/protocols/http_server/restful_server (main/rest_server.c) to
// esphttpd: a small JSON API and a web front end that calls it.
//
// Run it with
//
//	go run ./examples/restful_server                   # http://127.0.0.1:8080
//	go run ./examples/restful_server -dir ./www -port 9000 -host 0.0.0.0
//
// The URIs are the original's:
//
//   - GET /api/v1/system/info        {"version": Go's version, "cores": CPUs}
//   - GET /api/v1/temp/raw           {"raw": a random reading below 20}
//   - POST /api/v1/light/brightness  {"red": R, "green": G, "blue": B}, logged
//     as "Light control: red = R, green = G, blue = B" and answered
//     "Post control value successfully"
//   - GET /*                          the front end's files: / serves index.html
//
// The front end is built in (plain HTML and JavaScript, embedded); with
// -dir the files come from that folder instead, read at every request as
// the device reads its file system, so edits show on reload.
//
//	curl http://127.0.0.1:8080/api/v1/system/info
//	curl -d '{"red":1,"green":2,"blue":3}' http://127.0.0.1:8080/api/v1/light/brightness
//
// As in rest_server.c, a brightness body of 10240 bytes or more gets 500
// "content too long" and the connection closes, a file that cannot be
// opened gets 500 "Failed to read existing file", and files go out in
// chunks of 10240 bytes with rest_server.c's Content-Types. Differences:
// malformed JSON, or a color that is not three integers, gets 400 with the
// reason where the original crashes; a chunked body is read (the original
// reads Content-Length bytes only); file paths are percent-decoded and must
// be clean, and go through os.Root or the embedded tree, so nothing
// outside the folder is reachable.
//
// Log lines print as on the ESP-IDF console under the tag "esp-rest"; the
// server's own lines carry the tag "httpd". SIGINT or SIGTERM stops the
// server.
package main

import (
	"flag"

	"github.com/esphttpd/esphttpd/examples/internal/exmain"
)

// tag is the original's REST_TAG.
const tag = "esp-rest"

func main() {
	p := exmain.New("restful_server", tag)
	dir := flag.String("dir", "", "serve the front end from this folder instead of the built-in one")
	p.Parse()
	p.Exit(serve(p, *dir))
}

// serve serves the front end from dir ("" for the built-in one) and the
// API until SIGINT or SIGTERM.
func serve(p *exmain.Program, dir string) error {
	web, closeWeb, err := frontEnd(dir)
	if err != nil {
		return err
	}
	defer closeWeb()
	return p.Serve("Stopping RESTful server", func() (exmain.Server, error) {
		return startRestServer(p.Host, p.Port, web, p.Log)
	})
}
