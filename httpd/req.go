package httpd

import (
	"io"
	"iter"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
)

// Req is the request a handler serves (httpd_req_t). The exported fields are
// httpd_req_t's members; the methods are the httpd_req_* and httpd_resp_*
// functions. A Req is valid until its handler returns (or, after
// AsyncHandlerBegin, until AsyncHandlerComplete); the server reuses it for
// the session's next request, so do not keep it.
type Req struct {
	// Handle is the server the request arrived on.
	Handle *Handle
	// Method is the request method.
	Method Method
	// URI is the request target as sent: the path and an optional
	// "?query".
	URI string
	// ContentLen is the body length announced by Content-Length; 0 for a
	// chunked body, which Recv reads until io.EOF.
	ContentLen int64
	// UserCtx is the UserCtx of the matched URI handler.
	UserCtx any
	// SessCtx is the session context; set it (with FreeCtx) to keep data
	// across the session's requests.
	SessCtx any
	// FreeCtx frees SessCtx when it is replaced or the session closes.
	FreeCtx FreeCtxFunc
	// IgnoreSessCtxChanges keeps the server from freeing a replaced
	// SessCtx: the handler manages it.
	IgnoreSessCtxChanges bool

	c     *conn
	valid bool
	head  *h1.Request // nil once the response has started: headers are gone

	status     string
	ctype      string
	nfields    int
	resp       respState
	headOnly   bool      // HEAD: send the head a GET would get, no body
	wsFrame    bool      // called for a WebSocket frame: WSRecvFrame reads it
	st         *h2Stream // the HTTP/2 stream served, nil on HTTP/1.1
	async      bool      // the copy AsyncHandlerBegin returned
	forceClose bool      // the response announces Connection: close
}

type respState uint8

const (
	respNone    respState = iota // nothing sent
	respRaw                      // the handler wrote raw bytes with Send
	respChunked                  // chunked head sent, chunks going out
	respDone                     // complete
)

// Sockfd returns the id of the request's session (httpd_req_to_sockfd), or
// -1 for an invalid request.
func (r *Req) Sockfd() int {
	if r == nil || !r.valid {
		return -1
	}
	return r.c.fd
}

// Recv reads request body bytes into buf (httpd_req_recv) and returns how
// many. Call it as often as needed: it returns io.EOF once the whole body
// has been read, io.ErrUnexpectedEOF when the client closed the connection
// first, and an error matching ErrSockTimeout when nothing arrived within
// Config.RecvWaitTimeout (the handler may call it again). Chunked bodies are
// decoded. An "Expect: 100-continue" request gets its 100 Continue on the
// first call.
func (r *Req) Recv(buf []byte) (int, error) {
	if r == nil || !r.valid {
		return 0, ErrSockInvalid
	}
	if r.st != nil {
		return r.h2Recv(buf)
	}
	c := r.c
	if c.body.finished() {
		return 0, io.EOF
	}
	if c.body.broken {
		return 0, ErrSockFail
	}
	if len(buf) == 0 {
		return 0, nil
	}
	if c.head.Expect100 && !c.sent100 && r.resp == respNone {
		c.sent100 = true
		if err := c.sendAll(continue100); err != nil {
			return 0, err
		}
	}
	c.nc.SetReadDeadline(c.bodyDeadline())
	n, err := c.readBody(buf)
	if n > 0 {
		c.body.streamed += int64(n)
		c.h.emit(EventOnData, c.fd, n)
	}
	return n, err
}

// bodyDeadline is RecvWaitTimeout from now, as ESP-IDF gives every recv,
// but no later than Config.MinBodyRate allows: a handler reading a body
// holds the worker, so a client trickling bytes just fast enough to beat
// each timeout must not hold it for ever.
func (c *conn) bodyDeadline() time.Time {
	now := time.Now()
	deadline := now.Add(c.h.cfg.RecvWaitTimeout)
	rate := c.h.cfg.MinBodyRate
	if rate <= 0 {
		return deadline
	}
	b := &c.body
	if b.streamStart.IsZero() {
		b.streamStart = now
	}
	allowed := c.h.cfg.RecvWaitTimeout + time.Duration(float64(b.streamed)/float64(rate)*float64(time.Second))
	if limit := b.streamStart.Add(allowed); limit.Before(deadline) {
		return limit
	}
	return deadline
}

