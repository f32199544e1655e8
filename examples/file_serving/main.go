// Command file_serving is a port of ESP-IDF's
// examples/protocols/http_server/file_serving (main/file_server.c) to
// esphttpd: a small file server with a browser page to list, upload,
// download and delete files.
//
// Run it with
//
//	go run ./examples/file_serving                       # http://127.0.0.1:8080, a temporary folder
//	go run ./examples/file_serving -dir ./storage -port 9000 -host 0.0.0.0
//
// The URIs are the original's:
//
//   - GET /              the listing of the storage folder with the upload form
//   - GET /dir/          the listing of a sub-folder
//   - GET /PATH          the file (text/plain unless .html, .pdf, .jpeg, .ico)
//   - GET /index.html    redirects (307) to / unless such a file was uploaded
//   - GET /favicon.ico   a built-in icon unless such a file was uploaded
//   - POST /upload/PATH  stores the request body as PATH (at most 200KB)
//   - POST /delete/PATH  deletes PATH
//
// From the command line:
//
//	curl --data-binary @photo.jpeg http://127.0.0.1:8080/upload/photo.jpeg
//	curl -o copy.jpeg http://127.0.0.1:8080/photo.jpeg
//	curl -X POST http://127.0.0.1:8080/delete/photo.jpeg
//
// Answers, limits and log lines ("File reception complete", "File sending
// complete", "File already exists : ...", "Deleting file : ...", "File does
// not exist : ...", "Failed to stat file : ...") are the original's, and so
// is closing the connection after every error answer. Differences, each for
// safety: paths are percent-decoded once and must then be clean ("..", ".",
// empty segments, backslashes and NUL are 400 "Invalid filename"), and
// every file operation goes through os.Root, so neither an encoded path nor
// a symbolic link reaches outside the storage folder; the listing escapes
// names; an upload never replaces a file created meanwhile (O_EXCL); a
// chunked upload is stored (the original, reading Content-Length bytes,
// stores an empty file) within the same size limit.
//
// Log lines print as on the ESP-IDF console under the tag "file_server";
// the server's own lines carry the tag "httpd". SIGINT or SIGTERM stops
// the server.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/esphttpd/esphttpd/examples/internal/exmain"
)

// tag is the original's log tag.
const tag = "file_server"

func main() {
	p := exmain.New("file_serving", tag)
	dir := flag.String("dir", "", "storage folder (default: a new temporary folder)")
	p.Parse()
	p.Exit(serve(p, *dir))
}

// serve serves dir, or a temporary folder removed at exit, until SIGINT or
// SIGTERM.
func serve(p *exmain.Program, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "file_serving-")
		if err != nil {
			return fmt.Errorf("creating a storage folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	return p.Serve("Stopping file server", func() (exmain.Server, error) {
		return startFileServer(p.Host, p.Port, dir, p.Log)
	})
}
