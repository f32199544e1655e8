package httpd

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/esphttpd/esphttpd/uri_match"
)

// Zephyr's HTTP server describes what it serves as resources of a service;
// this file builds that model on the handle: a Zephyr service is one
// Handle (ServiceConfig), and RegisterResource turns each resource
// description into one URI handler.

// MethodSet is a set of methods, Zephyr's bitmask_of_supported_http_methods.
type MethodSet uint64

// Methods returns the set of the given methods (BIT(HTTP_GET) | ...).
func Methods(ms ...Method) MethodSet {
	var s MethodSet
	for _, m := range ms {
		if m >= 0 && m < 64 {
			s |= 1 << uint(m)
		}
	}
	return s
}

// Has reports whether m is in the set.
func (s MethodSet) Has(m Method) bool { return m >= 0 && m < 64 && s&(1<<uint(m)) != 0 }

// ResourceDetail is what every resource type has (http_resource_detail).
type ResourceDetail struct {
	// Methods are the methods served; others get 405. Static resources
	// default to GET (and HEAD with it).
	Methods MethodSet
	// ContentEncoding is the encoding of static content, e.g. "gzip".
	ContentEncoding string
	// ContentType is sent as Content-Type; "" sends text/html.
	ContentType string
}

// StaticResource is content fixed at registration (http_resource_detail_static).
type StaticResource struct {
	ResourceDetail
	Data []byte
}

// DataStatus says where a dynamic resource's request data stands
// (enum http_data_status).
type DataStatus int

// The data statuses.
const (
	DataAborted DataStatus = -1 // the client went away before the body ended
	DataMore    DataStatus = 0  // more body data follows
	DataFinal   DataStatus = 1  // the last piece of the body
)

// String returns Zephyr's name without the HTTP_SERVER_DATA_ prefix.
func (s DataStatus) String() string {
	switch s {
	case DataAborted:
		return "ABORTED"
	case DataMore:
		return "MORE"
	}
	return "FINAL"
}

// DynamicFunc is a dynamic resource's callback (http_resource_dynamic_cb_t).
// It is called with each piece of the request body in data (a prefix of the
// resource's Buffer) and the status of that piece; a request without a body
// gets one call with DataFinal and no data. It returns how many bytes of
// Buffer to send back (the callback writes them into Buffer; returning
// len(data) echoes), or 0 for nothing; after DataFinal it is called again,
// with no data, for as long as it returns more than 0. An error closes the
// connection. After DataAborted its return value is ignored.
type DynamicFunc func(client *Req, status DataStatus, data []byte, userData any) (int, error)

// DynamicResource is served by a callback (http_resource_detail_dynamic).
// The response is sent with chunked coding as the callback produces it.
// Zephyr guarantees one client at a time per resource; here every handler
// runs on the one worker, so a second client simply waits its turn.
type DynamicResource struct {
	ResourceDetail
	Callback DynamicFunc
	// Buffer is shared between server and callback: the request data in,
	// the response data out (data_buffer). 1 KiB when nil.
	Buffer   []byte
	UserData any
}

// WebsocketFunc takes over a WebSocket connection after the upgrade
// (http_resource_websocket_cb_t). It runs on the worker: start a goroutine
// for the connection and return. A non-nil error closes the connection.
type WebsocketFunc func(conn net.Conn, userData any) error

// WebsocketResource hands upgraded connections to the application
// (http_resource_detail_websocket). The server answers the handshake and
// then neither reads nor writes the connection: the application speaks
// WebSocket on it (as Zephyr's callback receives the socket). The session
// still counts toward MaxOpenSockets until the application closes conn.
type WebsocketResource struct {
	ResourceDetail
	Callback WebsocketFunc
	UserData any
}

// ServiceConfig returns the config of a Zephyr service (HTTP_SERVICE_DEFINE
// with host, port, concurrent clients and backlog) on top of the ESP-IDF
// defaults, with fnmatch wildcards for resource paths (Zephyr's
// CONFIG_HTTP_SERVER_RESOURCE_WILDCARD) and room for 32 resources. Port 0
// picks an ephemeral port, reported by Handle.Port as Zephyr writes it back.
func ServiceConfig(host string, port uint16, concurrent, backlog int) Config {
	cfg := DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.MaxOpenSockets, cfg.BacklogConn = concurrent, backlog
	cfg.URIMatchFn = uri_match.FnmatchURI
	cfg.MaxURIHandlers = 32
	return cfg
}

