package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/esphttpd/esphttpd/httpd/internal/h1"
)

const (
	// bufferedBody is how much of a response without a declared
	// Content-Length is held back so it can go out with one; net/http
	// holds 2 KiB, but here each chunk costs a send on the worker.
	bufferedBody = 64 << 10
	// bufferedDeclared is the largest declared Content-Length whose body
	// is held back in full so that the length can be kept.
	bufferedDeclared = 1 << 20
)

// zeroBody stands in for the body of a HEAD response: the handle sends
// only the head, with the Content-Length of the body it was given.
var zeroBody [bufferedBody]byte

// responseWriter is the http.ResponseWriter and http.Flusher FromHTTP
// hands to a net/http handler, over the Req response API.
type responseWriter struct {
	r      *Req
	method string
	header http.Header

	status    int   // 0 until WriteHeader
	declared  int64 // the Content-Length h set, or -1
	written   int64 // body bytes accepted by Write
	buf       []byte
	limit     int   // buffered bytes before switching to chunked
	streaming bool  // the head is out, chunks follow
	err       error // the first send error: the client is gone
}

// newResponseWriter starts the response to r; method is the request's,
// for the HEAD answer.
func newResponseWriter(r *Req, method string) *responseWriter {
	return &responseWriter{r: r, method: method, header: make(http.Header), declared: -1, limit: bufferedBody}
}

// Header returns the response header map; changes after WriteHeader have
// no effect, as in net/http.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status; the head is sent with the first flush
// or when the handler returns. Codes outside 100..999 panic as in net/http;
// 1xx codes are dropped because the handle cannot send an interim head.
func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 || code < 200 {
		return
	}
	w.status = code
	if cl := w.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
			if n <= bufferedDeclared {
				w.limit = max(int(n), w.limit)
			}
		}
	}
}

// bodyAllowed reports whether the status permits a body (RFC 9110 6.4.1).
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified && status >= 200
}

// Write buffers p, sending what is buffered as a chunk whenever the buffer
// would overflow.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if len(w.buf)+len(p) > w.limit {
		if err := w.sendChunk(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// sendChunk sends the buffer and then p as chunks, starting the chunked
// response first if needed.
func (w *responseWriter) sendChunk(p []byte) error {
	if err := w.startStreaming(); err != nil {
		return err
	}
	for _, b := range [][]byte{w.buf, p} {
		if len(b) == 0 {
			continue
		}
		if err := w.r.RespSendChunk(b); err != nil {
			w.err = err
			return err
		}
	}
	w.buf = w.buf[:0]
	return nil
}

// Flush sends what has been written so far.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil || !bodyAllowed(w.status) {
		return
	}
	if len(w.buf) > 0 {
		w.sendChunk(nil)
	}
}

// startStreaming applies the head for a chunked response; the first chunk
// carries it.
func (w *responseWriter) startStreaming() error {
	if w.streaming {
		return nil
	}
	w.streaming = true
	// The length cannot be announced next to chunked coding.
	w.header.Del("Content-Length")
	return w.applyHead(w.buf)
}

// applyHead hands status, type and headers to the Req. sniff is the start
// of the body, for a Content-Type the handler did not set.
func (w *responseWriter) applyHead(sniff []byte) error {
	r := w.r
	if err := r.RespSetStatus(statusLine(w.status)); err != nil {
		return w.fail(err)
	}
	ctype := w.header.Get("Content-Type")
	if _, set := w.header["Content-Type"]; !set && bodyAllowed(w.status) && len(sniff) > 0 {
		ctype = http.DetectContentType(sniff)
	}
	if ctype != "" {
		if err := r.RespSetType(ctype); err != nil {
			return w.fail(fmt.Errorf("Content-Type %q: %w", ctype, err))
		}
	}
	for name, values := range w.header {
		switch name {
		case "Content-Type", "Content-Length", "Transfer-Encoding":
			continue // the handle writes these from what is sent
		}
		if !h1.ValidFieldName(name) {
			continue // net/http drops such fields too
		}
		for _, v := range values {
			v = headerValueCleaner.Replace(v)
			if !h1.ValidFieldValue(v) {
				continue
			}
			if err := r.RespSetHdr(name, v); err != nil {
				return w.fail(fmt.Errorf("more response headers than Config.MaxRespHeaders allows (%w)", err))
			}
		}
	}
	return nil
}

// headerValueCleaner turns line breaks in a value into spaces, as net/http
// does, so that a value cannot start a new header line.
var headerValueCleaner = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")

// fail answers 500 when the head cannot be built, so that the client gets
// a clear error instead of a truncated response.
func (w *responseWriter) fail(err error) error {
	w.err = err
	w.r.RespSendErr(Code500InternalServerError, "net/http handler: "+err.Error())
	return err
}

// finish completes the response after the handler returned. Its error
// closes the session only when the connection failed.
func (w *responseWriter) finish() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.connErr()
	}
	if w.streaming {
		if len(w.buf) > 0 {
			if err := w.r.RespSendChunk(w.buf); err != nil {
				return err
			}
		}
		return w.r.RespSendChunk(nil)
	}
	if w.declared >= 0 && w.method == http.MethodHead && len(w.buf) == 0 {
		return w.finishHead()
	}
	if err := w.applyHead(w.buf); err != nil {
		return nil // answered 500; the session is fine
	}
	return w.r.RespSend(w.buf)
}

// finishHead answers HEAD with the handler's declared length: the handle
// takes the length from the body it is given and never sends a HEAD body,
// so a shared zero buffer stands in for lengths it covers.
func (w *responseWriter) finishHead() error {
	if w.declared > int64(len(zeroBody)) {
		if err := w.startStreaming(); err != nil {
			return nil
		}
		return w.r.RespSendChunk(nil)
	}
	if err := w.applyHead(nil); err != nil {
		return nil
	}
	return w.r.RespSend(zeroBody[:w.declared])
}

// connErr is the error finish returns: send failures close the session,
// a head the handle refused was already answered with a 500.
func (w *responseWriter) connErr() error {
	if errors.Is(w.err, ErrRespSend) {
		return w.err
	}
	return nil
}

// statusLine is "200 OK" for 200; codes without a text get net/http's
// "status code N".
func statusLine(code int) string {
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	return strconv.Itoa(code) + " " + text
}
