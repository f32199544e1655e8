package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
)

// The original's limits.
const (
	// filePathMax is FILE_PATH_MAX: ESP_VFS_PATH_MAX (15) plus
	// CONFIG_SPIFFS_OBJ_NAME_LEN (32), counted with the device's mount
	// point basePath in front of the URI path, so that the same names are
	// too long here as on the device.
	filePathMax = 15 + 32
	basePath    = "/data"
	// maxFileSize is MAX_FILE_SIZE; upload_script.html checks it too.
	maxFileSize    = 200 * 1024
	maxFileSizeStr = "200KB"
	// scratchBufsize is SCRATCH_BUFSIZE: the unit of every read and send.
	scratchBufsize = 8192
)

//go:embed upload_script.html
var uploadScript []byte

//go:embed favicon.ico
var favicon []byte

// errFail stands for ESP_FAIL: a handler returning it has its connection
// closed after the answer, as the original does after every error.
var errFail = errors.New("ESP_FAIL")

// fileServer is file_server_data: the storage folder (base_path) and the
// scratch buffer. Handlers run one at a time on the worker, so one buffer
// serves them all, as on the device.
type fileServer struct {
	root    *os.Root // every file operation goes through it
	dir     string   // the folder's name, for log lines
	scratch []byte
	log     *slog.Logger
}

// startFileServer is example_start_file_server: the wildcard matcher and
// the three handlers. Port 0 picks a free port (h.Port()).
func startFileServer(host string, port uint16, dir string, log *slog.Logger) (*httpd.Handle, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		log.Error("Failed to open storage folder : " + dir)
		return nil, err
	}
	s := &fileServer{root: root, dir: strings.TrimSuffix(dir, string(filepath.Separator)), scratch: make([]byte, scratchBufsize), log: log}

	cfg := httpd.DefaultConfig()
	cfg.Host = host
	cfg.ServerPort = port
	cfg.Logger = espconsole.WithTag(log, "httpd")
	// Use the URI wildcard matching function in order to allow the same
	// handler to respond to multiple different target URIs which match
	// the wildcard scheme.
	cfg.URIMatchFn = uri_match.Wildcard
	// The storage folder is closed when the server stops.
	cfg.GlobalUserCtx = root
	cfg.GlobalUserCtxFreeFn = func(any) { root.Close() }

	s.logf("Starting HTTP Server on port: '%d'", cfg.ServerPort)
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Error("Failed to start file server!")
		root.Close()
		return nil, err
	}
	for _, u := range []httpd.URI{
		{URI: "/*", Method: httpd.GET, Handler: s.download},
		{URI: "/upload/*", Method: httpd.POST, Handler: s.upload},
		{URI: "/delete/*", Method: httpd.POST, Handler: s.delete},
	} {
		if err := h.RegisterURIHandler(&u); err != nil {
			log.Error(fmt.Sprintf("Failed to register %s %s: %v", u.Method, u.URI, err))
			h.Stop()
			return nil, err
		}
	}
	return h, nil
}

func (s *fileServer) logf(format string, args ...any) { s.log.Info(fmt.Sprintf(format, args...)) }
func (s *fileServer) errorf(format string, args ...any) {
	s.log.Error(fmt.Sprintf(format, args...))
}

// fullPath is the path the original logs: base path and URI path.
func (s *fileServer) fullPath(uriPath string) string { return s.dir + uriPath }

// pathFromURI is get_path_from_uri: the URI path after skip, without query
// or fragment, or ok false when it would not fit FILE_PATH_MAX.
func pathFromURI(uri, skip string) (p string, ok bool) {
	p = strings.TrimPrefix(uri, skip)
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if len(basePath)+len(p)+1 > filePathMax {
		return "", false
	}
	return p, true
}