// RegisterResource serves detail, a *StaticResource, *DynamicResource or
// *WebsocketResource, at path (HTTP_RESOURCE_DEFINE). With a fnmatch
// matcher (ServiceConfig) path may be a pattern such as "/foo*". Each
// resource takes one URI handler slot.
func (h *Handle) RegisterResource(path string, detail any) error {
	var handler HandlerFunc
	u := URI{URI: path, Method: ANY}
	switch d := detail.(type) {
	case *StaticResource:
		s, err := newStatic(d)
		if err != nil {
			return err
		}
		handler = s.serve
	case *DynamicResource:
		if d.Callback == nil {
			return fmt.Errorf("%w: DynamicResource.Callback is nil", ErrInvalidArg)
		}
		handler = (&dynamic{d: d}).serve
	case *WebsocketResource:
		if d.Callback == nil {
			return fmt.Errorf("%w: WebsocketResource.Callback is nil", ErrInvalidArg)
		}
		handler = (&websocketResource{d: d}).serve
	default:
		return fmt.Errorf("%w: resource detail of type %T", ErrInvalidArg, detail)
	}
	u.Handler = handler
	return h.RegisterURIHandler(&u)
}

// methodAllowed answers 405 for a method the resource does not serve.
func methodAllowed(r *Req, allowed MethodSet) bool {
	if allowed.Has(r.Method) {
		return true
	}
	r.RespSendErr(Code405MethodNotAllowed, "")
	return false
}

// static serves a StaticResource.
type static struct {
	d       *StaticResource
	allowed MethodSet
	etag    string
	decoded []byte // the content without its encoding, for clients that do not accept it
}

func newStatic(d *StaticResource) (*static, error) {
	s := &static{d: d, allowed: d.Methods}
	if s.allowed == 0 {
		s.allowed = Methods(GET)
	}
	if s.allowed.Has(GET) {
		s.allowed |= Methods(HEAD)
	}
	sum := sha256.Sum256(d.Data)
	s.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if enc := d.ContentEncoding; enc != "" && !strings.EqualFold(enc, "identity") {
		if strings.EqualFold(enc, "gzip") {
			zr, err := gzip.NewReader(bytes.NewReader(d.Data))
			if err != nil {
				return nil, fmt.Errorf("%w: StaticResource.Data is not gzip: %v", ErrInvalidArg, err)
			}
			if s.decoded, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("%w: StaticResource.Data is not gzip: %v", ErrInvalidArg, err)
			}
		}
	}
	return s, nil
}

func (s *static) serve(r *Req) error {
	if !methodAllowed(r, s.allowed) {
		return nil
	}
	if inm, err := r.HdrValueStr("If-None-Match"); err == nil && etagMatches(inm, s.etag) {
		return r.sendNotModified(s.etag)
	}
	body := s.d.Data
	if enc := s.d.ContentEncoding; enc != "" && !strings.EqualFold(enc, "identity") {
		r.RespSetHdr("Vary", "Accept-Encoding")
		accept, _ := r.HdrValueStr("Accept-Encoding")
		switch {
		case acceptsEncoding(accept, enc):
			r.RespSetHdr("Content-Encoding", enc)
		case s.decoded != nil:
			body = s.decoded
		default:
			r.RespSetStatus("406 Not Acceptable")
			return r.RespSendStr("Content is only available as " + enc)
		}
	}
	r.RespSetHdr("ETag", s.etag)
	if s.d.ContentType != "" {
		r.RespSetType(s.d.ContentType)
	}
	return r.RespSend(body)
}

// sendNotModified answers 304 with the entity tag: a 304 has neither body
// nor Content-Length (the framing decision leaves both out).
func (r *Req) sendNotModified(etag string) error {
	r.RespSetStatus("304 Not Modified")
	r.RespSetHdr("ETag", etag)
	return r.RespSend(nil)
}

