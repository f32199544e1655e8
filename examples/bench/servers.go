// Package bench serves the same four endpoints with esphttpd, net/http and
// fasthttp, so that run.sh (through ./server) and bench_test.go load all
// three the same way:
//
//	GET  /hello   -> "Hello World!" (12 bytes, text/plain)
//	POST /echo    -> the request body, read in full first, then sent back
//	GET  /chunked -> 4 chunks of 1 KiB, each flushed to the socket
//	GET  /headers -> "Hello World!" with 8 extra response headers
//
// Each implementation uses its own idiomatic, allocation-conscious API; none
// is tuned beyond what its documentation suggests. It is a module of its
// own so that the library never depends on fasthttp.
package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/valyala/fasthttp"
)

// Impls are the implementations Start knows, in the order run.sh uses.
var Impls = []string{"esphttpd", "nethttp", "fasthttp"}

const (
	// Hello is the body of GET /hello and GET /headers.
	Hello = "Hello World!"
	// ChunkSize and Chunks shape GET /chunked.
	ChunkSize = 1 << 10
	Chunks    = 4
	// MaxEcho is the largest POST /echo body every implementation accepts
	// (fasthttp's default MaxRequestBodySize is 4 MiB).
	MaxEcho = 4 << 20
)

var (
	helloBytes = []byte(Hello)
	chunk      = func() []byte {
		b := make([]byte, ChunkSize)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		return b
	}()
	// extraHeaders are the 8 headers GET /headers adds.
	extraHeaders = func() [8][2]string {
		var h [8][2]string
		for i := range h {
			h[i] = [2]string{"X-Bench-" + strconv.Itoa(i+1), "value-" + strconv.Itoa(i+1)}
		}
		return h
	}()
)

// Server is a running server of one implementation.
type Server interface {
	Addr() string // host:port actually listened on
	Close() error
}

// Start serves the endpoints with impl on addr ("127.0.0.1:0" picks a port).
func Start(impl, addr string) (Server, error) {
	switch impl {
	case "esphttpd":
		return startESP(addr)
	case "nethttp":
		return startNetHTTP(addr)
	case "fasthttp":
		return startFastHTTP(addr)
	}
	return nil, fmt.Errorf("unknown -impl %q (want esphttpd, nethttp or fasthttp)", impl)
}

// ---- esphttpd ----

// ESPConfig is the esphttpd configuration the benchmark runs: ESP-IDF's
// defaults, except for what a device never sees:
//   - MaxOpenSockets 6000 (the default 7 is for a device) with LRU purge off,
//     so 256 keep-alive clients and 5000 idle ones are all served;
//   - BacklogConn 4096, the listen backlog net/http and fasthttp get from Go
//     (the system's somaxconn); ESP-IDF's 5 drops SYNs when wrk opens 64
//     or 256 connections at once, and every drop costs the client a 1 s
//     retransmission;
//   - MaxReqHdrLen 8192 instead of 512, so the headers of any load tool fit.
//
// Timeouts (5 s), MaxBufferedBody (16 KiB) and everything else are defaults.
func ESPConfig(host string, port uint16) httpd.Config {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.MaxOpenSockets = 6000
	cfg.LRUPurgeEnable = false
	cfg.BacklogConn = 4096
	cfg.MaxReqHdrLen = ESPMaxReqHdrLen
	return cfg
}

// ESPMaxReqHdrLen is esphttpd's MaxReqHdrLen in the benchmark; the server's
// -maxreqhdrlen flag changes it for experiments.
var ESPMaxReqHdrLen = 8192

type espServer struct{ h *httpd.Handle }

func (s espServer) Addr() string { return s.h.Addr().String() }
func (s espServer) Close() error { return s.h.Stop() }

