package httpd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
	"golang.org/x/net/http2/hpack"
)

// rawH2 relays, on an HTTP/2 stream, the HTTP/1.x response a ported
// handler writes byte by byte with Send (httpd_send): the head is parsed by
// HTTP/1's rules and sent as HEADERS, the body as DATA, decoded first when
// it is chunked. The stream ends where the HTTP/1.x body would: after
// Content-Length bytes, after the last chunk, or, for a body delimited by
// the connection's close, when the handler returns.
type rawH2 struct {
	head    []byte // head bytes gathered until its blank line
	resp    h1.Response
	started bool  // HEADERS went out
	left    int64 // Content-Length bytes still to come, or -1
	dec     *h1.ChunkedDecoder
	scratch []byte // chunked bytes are decoded in place here, never in the caller's buffer
}

// maxRawHead bounds the head of a raw response: a handler that never
// finishes its head must not grow the buffer for ever.
const maxRawHead = 64 << 10

var errRawAfterEnd = errors.New("httpd: raw response bytes after the end of the response")

// sendRaw is Req.Send on a stream.
func (st *h2Stream) sendRaw(r *Req, p []byte) (int, error) {
	if st.raw == nil {
		st.raw = &rawH2{left: -1}
	}
	if err := st.raw.write(r, st, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (rw *rawH2) write(r *Req, st *h2Stream, p []byte) error {
	if !rw.started {
		rw.head = append(rw.head, p...)
		n, err := h1.ParseResponse(rw.head, &rw.resp)
		if errors.Is(err, h1.ErrIncompleteResponse) {
			if len(rw.head) > maxRawHead {
				return fmt.Errorf("%w: raw response head longer than %d bytes", ErrInvalidArg, maxRawHead)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidArg, err)
		}
		rw.started = true
		if err := rw.writeHead(r, st); err != nil {
			return err
		}
		p = rw.head[n:]
	}
	if st.ended {
		if len(p) == 0 {
			return nil
		}
		return errRawAfterEnd
	}
	if rw.dec != nil {
		return rw.writeChunked(st, p)
	}
	if rw.left >= 0 {
		if int64(len(p)) > rw.left {
			return errRawAfterEnd
		}
		rw.left -= int64(len(p))
		return st.writeData(p, rw.left == 0)
	}
	return st.writeData(p, false)
}

// writeHead sends the parsed head as HEADERS.
func (rw *rawH2) writeHead(r *Req, st *h2Stream) error {
	res := &rw.resp
	fields := make([]hpack.HeaderField, 0, len(res.Fields)+1)
	for _, f := range res.Fields {
		fields = append(fields, hpack.HeaderField{Name: strings.ToLower(f.Name), Value: f.Value})
	}
	noBody := r.headOnly || res.Code < 200 || res.Code == 204 || res.Code == 304 || res.ContentLength == 0
	switch {
	case res.Chunked:
		rw.dec = new(h1.ChunkedDecoder)
	case res.ContentLength >= 0:
		rw.left = res.ContentLength
		fields = append(fields, hpack.HeaderField{Name: "content-length", Value: strconv.FormatInt(res.ContentLength, 10)})
	}
	return st.writeHead(res.Code, fields, noBody)
}

// writeChunked decodes chunked body bytes and sends their payload.
func (rw *rawH2) writeChunked(st *h2Stream, p []byte) error {
	for len(p) > 0 && !rw.dec.Done() {
		if rw.scratch == nil {
			rw.scratch = make([]byte, 16<<10)
		}
		k := copy(rw.scratch, p)
		data, used, err := rw.dec.Decode(rw.scratch[:k])
		if err != nil {
			return fmt.Errorf("%w: raw chunked body: %v", ErrInvalidArg, err)
		}
		p = p[used:]
		if data > 0 || rw.dec.Done() {
			if err := st.writeData(rw.scratch[:data], rw.dec.Done()); err != nil {
				return err
			}
		}
	}
	if len(p) > 0 {
		return errRawAfterEnd
	}
	return nil
}

// finish ends the relayed response when the handler returns: a body
// delimited by the close ends here; a head never completed, or a body
// shorter than announced, resets the stream, as a cut connection would
// have told an HTTP/1.1 client.
func (rw *rawH2) finish(r *Req, st *h2Stream) {
	if st.ended {
		return
	}
	if rw.started && rw.dec == nil && rw.left < 0 {
		st.writeData(nil, true)
		return
	}
	st.s.conn.ResetStream(st.ev.Stream, 0x2) // INTERNAL_ERROR
}
