// Package bench serves the same endpoints with esphttpd, net/http and
// fasthttp, so that run.sh (through ./server) and bench_test.go load all
// three the same way:
//
//	GET  /hello    -> "Hello World!" (12 bytes, text/plain)
//	POST /echo     -> the request body, read in full first, then sent back
//	GET  /chunked  -> 4 chunks of 1 KiB, each flushed to the socket
//	GET  /headers  -> "Hello World!" with 8 extra response headers
//	GET  /ws       -> WebSocket echo (esphttpd; net/http with gorilla/websocket)
//	GET  /ws-coder -> WebSocket echo (net/http with coder/websocket)
//
// Options add TLS (HTTP/1.1 and, for esphttpd and net/http, h2 by ALPN),
// h2c for net/http, and several esphttpd handles on one port. Each
// implementation uses its own idiomatic, allocation-conscious API; none is
// tuned beyond what its documentation suggests. It is a module of its own
// so that the library never depends on fasthttp or the WebSocket packages.
package bench

import (
	"crypto/tls"
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

// Options are the variations of a server run.sh needs. The zero value is
// plain HTTP/1.1 on one handle.
type Options struct {
	// TLS serves HTTPS with Cert and Key (a fresh self-signed pair when
	// they are empty). esphttpd and net/http also offer h2 by ALPN.
	TLS       bool
	Cert, Key []byte
	// Tickets is the TLS session ticket policy: TicketsDefault (each
	// implementation's own default), TicketsOn or TicketsOff.
	Tickets Tickets
	// H2C makes net/http serve prior-knowledge h2c (http.Server.Protocols,
	// the bundled x/net/http2; x/net's h2c package is deprecated for it).
	// esphttpd always does; fasthttp cannot.
	H2C bool
	// Handles is how many esphttpd handles share the port (Config.ReusePort
	// when more than 1); 0 means 1.
	Handles int
}

// Tickets is a TLS session ticket policy.
type Tickets string

// The ticket policies of Options.Tickets and the server's -tickets flag.
const (
	TicketsDefault Tickets = "default"
	TicketsOn      Tickets = "on"
	TicketsOff     Tickets = "off"
)

// Start serves the endpoints with impl on addr ("127.0.0.1:0" picks a port).
func Start(impl, addr string, o Options) (Server, error) {
	if err := o.check(impl); err != nil {
		return nil, err
	}
	if o.TLS && len(o.Cert) == 0 {
		o.Cert, o.Key = SelfSigned()
	}
	switch impl {
	case "esphttpd":
		return startESP(addr, o)
	case "nethttp":
		return startNetHTTP(addr, o)
	case "fasthttp":
		return startFastHTTP(addr, o)
	}
	return nil, fmt.Errorf("unknown -impl %q (want esphttpd, nethttp or fasthttp)", impl)
}

// check rejects what impl cannot do, naming the option.
func (o *Options) check(impl string) error {
	switch {
	case o.Tickets == "":
		o.Tickets = TicketsDefault
	case o.Tickets != TicketsDefault && o.Tickets != TicketsOn && o.Tickets != TicketsOff:
		return fmt.Errorf("tickets %q: want default, on or off", o.Tickets)
	}
	switch {
	case o.Handles < 0:
		return fmt.Errorf("handles %d: want 1 or more", o.Handles)
	case o.Handles > 1 && impl != "esphttpd":
		return fmt.Errorf("handles %d: only esphttpd runs several handles", o.Handles)
	case o.H2C && impl == "fasthttp":
		return errors.New("h2c: fasthttp has no HTTP/2")
	case o.H2C && o.TLS:
		return errors.New("h2c and TLS exclude each other")
	}
	return nil
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
//   - MaxReqHdrLen 8192 instead of 512, so the headers of any load tool fit;
//   - WSMaxMessageLen MaxEcho (4 MiB) instead of 1 MiB, so that a 1 MiB
//     WebSocket message is well inside the limit, as it is for the others.
//
// Timeouts (5 s), MaxBufferedBody (16 KiB), HTTP/2 (on, 10 streams) and
// everything else are defaults.
func ESPConfig(host string, port uint16) httpd.Config {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.MaxOpenSockets = 6000
	cfg.LRUPurgeEnable = false
	cfg.BacklogConn = 4096
	cfg.MaxReqHdrLen = ESPMaxReqHdrLen
	cfg.WSMaxMessageLen = MaxEcho
	return cfg
}

// ESPMaxReqHdrLen is esphttpd's MaxReqHdrLen in the benchmark; the server's
// -maxreqhdrlen flag changes it for experiments.
var ESPMaxReqHdrLen = 8192

// espServer is one or more handles on one port.
type espServer struct{ hs []*httpd.Handle }

func (s espServer) Addr() string { return s.hs[0].Addr().String() }

func (s espServer) Close() error {
	var errs []error
	for _, h := range s.hs {
		errs = append(errs, h.Stop())
	}
	return errors.Join(errs...)
}

func startESP(addr string, o Options) (Server, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portStr, err)
	}
	var s espServer
	for i := range max(o.Handles, 1) {
		cfg := ESPConfig(host, uint16(port))
		cfg.ReusePort = o.Handles > 1
		if i > 0 { // the first handle may have picked the port
			cfg.ServerPort = uint16(s.hs[0].Port())
		}
		h, err := startESPHandle(cfg, o)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.hs = append(s.hs, h)
	}
	return s, nil
}

// startESPHandle starts one handle, over TLS when o says so, and registers
// the endpoints with their own buffers: each handle's handlers run on that
// handle's worker.
func startESPHandle(cfg httpd.Config, o Options) (*httpd.Handle, error) {
	h, err := startESPTransport(cfg, o)
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
		espWSEcho(),
	}
	for _, u := range uris {
		if err := h.RegisterURIHandler(u); err != nil {
			h.Stop()
			return nil, err
		}
	}
	return h, nil
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

func startNetHTTP(addr string, o Options) (Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", gorillaEcho)
	mux.HandleFunc("GET /ws-coder", coderEcho)
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
	switch {
	case o.H2C:
		// net/http's own prior-knowledge h2c (the bundled x/net/http2),
		// which replaced the deprecated golang.org/x/net/http2/h2c.
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = &p
	case o.TLS:
		tc, err := tlsConfig(o)
		if err != nil {
			ln.Close()
			return nil, err
		}
		srv.TLSConfig = tc // ServeTLS adds "h2" to its NextProtos
		go srv.ServeTLS(ln, "", "")
		return netServer{srv, ln}, nil
	}
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

func startFastHTTP(addr string, o Options) (Server, error) {
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
	if o.TLS {
		tc, err := tlsConfig(o)
		if err != nil {
			ln.Close()
			return nil, err
		}
		tc.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, tc)
	}
	srv := &fasthttp.Server{Handler: handler, MaxRequestBodySize: MaxEcho}
	go srv.Serve(ln)
	return fastServer{srv, ln}, nil
}