// storageName decodes a URI path ("/a/b.txt", "/dir/") into a name for
// os.Root ("a/b.txt", "dir", "."), or ok false when the decoded path is not
// clean: "..", ".", empty segments, backslashes, NUL, invalid UTF-8. os.Root
// would refuse an escape anyway; refusing early gives a clear answer.
func storageName(p string) (decoded, name string, ok bool) {
	decoded, err := url.PathUnescape(p)
	if err != nil || !utf8.ValidString(decoded) || strings.ContainsAny(decoded, "\\\x00") || !strings.HasPrefix(decoded, "/") {
		return "", "", false
	}
	name = strings.TrimSuffix(decoded[1:], "/")
	if name == "" {
		return decoded, ".", true
	}
	return decoded, name, fs.ValidPath(name)
}

// sendErr answers code with msg and returns errFail, closing the
// connection: httpd_resp_send_err followed by return ESP_FAIL.
func sendErr(r *httpd.Req, code httpd.ErrCode, msg string) error {
	r.RespSendErr(code, msg)
	return errFail
}

// invalidPath answers a path that does not decode to a clean name.
func (s *fileServer) invalidPath(r *httpd.Req, p string) error {
	s.errorf("Invalid filename : %s", p)
	return sendErr(r, httpd.Code400BadRequest, "Invalid filename")
}

// download is download_get_handler: a listing for a path ending in '/', the
// file otherwise.
func (s *fileServer) download(r *httpd.Req) error {
	p, ok := pathFromURI(r.URI, "")
	if !ok {
		s.errorf("Filename is too long")
		return sendErr(r, httpd.Code500InternalServerError, "Filename too long")
	}
	decoded, name, ok := storageName(p)
	if !ok {
		return s.invalidPath(r, p)
	}
	if strings.HasSuffix(p, "/") {
		return s.listDir(r, p, decoded, name)
	}
	info, err := s.root.Stat(name)
	if err != nil {
		// Not in storage: the built-in paths.
		switch decoded {
		case "/index.html":
			return indexHTML(r)
		case "/favicon.ico":
			return sendFavicon(r)
		}
		s.errorf("Failed to stat file : %s", s.fullPath(decoded))
		return sendErr(r, httpd.Code404NotFound, "File does not exist")
	}
	f, err := s.root.Open(name)
	if err != nil || info.IsDir() {
		if f != nil {
			f.Close()
		}
		s.errorf("Failed to read existing file : %s", s.fullPath(decoded))
		return sendErr(r, httpd.Code500InternalServerError, "Failed to read existing file")
	}
	defer f.Close()
	s.logf("Sending file : %s (%d bytes)...", decoded, info.Size())
	setContentTypeFromFile(r, decoded)
	for {
		n, err := f.Read(s.scratch)
		if n > 0 {
			if err := r.RespSendChunk(s.scratch[:n]); err != nil {
				s.errorf("File sending failed!")
				// Abort sending file
				r.RespSendStrChunk("")
				return sendErr(r, httpd.Code500InternalServerError, "Failed to send file")
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.errorf("File sending failed!")
				return errFail // the client sees a cut-off body
			}
			break
		}
	}
	s.logf("File sending complete")
	return r.RespSendChunk(nil)
}

// indexHTML is index_html_get_handler.
func indexHTML(r *httpd.Req) error {
	r.RespSetStatus("307 Temporary Redirect")
	r.RespSetHdr("Location", "/")
	return r.RespSend(nil)
}

// sendFavicon is favicon_get_handler.
func sendFavicon(r *httpd.Req) error {
	r.RespSetType("image/x-icon")
	return r.RespSend(favicon)
}

// setContentTypeFromFile is set_content_type_from_file: a few types by
// extension, text/plain for the rest.
func setContentTypeFromFile(r *httpd.Req, name string) {
	ctype := "text/plain"
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		ctype = "application/pdf"
	case ".html":
		ctype = "text/html"
	case ".jpeg":
		ctype = "image/jpeg"
	case ".ico":
		ctype = "image/x-icon"
	}
	r.RespSetType(ctype)
}
