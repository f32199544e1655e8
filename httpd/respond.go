package httpd

import (
	"net"
	"strconv"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
)

// responder is the protocol under a Req: the request's headers and body,
// and the way its response goes out. The HTTP/1.1 state of a session
// (h1State) is one; an HTTP/2 stream (h2Stream) is another. req.go,
// resp.go and resource.go speak only to this interface, so a protocol is
// added by implementing it, not by branching there. Every method runs on
// the goroutine that serves the request: the worker, or an async request's
// goroutine after AsyncHandlerBegin.
type responder interface {
	// header returns the first request header field named name
	// (case-insensitive).
	header(name string) ([]byte, bool)
	// eachHeader yields the request's header fields in the order received
	// until yield returns false.
	eachHeader(yield func(name, value string) bool)
	// recv reads decoded request body bytes into p: io.EOF at the end of
	// the body, io.ErrUnexpectedEOF when the peer left before it, an
	// error matching ErrSockTimeout when nothing came in time.
	recv(r *Req, p []byte) (int, error)
	// send writes the response: the head first when hd is not nil (the
	// first call of a response), then body and str (the body is given as
	// bytes or as a string), and ends the response when last. Body bytes
	// of a HEAD request or of a response whose framing has no body are
	// dropped.
	send(r *Req, hd *respHead, body []byte, str string, last bool) error
	// sendRaw writes bytes the handler framed itself as an HTTP/1.x
	// response (httpd_send).
	sendRaw(r *Req, p []byte) (int, error)
	// hijack hands the connection to the caller.
	hijack(r *Req) (net.Conn, error)
	// finish ends the request after its handler (and, for an async
	// request, after AsyncHandlerComplete): failed says the handler
	// failed. Common teardown has run before it.
	finish(r *Req, failed bool)
	// proto names the protocol as a request line would: "HTTP/1.1",
	// "HTTP/1.0", "HTTP/2.0"; "" for a WebSocket frame.
	proto() string
}

// respHead is a response head as the handler set it up, with its framing
// decided: every protocol writes it as it is, and none edits it after.
type respHead struct {
	status string // full status text, "200 OK"
	code   int    // its number
	ctype  string
	fields []h1.Field
	// framing is FramingLength (with length), FramingChunked for a body
	// streamed in pieces of unknown total (each protocol frames those its
	// own way), or FramingNone for statuses that have no body.
	framing h1.Framing
	length  int64
}

// newHead builds the head of r's response for a body of n bytes, or of
// unknown length when streamed. Request headers are gone from here on, as
// on ESP-IDF, where sending reuses the buffer that held them.
func (r *Req) newHead(n int64, streamed bool) respHead {
	hd := respHead{status: r.status, ctype: r.ctype, fields: r.c.fields[:r.nfields], length: n}
	if hd.status == "" {
		hd.status = Status200
	}
	if hd.ctype == "" {
		hd.ctype = TypeText
	}
	hd.code = statusCode(hd.status)
	switch {
	case hd.code < 200 || hd.code == 204 || hd.code == 304:
		// RFC 9110 6.4.1: these never have content, whatever the handler
		// sends, and a Content-Length would describe another response.
		hd.framing = h1.FramingNone
	case streamed:
		hd.framing = h1.FramingChunked
	default:
		hd.framing = h1.FramingLength
	}
	r.headersGone = true
	return hd
}

// hasBody reports whether the response carries body bytes at all.
func (hd *respHead) hasBody(headOnly bool) bool {
	return !headOnly && hd.framing != h1.FramingNone && !(hd.framing == h1.FramingLength && hd.length == 0)
}

// statusCode turns a status line such as "404 Not Found" into 404; a
// status text that does not start with three digits counts as 500.
func statusCode(status string) int {
	if len(status) >= 3 && (len(status) == 3 || status[3] == ' ') {
		if n, err := strconv.Atoi(status[:3]); err == nil && n >= 100 {
			return n
		}
	}
	return 500
}
