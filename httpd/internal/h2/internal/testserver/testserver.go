// Package testserver is a tiny server on the h2 engine with esphttpd's
// shape: an accept loop, a reader goroutine per connection running
// ReadFrame, and ONE worker goroutine running every handler. It speaks
// HTTP/2 with prior knowledge and h2c upgrade (a minimal HTTP/1.1 path
// answers anything else). Used by the h2 tests and by h2specserver.
package testserver

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"golang.org/x/net/http2/hpack"
)

// Handler serves one stream on the worker goroutine. The server calls
// StreamDone after it returns.
type Handler func(c *h2.Conn, ev h2.Event)

// Server is a running test server.
type Server struct {
	Cfg     h2.Config
	Handler Handler
	// PrefaceTimeout bounds the client preface (nanoseconds; atomic so a
	// test may change it while serving).
	PrefaceTimeout atomic.Int64
	// SendTimeout is Default's deadline for ReadData and WriteData.
	SendTimeout time.Duration

	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	q    []job
	sig  chan struct{}
	stop chan struct{}
	nc   map[net.Conn]struct{}
	errs []error
	// Served counts handler runs.
	served int
}

type job struct {
	c  *h2.Conn
	ev h2.Event
}

// Start listens on 127.0.0.1:0 (or addr) and serves. A nil h serves
// Default.
func Start(addr string, cfg *h2.Config, h Handler) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return Serve(ln, cfg, h), nil
}

// StartTLS is Start over TLS with a fresh self-signed certificate, ALPN
// "h2" then "http/1.1" (TLS sits below the engine's io.Reader/io.Writer).
func StartTLS(addr string, cfg *h2.Config, h Handler) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cert, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	tcfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	return Serve(tls.NewListener(ln, tcfg), cfg, h), nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Serve serves on ln (which Close closes).
func Serve(ln net.Listener, cfg *h2.Config, h Handler) *Server {
	s := &Server{Handler: h, ln: ln, sig: make(chan struct{}, 1),
		stop: make(chan struct{}), nc: map[net.Conn]struct{}{}, SendTimeout: 5 * time.Second}
	s.PrefaceTimeout.Store(int64(5 * time.Second))
	if cfg != nil {
		s.Cfg = *cfg
	}
	if s.Handler == nil {
		s.Handler = s.Default
	}
	s.wg.Add(2)
	go s.acceptLoop()
	go s.worker()
	return s
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and waits for its goroutines.
func (s *Server) Close() {
	s.ln.Close()
	close(s.stop)
	s.mu.Lock()
	for nc := range s.nc {
		nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// ConnErrors returns the errors that ended connections so far.
func (s *Server) ConnErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Served reports how many handlers ran.
func (s *Server) Served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.served
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nc[nc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(nc)
	}
}

func (s *Server) record(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.nc, nc)
		s.mu.Unlock()
	}()
	br := bufio.NewReaderSize(nc, 4096)
	nc.SetReadDeadline(time.Now().Add(time.Duration(s.PrefaceTimeout.Load())))
	var c *h2.Conn
	var err error
	if tc, ok := nc.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			s.record(err)
			return
		}
	}
	if tc, ok := nc.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
		c, err = h2.NewServerConn(br, nc, &s.Cfg)
	} else if p, perr := br.Peek(len(h2.ClientPreface)); perr == nil && string(p) == h2.ClientPreface || perr != nil && strings.HasPrefix(h2.ClientPreface, string(p)) {
		c, err = h2.NewServerConn(br, nc, &s.Cfg)
	} else {
		c, err = s.http1(br, nc)
		if c == nil && err == nil {
			return
		}
	}
	if err != nil {
		s.record(err)
		return
	}
	nc.SetReadDeadline(time.Time{})
	for {
		ev, err := c.ReadFrame()
		if err != nil {
			s.record(err)
			var ce *h2.ConnError
			if errors.As(err, &ce) {
				// After GOAWAY: close our side, then drain for a while so
				// the peer reads the GOAWAY instead of a TCP reset caused
				// by unread data (the graceful close httpd needs too).
				if tc, ok := nc.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				nc.SetReadDeadline(time.Now().Add(time.Second))
				io.Copy(io.Discard, br)
			}
			break
		}
		switch ev.Kind {
		case h2.EventRequest, h2.EventHeaderTooLarge:
			s.mu.Lock()
			s.q = append(s.q, job{c, ev})
			s.mu.Unlock()
			select {
			case s.sig <- struct{}{}:
			default:
			}
		}
	}
	c.Close()
}

// http1 answers an HTTP/1.1 request, switching to h2c when asked.
func (s *Server) http1(br *bufio.Reader, nc net.Conn) (*h2.Conn, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(req.Header.Get("Upgrade"), "h2c") && req.Header.Get("HTTP2-Settings") != "" {
		settings, err := h2.DecodeSettingsHeader(req.Header.Get("HTTP2-Settings"))
		if err == nil {
			if _, err := io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"); err != nil {
				return nil, err
			}
			up := &h2.Upgrade{Settings: settings, Method: req.Method, Authority: req.Host,
				Path: req.RequestURI, Body: body}
			for k, vs := range req.Header {
				for _, v := range vs {
					up.Header = append(up.Header, hpack.HeaderField{Name: k, Value: v})
				}
			}
			return h2.NewUpgradedConn(br, nc, &s.Cfg, up)
		}
	}
	msg := "HTTP/1.1 only\n"
	io.WriteString(nc, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"+msg)
	return nil, nil
}

func (s *Server) worker() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(s.q) == 0 {
			s.mu.Unlock()
			select {
			case <-s.sig:
				continue
			case <-s.stop:
				return
			}
		}
		j := s.q[0]
		s.q = s.q[1:]
		s.served++
		s.mu.Unlock()
		if j.c.Alive(j.ev.Stream) {
			s.Handler(j.c, j.ev)
		}
		j.c.StreamDone(j.ev.Stream)
	}
}

// Body is what Default serves for GET.
var Body = strings.Repeat("hello from esphttpd over HTTP/2\n", 64) // 2 KiB

// Default serves: 431 for a header list too large; /echo echoes the body;
// /big sends 256 KiB; anything else drains the body and sends Body.
func (s *Server) Default(c *h2.Conn, ev h2.Event) {
	deadline := time.Now().Add(s.SendTimeout)
	if ev.Kind == h2.EventHeaderTooLarge {
		c.WriteHeaders(ev.Stream, 431, nil, true)
		return
	}
	var body []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.ReadData(ev.Stream, buf, deadline)
		body = append(body, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.ResetStream(ev.Stream, 0x2)
			return
		}
		if len(body) > 1<<20 {
			c.WriteHeaders(ev.Stream, 413, nil, true)
			return
		}
	}
	out := []byte(Body)
	switch {
	case strings.HasPrefix(ev.Path, "/echo"):
		out = body
	case strings.HasPrefix(ev.Path, "/big"):
		out = []byte(strings.Repeat("0123456789abcdef", 16<<10))
	}
	hdr := []hpack.HeaderField{{Name: "content-type", Value: "text/plain"},
		{Name: "content-length", Value: strconv.Itoa(len(out))}}
	if ev.Method == "HEAD" {
		c.WriteHeaders(ev.Stream, 200, hdr, true)
		return
	}
	if err := c.WriteHeaders(ev.Stream, 200, hdr, len(out) == 0); err != nil || len(out) == 0 {
		return
	}
	c.WriteData(ev.Stream, out, true, deadline)
}