var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// header returns the first request header with that name.
func (r *Req) header(field string) ([]byte, bool) {
	if r == nil || !r.valid {
		return nil, false
	}
	if r.st != nil {
		if r.resp != respNone {
			return nil, false
		}
		return r.st.header(field)
	}
	if r.head == nil {
		return nil, false
	}
	return r.head.Header(field)
}

// HdrValueLen returns the length of the named request header's value, or 0
// when it is absent (httpd_req_get_hdr_value_len). Names are
// case-insensitive. Headers are gone once the response has started.
func (r *Req) HdrValueLen(field string) int {
	v, _ := r.header(field)
	return len(v)
}

// HdrValueStr returns the named request header's value
// (httpd_req_get_hdr_value_str), or ErrNotFound. Headers are gone once the
// response has started, as on ESP-IDF: copy what you need first.
func (r *Req) HdrValueStr(field string) (string, error) {
	v, ok := r.header(field)
	if !ok {
		return "", ErrNotFound
	}
	return string(v), nil
}

// HdrAll yields every request header field in the order received, as
// Zephyr's http_server sample walks them. ESP-IDF has no such call; like
// the other header accessors it yields nothing once the response started.
func (r *Req) HdrAll() iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		if r != nil && r.valid && r.st != nil && r.resp == respNone {
			for _, f := range r.st.fields() {
				if !yield(f.Name, f.Value) {
					return
				}
			}
			return
		}
		if r == nil || !r.valid || r.head == nil {
			return
		}
		for _, f := range r.head.Headers {
			if !yield(string(f.Name), string(f.Value)) {
				return
			}
		}
	}
}

// queryBytes returns the part of the URI after '?'.
func (r *Req) queryBytes() (string, bool) {
	if r == nil || !r.valid {
		return "", false
	}
	i := indexByteString(r.URI, '?')
	if i < 0 {
		return "", false
	}
	q := r.URI[i+1:]
	if j := indexByteString(q, '#'); j >= 0 {
		q = q[:j]
	}
	return q, true
}

// URLQueryLen returns the length of the URL's query string, or 0
// (httpd_req_get_url_query_len).
func (r *Req) URLQueryLen() int {
	q, _ := r.queryBytes()
	return len(q)
}

// URLQueryStr returns the URL's query string without the '?'
// (httpd_req_get_url_query_str), or ErrNotFound. It is not decoded.
func (r *Req) URLQueryStr() (string, error) {
	q, ok := r.queryBytes()
	if !ok {
		return "", ErrNotFound
	}
	return q, nil
}

// CookieValue returns the value of the named cookie from the Cookie request
// header (httpd_req_get_cookie_val), or ErrNotFound.
func (r *Req) CookieValue(name string) (string, error) {
	v, ok := r.header("Cookie")
	if !ok {
		return "", ErrNotFound
	}
	return CookieKeyValue(string(v), name)
}

// path returns the URI without query and fragment: what matchers see.
func (r *Req) path() string {
	u := r.URI
	if i := indexByteString(u, '?'); i >= 0 {
		u = u[:i]
	}
	if i := indexByteString(u, '#'); i >= 0 {
		u = u[:i]
	}
	return u
}

func indexByteString(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}

// uriString turns the parsed target into a string, reusing the previous
// request's string when the bytes are the same, so a keep-alive client
// polling one URI costs no allocation.
func (c *conn) uriString(b []byte) string {
	if string(b) == c.lastURI { // compiled without allocating
		return c.lastURI
	}
	if u := c.h.exactTemplate(b); u != "" {
		c.lastURI = u
		return u
	}
	c.lastURI = string(b)
	return c.lastURI
}

// exactTemplate returns a registered template equal to b, letting the
// request share the template's string.
func (h *Handle) exactTemplate(b []byte) string {
	for _, u := range *h.uris.Load() {
		if string(b) == u.URI {
			return u.URI
		}
	}
	return ""
}