// etagMatches applies If-None-Match: "*" or a list holding the tag (weak
// comparison, as RFC 9110 asks for GET and HEAD).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// acceptsEncoding reports whether an Accept-Encoding value allows enc (a
// listed token, or "*", with a q-value above 0). An absent header allows
// anything (RFC 9110 section 12.5.3), but clients that omit it rarely
// decode, so like most servers we send the identity form then.
func acceptsEncoding(accept, enc string) bool {
	for _, item := range strings.Split(accept, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(token, enc) && token != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// dynamic serves a DynamicResource.
type dynamic struct {
	d *DynamicResource
}

func (dy *dynamic) serve(r *Req) error {
	d := dy.d
	if !methodAllowed(r, d.Methods) {
		return nil
	}
	buf := d.Buffer
	if len(buf) == 0 {
		buf = make([]byte, 1024)
		d.Buffer = buf
	}
	if d.ContentType != "" {
		r.RespSetType(d.ContentType)
	}
	call := func(status DataStatus, n int) (int, error) {
		out, err := d.Callback(r, status, buf[:n], d.UserData)
		if err == nil && (out < 0 || out > len(buf)) {
			err = fmt.Errorf("httpd: dynamic resource callback returned %d for a %d-byte buffer", out, len(buf))
		}
		return out, err
	}
	var body bodyPieces
	for {
		n, err := body.next(r, buf)
		status := DataMore
		switch {
		case err == io.EOF:
			status = DataFinal
		case err != nil:
			d.Callback(r, DataAborted, buf[:n], d.UserData)
			return err
		}
		out, cerr := call(status, n)
		if cerr != nil {
			return cerr
		}
		if out > 0 {
			if err := r.RespSendChunk(buf[:out]); err != nil {
				return err
			}
		}
		if status == DataFinal {
			for out > 0 {
				if out, cerr = call(DataFinal, 0); cerr != nil {
					return cerr
				}
				if out > 0 {
					if err := r.RespSendChunk(buf[:out]); err != nil {
						return err
					}
				}
			}
			return r.RespSendChunk(nil)
		}
	}
}

// bodyPieces cuts a request body into buffer-sized pieces for a dynamic
// resource, and knows which piece is the last one without asking the
// protocol: when a piece fills the buffer it reads one byte ahead, which
// either is io.EOF (the piece was the last) or starts the next piece.
type bodyPieces struct {
	ahead    [1]byte
	hasAhead bool
}

// next fills buf from the body; it returns io.EOF with the last piece
// (possibly empty) once the body has ended.
func (b *bodyPieces) next(r *Req, buf []byte) (int, error) {
	n := 0
	if b.hasAhead {
		buf[0], n, b.hasAhead = b.ahead[0], 1, false
	}
	for n < len(buf) {
		k, err := r.Recv(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	k, err := r.Recv(b.ahead[:])
	if err == io.EOF {
		return n, io.EOF
	}
	b.hasAhead = k == 1
	if err != nil && k == 0 {
		return n, err
	}
	return n, nil
}

var errWSRefused = errors.New("httpd: not a WebSocket handshake")

// websocketResource serves a WebsocketResource.
type websocketResource struct {
	d *WebsocketResource
}

func (wr *websocketResource) serve(r *Req) error {
	d := wr.d
	allowed := d.Methods
	if allowed == 0 {
		allowed = Methods(GET)
	}
	if !methodAllowed(r, allowed) {
		return nil
	}
	key, code, ok := wsUpgradeKey(r)
	if !ok {
		r.Handle.refuseWSUpgrade(r, code)
		return errWSRefused
	}
	if _, err := r.Send(appendWSAccept(nil, key, "")); err != nil {
		return err
	}
	conn, err := r.Hijack()
	if err != nil {
		return err
	}
	var cbErr error
	if !r.Handle.guard("websocket resource callback", func() { cbErr = d.Callback(conn, d.UserData) }) || cbErr != nil {
		conn.Close()
		if cbErr == nil {
			cbErr = errors.New("httpd: websocket resource callback panicked")
		}
		return cbErr
	}
	return nil
}
