package httpd

import (
	"iter"
	"sync/atomic"
	"time"
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

	c           *conn
	rsp         responder // the protocol the request came over
	valid       bool
	headersGone bool // the response has started: request headers are gone

	status   string
	ctype    string
	nfields  int
	head     respHead // the response head once decided: kept here, sending it allocates nothing
	resp     respState
	headOnly bool // HEAD: send the head a GET would get, no body
	wsFrame  bool // called for a WebSocket frame: WSRecvFrame reads it
	async    bool // the copy AsyncHandlerBegin returned
	// Between AsyncHandlerBegin and the copy's completion: the original
	// points to its copy; the copy says whether it was completed (from its
	// goroutine) and whether the original ended the request instead (on
	// the worker).
	asyncCopy  *Req
	completed  *atomic.Bool
	abandoned  bool
	forceClose bool // the session closes after this response

	bodyLimit int64     // Config.MaxReqBodySize or URI.MaxBodySize; 0: none
	bodyRead  int64     // body bytes Recv returned
	tooLarge  bool      // the body outgrew bodyLimit
	started   time.Time // when the request was handed to the worker, for AccessLog
	sent      int64     // body bytes sent, for AccessLog
}

type respState uint8

const (
	respNone      respState = iota // nothing sent
	respRaw                        // the handler wrote raw bytes with Send
	respStreaming                  // head sent, chunks going out
	respDone                       // complete
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
	if r.tooLarge {
		return 0, errContentTooLarge
	}
	n, err := r.rsp.recv(r, buf)
	if n > 0 {
		r.c.h.emit(EventOnData, r.c.fd, n)
		r.bodyRead += int64(n)
		if r.bodyLimit > 0 && r.bodyRead > r.bodyLimit {
			r.tooLarge, r.forceClose = true, true
			return 0, errContentTooLarge
		}
	}
	return n, err
}

// errContentTooLarge is ErrContentTooLarge under ErrSockFail.
var errContentTooLarge = &sockError{kind: ErrSockFail, cause: ErrContentTooLarge}

// Proto returns the protocol the request came over, as net/http names
// it: "HTTP/1.1", "HTTP/1.0" or "HTTP/2.0" ("" for a WebSocket frame).
// ESP-IDF has no such call: it speaks HTTP/1.1 only.
func (r *Req) Proto() string {
	if r == nil || r.rsp == nil {
		return ""
	}
	return r.rsp.proto()
}

// header returns the first request header with that name.
func (r *Req) header(field string) ([]byte, bool) {
	if r == nil || !r.valid || r.headersGone {
		return nil, false
	}
	return r.rsp.header(field)
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
		if r != nil && r.valid && !r.headersGone {
			r.rsp.eachHeader(yield)
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
	return q, q != "" // "/q?" has no query, as on ESP-IDF
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
