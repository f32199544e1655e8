package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/uri_match"
)

// scratchBufsize is SCRATCH_BUFSIZE: the largest brightness body plus one,
// and the unit files are sent in.
const scratchBufsize = 10240

//go:embed www
var builtIn embed.FS

// errFail stands for ESP_FAIL: the connection closes after the answer.
var errFail = errors.New("ESP_FAIL")

// frontEnd returns the files to serve: the folder dir through os.Root,
// read at request time, or the built-in front end.
func frontEnd(dir string) (fs.FS, func(), error) {
	if dir == "" {
		web, err := fs.Sub(builtIn, "www")
		return web, func() {}, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("front end folder: %w", err)
	}
	return root.FS(), func() { root.Close() }, nil
}

// restServer is rest_server_context_t: where files come from and the
// scratch buffer, shared by handlers that all run on the worker.
type restServer struct {
	web     fs.FS
	scratch []byte
	log     *slog.Logger
}

// startRestServer is start_rest_server. Port 0 picks a free port.
func startRestServer(host string, port uint16, web fs.FS, log *slog.Logger) (*httpd.Handle, error) {
	s := &restServer{web: web, scratch: make([]byte, scratchBufsize), log: log}
	cfg := httpd.DefaultConfig()
	cfg.Host = host
	cfg.ServerPort = port
	cfg.Logger = espconsole.WithTag(log, "httpd")
	cfg.URIMatchFn = uri_match.Wildcard
	log.Info("Starting HTTP Server")
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Error("Start server failed")
		return nil, err
	}
	for _, u := range []httpd.URI{
		{URI: "/api/v1/system/info", Method: httpd.GET, Handler: s.systemInfo},
		{URI: "/api/v1/temp/raw", Method: httpd.GET, Handler: s.temperature},
		{URI: "/api/v1/light/brightness", Method: httpd.POST, Handler: s.lightBrightness},
		{URI: "/*", Method: httpd.GET, Handler: s.commonGet},
	} {
		if err := h.RegisterURIHandler(&u); err != nil {
			log.Error(fmt.Sprintf("Failed to register %s %s: %v", u.Method, u.URI, err))
			h.Stop()
			return nil, err
		}
	}
	return h, nil
}

// sendJSON answers v as cJSON_Print would lay it out: tab-indented.
func sendJSON(r *httpd.Req, v any) error {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return err
	}
	r.RespSetType(httpd.TypeJSON)
	return r.RespSend(b)
}

// systemInfo is system_info_get_handler: Go's version stands for IDF_VER,
// the CPU count for the chip's cores.
func (s *restServer) systemInfo(r *httpd.Req) error {
	return sendJSON(r, struct {
		Version string `json:"version"`
		Cores   int    `json:"cores"`
	}{runtime.Version(), runtime.NumCPU()})
}

// temperature is temperature_data_get_handler: esp_random() % 20.
func (s *restServer) temperature(r *httpd.Req) error {
	return sendJSON(r, struct {
		Raw int `json:"raw"`
	}{rand.IntN(20)})
}

// lightBrightness is light_brightness_post_handler.
func (s *restServer) lightBrightness(r *httpd.Req) error {
	if r.ContentLen >= scratchBufsize {
		return sendErr(r, httpd.Code500InternalServerError, "content too long")
	}
	body, err := readBody(r, s.scratch)
	if errors.Is(err, errTooLong) {
		return sendErr(r, httpd.Code500InternalServerError, "content too long")
	}
	if err != nil {
		return sendErr(r, httpd.Code500InternalServerError, "Failed to post control value")
	}
	var c struct{ Red, Green, Blue *int }
	if err := json.Unmarshal(body, &c); err != nil {
		s.log.Error("Invalid JSON: " + err.Error())
		return r.RespSendErr(httpd.Code400BadRequest, "Invalid JSON: "+err.Error())
	}
	if c.Red == nil || c.Green == nil || c.Blue == nil {
		return r.RespSendErr(httpd.Code400BadRequest, "red, green and blue must be integers")
	}
	s.log.Info(fmt.Sprintf("Light control: red = %d, green = %d, blue = %d", *c.Red, *c.Green, *c.Blue))
	return r.RespSendStr("Post control value successfully")
}

var errTooLong = errors.New("content too long")

// readBody reads the whole body into buf, which it must fit with a byte to
// spare, as the original's scratch buffer with its terminating NUL.
func readBody(r *httpd.Req, buf []byte) ([]byte, error) {
	n := 0
	for {
		if n == len(buf) {
			return nil, errTooLong
		}
		k, err := r.Recv(buf[n:])
		n += k
		if err == io.EOF {
			if n >= len(buf) {
				return nil, errTooLong
			}
			return buf[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// sendErr answers and closes the connection (ESP_FAIL).
func sendErr(r *httpd.Req, code httpd.ErrCode, msg string) error {
	r.RespSendErr(code, msg)
	return errFail
}

// commonGet is rest_common_get_handler: the front end's files, index.html
// for a path ending in '/'.
func (s *restServer) commonGet(r *httpd.Req) error {
	p := r.URI
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if strings.HasSuffix(p, "/") {
		p = "/index.html"
	}
	name, ok := cleanName(p)
	var f fs.File
	var err error = fs.ErrInvalid
	if ok {
		f, err = s.web.Open(name)
	}
	var info fs.FileInfo
	if err == nil {
		if info, err = f.Stat(); err == nil && info.IsDir() {
			err = fs.ErrInvalid
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		s.log.Error("Failed to open file : " + p)
		return sendErr(r, httpd.Code500InternalServerError, "Failed to read existing file")
	}
	defer f.Close()
	r.RespSetType(contentTypeFromFile(name))
	for {
		n, err := f.Read(s.scratch)
		if n > 0 {
			if err := r.RespSendChunk(s.scratch[:n]); err != nil {
				s.log.Error("File sending failed!")
				return errFail
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.log.Error("Failed to read file : " + p)
			return errFail // the client sees a cut-off body
		}
	}
	s.log.Info("File sending complete")
	return r.RespSendChunk(nil)
}

// cleanName decodes a URI path once into an fs.FS name, refusing anything
// that is not a clean path below the root.
func cleanName(p string) (string, bool) {
	dec, err := url.PathUnescape(p)
	if err != nil || !utf8.ValidString(dec) || strings.ContainsAny(dec, "\\\x00") || !strings.HasPrefix(dec, "/") {
		return "", false
	}
	name := dec[1:]
	return name, fs.ValidPath(name) && name != "."
}

// contentTypeFromFile is set_content_type_from_file.
func contentTypeFromFile(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html":
		return "text/html"
	case ".js":
		return "application/javascript"
	case ".css":
		return "text/css"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".svg":
		return "text/xml"
	}
	return "text/plain"
}