func startESP(addr string) (Server, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portStr, err)
	}
	h, err := httpd.Start(ESPConfig(host, uint16(port)))
	if err != nil {
		return nil, err
	}
	// Every handler runs on the one worker goroutine, so the echo buffer
	// needs no lock and is reused by every request.
	var echoBuf []byte
	uris := []*httpd.URI{
		{URI: "/hello", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSetType("text/plain")
			return r.RespSendStr(Hello)
		}},
		{URI: "/headers", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSetType("text/plain")
			for _, kv := range extraHeaders {
				if err := r.RespSetHdr(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return r.RespSendStr(Hello)
		}},
		{URI: "/chunked", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			r.RespSetType("text/plain")
			for range Chunks {
				if err := r.RespSendChunk(chunk); err != nil {
					return err
				}
			}
			return r.RespSendChunk(nil)
		}},
		{URI: "/echo", Method: httpd.POST, Handler: func(r *httpd.Req) error {
			if r.ContentLen > MaxEcho {
				return r.RespSendErr(httpd.Code413ContentTooLarge, "")
			}
			if want := int(r.ContentLen); cap(echoBuf) < want {
				echoBuf = make([]byte, want)
			}
			n := 0
			for {
				if n == cap(echoBuf) { // a chunked body longer than the buffer
					echoBuf = append(echoBuf[:n], 0)[:n]
				}
				k, err := r.Recv(echoBuf[n:cap(echoBuf)])
				n += k
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				if n > MaxEcho {
					return errors.New("echo body too large")
				}
			}
			r.RespSetType(httpd.TypeOctet)
			return r.RespSend(echoBuf[:n])
		}},
	}
	for _, u := range uris {
		if err := h.RegisterURIHandler(u); err != nil {
			h.Stop()
			return nil, err
		}
	}
	return espServer{h}, nil
}

// ---- net/http ----

type netServer struct {
	srv *http.Server
	ln  net.Listener
}

func (s netServer) Addr() string { return s.ln.Addr().String() }
func (s netServer) Close() error { return s.srv.Close() }

// echoPool holds net/http's echo buffers: its handlers run concurrently.
var echoPool sync.Pool

func startNetHTTP(addr string) (Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(helloBytes)
	})
	mux.HandleFunc("GET /headers", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain")
		for _, kv := range extraHeaders {
			h.Set(kv[0], kv[1])
		}
		w.Write(helloBytes)
	})
	mux.HandleFunc("GET /chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fl := w.(http.Flusher)
		for range Chunks {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			fl.Flush()
		}
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxEcho {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		// Read the whole body before answering: net/http may refuse body
		// reads once the response has started.
		var bp *[]byte
		if v := echoPool.Get(); v != nil {
			bp = v.(*[]byte)
		} else {
			bp = new([]byte)
		}
		defer echoPool.Put(bp)
		var body []byte
		if r.ContentLength >= 0 {
			if cap(*bp) < int(r.ContentLength) {
				*bp = make([]byte, r.ContentLength)
			}
			body = (*bp)[:r.ContentLength]
			if _, err := io.ReadFull(r.Body, body); err != nil {
				return
			}
		} else {
			b, err := io.ReadAll(io.LimitReader(r.Body, MaxEcho))
			if err != nil {
				return
			}
			body = b
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	return netServer{srv, ln}, nil
}

// ---- fasthttp ----

type fastServer struct {
	srv *fasthttp.Server
	ln  net.Listener
}

func (s fastServer) Addr() string { return s.ln.Addr().String() }
func (s fastServer) Close() error { return s.srv.Shutdown() }

// chunkStream yields Chunks reads of ChunkSize bytes; fasthttp writes each
// Read as one chunk and flushes it, without the goroutine and pipe that
// SetBodyStreamWriter costs.
type chunkStream struct{ left int }

func (c *chunkStream) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	c.left--
	return copy(p, chunk), nil
}

func startFastHTTP(addr string) (Server, error) {
	handler := func(ctx *fasthttp.RequestCtx) {
		switch string(ctx.Path()) {
		case "/hello":
			if !ctx.IsGet() {
				ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
				return
			}
			ctx.SetContentType("text/plain")
			ctx.SetBody(helloBytes)
		case "/headers":
			if !ctx.IsGet() {
				ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
				return
			}
			ctx.SetContentType("text/plain")
			for _, kv := range extraHeaders {
				ctx.Response.Header.Set(kv[0], kv[1])
			}
			ctx.SetBody(helloBytes)
		case "/chunked":
			if !ctx.IsGet() {
				ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
				return
			}
			ctx.SetContentType("text/plain")
			ctx.SetBodyStream(&chunkStream{left: Chunks}, -1)
		case "/echo":
			if !ctx.IsPost() {
				ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
				return
			}
			ctx.SetContentType("application/octet-stream")
			// The request body stays valid until the response is written.
			ctx.Response.SetBodyRaw(ctx.PostBody())
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &fasthttp.Server{Handler: handler, MaxRequestBodySize: MaxEcho}
	go srv.Serve(ln)
	return fastServer{srv, ln}, nil
}
