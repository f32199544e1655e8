package httpd

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
)

// httpResponder is the responder of a request ToHTTP serves: the request
// is net/http's, the response goes out through its ResponseWriter. It runs
// on the ServeHTTP goroutine, or on an async request's goroutine while
// ServeHTTP waits for AsyncHandlerComplete.
type httpResponder struct {
	w       http.ResponseWriter
	req     *http.Request
	rc      *http.ResponseController
	c       *conn
	timeout time.Duration // RecvWaitTimeout: each body read's deadline

	deadlineSet bool      // a read deadline is armed on the connection or stream
	bodyDone    bool      // the body was read to its end
	raw         *rawRelay // the handler writes raw HTTP/1.x bytes (Send)
	fullDuplex  bool      // EnableFullDuplex took (HTTP/1.x): closeUnreadBody closes the body
	finished    bool      // finish ran: the response is over
	abort       bool      // ServeHTTP must abort the response (net/http's ErrAbortHandler)
}

func newHTTPResponder(w http.ResponseWriter, req *http.Request, timeout time.Duration) *httpResponder {
	rc := http.NewResponseController(w)
	// A handle lets a handler read the body after its response started
	// (an echo streaming chunks back); HTTP/1.x under net/http would
	// otherwise discard the unread body when the head goes out.
	fullDuplex := rc.EnableFullDuplex() == nil
	return &httpResponder{w: w, req: req, rc: rc, timeout: timeout, fullDuplex: fullDuplex}
}

// header answers Host from http.Request.Host, where net/http moved it
// (from :authority over HTTP/2), the rest from http.Request.Header.
func (p *httpResponder) header(name string) ([]byte, bool) {
	if strings.EqualFold(name, "host") {
		return []byte(p.req.Host), p.req.Host != ""
	}
	vs := p.req.Header.Values(name)
	if len(vs) == 0 {
		return nil, false
	}
	return []byte(vs[0]), true
}

// eachHeader yields Host first over HTTP/1.x, where a handle's parser
// sees it as a field, then the header map sorted by name: net/http keeps
// no arrival order.
func (p *httpResponder) eachHeader(yield func(name, value string) bool) {
	if p.req.ProtoMajor < 2 && p.req.Host != "" && !yield("Host", p.req.Host) {
		return
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range p.req.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range p.req.Header[name] {
			if !yield(name, v) {
				return
			}
		}
	}
}

// recv reads the body, each read under a fresh RecvWaitTimeout deadline
// as each read of a handle's session is.
func (p *httpResponder) recv(r *Req, b []byte) (int, error) {
	body := p.req.Body
	if body == nil || p.bodyDone {
		return 0, io.EOF
	}
	if p.timeout > 0 {
		// ErrNotSupported (a ResponseWriter that wraps net/http's without
		// Unwrap) leaves the read unbounded, as the server's own
		// ReadTimeout has it.
		if p.rc.SetReadDeadline(time.Now().Add(p.timeout)) == nil {
			p.deadlineSet = true
		}
	}
	n, err := body.Read(b)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		p.bodyDone = true
		p.clearDeadline() // net/http's background read must not time out
		if n > 0 {
			// Bytes first, io.EOF on the next call, as every responder
			// of a handle returns them.
			return n, nil
		}
		return 0, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return n, io.ErrUnexpectedEOF
	}
	return n, sockErr(err)
}

// clearDeadline takes back the read deadline recv set: it would otherwise
// end the connection's (or stream's) later reads.
func (p *httpResponder) clearDeadline() {
	if p.deadlineSet {
		p.rc.SetReadDeadline(time.Time{})
		p.deadlineSet = false
	}
}

// send writes hd through the ResponseWriter's header map and WriteHeader,
// then the body; a streamed body is flushed piece by piece, as a handle
// sends each chunk when it is given.
func (p *httpResponder) send(r *Req, hd *respHead, body []byte, str string, last bool) error {
	if hd != nil {
		hdr := p.w.Header()
		hdr.Set("Content-Type", hd.ctype)
		if hd.framing == h1.FramingLength {
			hdr.Set("Content-Length", strconv.FormatInt(hd.length, 10))
		}
		for _, f := range hd.fields {
			hdr.Add(f.Name, f.Value)
		}
		p.w.WriteHeader(hd.code)
	}
	if r.headOnly || r.head.framing == h1.FramingNone {
		return nil
	}
	var err error
	if body != nil {
		_, err = p.w.Write(body)
	} else if str != "" {
		_, err = io.WriteString(p.w, str)
	}
	if err == nil && r.head.framing == h1.FramingChunked && !last {
		err = p.rc.Flush()
		if errors.Is(err, http.ErrNotSupported) {
			err = nil // the pieces leave when net/http's buffer fills
		}
	}
	if err != nil {
		return sockErr(err)
	}
	return nil
}

// sendRaw relays the HTTP/1.x response the handler writes by hand.
func (p *httpResponder) sendRaw(r *Req, b []byte) (int, error) {
	if p.raw == nil {
		p.raw = &rawRelay{left: -1}
	}
	if err := p.raw.write(r, p.w, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// hijack takes the connection through http.Hijacker; over HTTP/2 there is
// none to take, as on a handle.
func (p *httpResponder) hijack(r *Req) (net.Conn, error) {
	p.clearDeadline()
	nc, brw, err := p.rc.Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		return nil, ErrInvalidState
	}
	if err != nil {
		return nil, sockErr(err)
	}
	nc.SetDeadline(time.Time{})
	p.c.hijacked = true
	return &bufferedConn{Conn: nc, r: brw.Reader}, nil
}

// finish ends the request: a streamed body ends when ServeHTTP returns;
// a failed or cut response is aborted.
func (p *httpResponder) finish(r *Req, failed bool) {
	if !p.bodyDone && p.timeout > 0 && p.req.Body != nil && p.req.Body != http.NoBody {
		// net/http reads what the handler left of the body before it
		// reuses the connection: bound that as a handle's reader bounds
		// its discard, so a stalled client cannot hold it for ever.
		p.deadlineSet = p.rc.SetReadDeadline(time.Now().Add(p.timeout)) == nil
	} else {
		p.clearDeadline()
	}
	switch {
	case p.raw != nil:
		p.abort = !p.raw.complete()
	case failed && r.resp != respDone:
		p.abort = true
	case r.resp == respStreaming:
		r.RespSendChunk(nil)
	}
	r.valid = false
	p.finished = true
}

// closeUnreadBody closes a request body the handler left unread, before
// ServeHTTP returns and after the adapter's lock is released (a client
// slow to send what nobody reads must not hold the adapter). A
// full-duplex HTTP/1.x handler that leaves body bytes unread makes
// net/http panic ("invalid concurrent Body.Read call") reading the next
// request, and drop the connection: its own discard after the handler
// reaches the body's end and starts its background read too late
// (golang/go#68560). The finished response is flushed first, so the
// client has it while the rest of its body is discarded (up to 256 KiB,
// under the deadline finish set; more closes the connection), as
// net/http does after a handler. An aborted response is left to net/http,
// which closes the connection.
func (p *httpResponder) closeUnreadBody() {
	if !p.fullDuplex || p.bodyDone || p.abort || p.c.hijacked || p.req.Body == nil {
		return
	}
	p.rc.Flush()
	p.req.Body.Close()
}

// proto is net/http's name for the request's protocol.
func (p *httpResponder) proto() string { return p.req.Proto }

// bufferedConn is a hijacked connection whose first bytes are those
// net/http had already read.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) {
	if c.r != nil && c.r.Buffered() > 0 {
		return c.r.Read(b)
	}
	c.r = nil
	return c.Conn.Read(b)
}

// rawRelay parses the HTTP/1.x response a handler writes with Send and
// passes it on through a ResponseWriter: the head as its header map and
// status, the body decoded from its framing (net/http frames it again).
type rawRelay struct {
	head    []byte // head bytes gathered until its blank line
	resp    h1.Response
	started bool  // the head went out
	noBody  bool  // a status or method without content
	left    int64 // Content-Length bytes still to come, or -1
	dec     *h1.ChunkedDecoder
	scratch []byte // chunked bytes are decoded here, never in the handler's buffer
}

func (rw *rawRelay) write(r *Req, w http.ResponseWriter, b []byte) error {
	if !rw.started {
		rw.head = append(rw.head, b...)
		n, err := h1.ParseResponse(rw.head, &rw.resp)
		if errors.Is(err, h1.ErrIncompleteResponse) {
			if len(rw.head) > maxRawHead {
				return errors.Join(ErrInvalidArg, errors.New("raw response head too long"))
			}
			return nil
		}
		if err != nil {
			return errors.Join(ErrInvalidArg, err)
		}
		rw.started = true
		rw.writeHead(r, w)
		b = rw.head[n:]
	}
	if len(b) == 0 {
		return nil
	}
	if rw.done() {
		return errRawAfterEnd
	}
	if rw.dec != nil {
		return rw.writeChunked(w, b)
	}
	if rw.left >= 0 {
		if int64(len(b)) > rw.left {
			return errRawAfterEnd
		}
		rw.left -= int64(len(b))
	}
	return rw.writeBody(w, b)
}

func (rw *rawRelay) writeHead(r *Req, w http.ResponseWriter) {
	res := &rw.resp
	hdr := w.Header()
	for _, f := range res.Fields {
		hdr.Add(f.Name, f.Value)
	}
	if _, ok := hdr["Content-Type"]; !ok {
		hdr["Content-Type"] = nil // relay as written: net/http must not sniff one
	}
	switch {
	case res.Chunked:
		rw.dec = new(h1.ChunkedDecoder)
	case res.ContentLength >= 0:
		rw.left = res.ContentLength
		hdr.Set("Content-Length", strconv.FormatInt(res.ContentLength, 10))
	}
	rw.noBody = r.headOnly || !bodyAllowed(res.Code)
	w.WriteHeader(res.Code)
}

// writeBody passes body bytes on; those of a response without content
// are dropped, as a handle drops them.
func (rw *rawRelay) writeBody(w http.ResponseWriter, b []byte) error {
	if rw.noBody {
		return nil
	}
	if _, err := w.Write(b); err != nil {
		return sockErr(err)
	}
	return nil
}

func (rw *rawRelay) writeChunked(w http.ResponseWriter, b []byte) error {
	for len(b) > 0 && !rw.dec.Done() {
		if rw.scratch == nil {
			rw.scratch = make([]byte, 16<<10)
		}
		k := copy(rw.scratch, b)
		data, used, err := rw.dec.Decode(rw.scratch[:k])
		if err != nil {
			return errors.Join(ErrInvalidArg, err)
		}
		b = b[used:]
		if err := rw.writeBody(w, rw.scratch[:data]); err != nil {
			return err
		}
	}
	if len(b) > 0 {
		return errRawAfterEnd
	}
	return nil
}

// done reports whether the relayed body has ended by its own framing.
func (rw *rawRelay) done() bool {
	switch {
	case rw.dec != nil:
		return rw.dec.Done()
	case rw.left >= 0:
		return rw.left == 0
	}
	return false
}

// complete reports whether the response can end now that the handler
// returned: its head went out and its body is whole (a body delimited by
// the connection's close ends here).
func (rw *rawRelay) complete() bool {
	return rw.started && (rw.done() || (rw.dec == nil && rw.left < 0))
}
