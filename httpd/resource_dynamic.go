package httpd

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

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

// DynamicFunc is Zephyr 3.7's dynamic resource callback
// (http_resource_dynamic_cb_t). It is called with each piece of the request
// body in data (a prefix of the resource's Buffer) and the status of that
// piece; a request without a body gets one call with DataFinal and no data.
// It returns how many bytes of Buffer to send back (the callback writes
// them into Buffer; returning len(data) echoes), or 0 for nothing; after
// DataFinal it is called again, with no data, for as long as it returns
// more than 0. An error answers 500 when nothing was sent yet (the
// connection stays usable), and otherwise cuts the response off. After
// DataAborted its return value is ignored.
type DynamicFunc func(client *Req, status DataStatus, data []byte, userData any) (int, error)

// DynamicHandlerFunc is Zephyr 4.x's dynamic resource callback: the request
// comes in as a RequestCtx and the callback describes its answer in resp
// (status, extra headers, a piece of body, whether it is the last). It is
// called for each piece of the body as DynamicFunc is; after DataFinal it
// is called again until it sets resp.FinalChunk or leaves resp empty.
// Status and headers count only until the first body byte is sent. An
// error answers 500 when nothing was sent yet (the connection stays
// usable), and otherwise cuts the response off.
type DynamicHandlerFunc func(client *Req, status DataStatus, req *RequestCtx, resp *ResponseCtx, userData any) error

// Header is one header field (struct http_header).
type Header struct {
	Name, Value string
}

// RequestCtx is the request as a Zephyr 4.x callback sees it
// (struct http_request_ctx).
type RequestCtx struct {
	// Method is the request method (client->method in Zephyr).
	Method Method
	// Data is this call's piece of the request body.
	Data []byte
	// Headers are the captured request headers (DynamicResource's
	// CaptureHeaders), in the order received: on the first call only.
	Headers []Header
	// HeadersStatus says whether every wanted header fitted: on the first
	// call HeaderStatusOK or HeaderStatusDropped, later HeaderStatusNone.
	HeadersStatus HeaderStatus
}

// ResponseCtx is what a Zephyr 4.x callback answers
// (struct http_response_ctx). The zero value sends nothing.
type ResponseCtx struct {
	// Status is the status code, 100 to 599; 0 means 200.
	Status int
	// Headers are added to the response; a Content-Type here replaces the
	// resource's. Transfer-Encoding and Content-Length are the server's.
	Headers []Header
	// Body is sent as the next piece of the response.
	Body []byte
	// FinalChunk ends the response.
	FinalChunk bool
}

// provided reports whether the callback answered anything
// (http_response_is_provided).
func (rc *ResponseCtx) provided() bool {
	return rc.Status != 0 || len(rc.Headers) > 0 || len(rc.Body) > 0
}

// DynamicResource is served by a callback (http_resource_detail_dynamic):
// set Callback (Zephyr 3.7) or Handler (Zephyr 4.x). The response is sent
// as the callback produces it, with chunked coding over HTTP/1.1.
//
// As in Zephyr, a resource serves one request at a time: a request that
// arrives while another one's body is still being passed to the callback
// is answered 409 Conflict. GET and DELETE are answered at once (the
// callback gets no body, as in Zephyr); other methods hand their body to
// the callback a Buffer at a time while the server serves other clients in
// between.
type DynamicResource struct {
	ResourceDetail
	// Callback is the Zephyr 3.7 callback.
	Callback DynamicFunc
	// Handler is the Zephyr 4.x callback.
	Handler DynamicHandlerFunc
	// Buffer is shared between server and callback: the request data in,
	// and for Callback the response data out (data_buffer). A 1 KiB buffer
	// of the registration's own is used when nil. Register a resource with
	// a Buffer on one service only.
	Buffer []byte
	// UserData is handed to every call of Callback or Handler.
	UserData any
	// CaptureHeaders names the request headers Handler receives in
	// RequestCtx.Headers (HTTP_SERVER_REGISTER_HEADER_CAPTURE, here per
	// resource). CaptureCount (default 3) and CaptureBufferSize (default
	// 128 bytes, each name and value counting one byte more for Zephyr's
	// NUL) bound what is kept; what does not fit is reported as
	// HeaderStatusDropped.
	CaptureHeaders    []string
	CaptureCount      int
	CaptureBufferSize int
}

// dynamic serves a DynamicResource.
type dynamic struct {
	d       *DynamicResource
	buf     []byte
	capture headerCapture
	// holder is the request whose body is being handed to the callback
	// (Zephyr's holder). Worker only.
	holder *Req
}

func newDynamic(d *DynamicResource) (*dynamic, error) {
	if (d.Callback == nil) == (d.Handler == nil) {
		return nil, fmt.Errorf("%w: DynamicResource needs exactly one of Callback and Handler", ErrInvalidArg)
	}
	if len(d.CaptureHeaders) > 0 && d.Handler == nil {
		return nil, fmt.Errorf("%w: DynamicResource.CaptureHeaders needs Handler", ErrInvalidArg)
	}
	dy := &dynamic{d: d, buf: d.Buffer, capture: newHeaderCapture(d)}
	if len(dy.buf) == 0 {
		dy.buf = make([]byte, 1024)
	}
	return dy, nil
}

func (dy *dynamic) serve(r *Req) error {
	d := dy.d
	if !methodAllowed(r, d.Methods) {
		return nil
	}
	if dy.holder != nil {
		r.RespSetStatus("409 Conflict")
		return r.RespSendStr("The resource is busy with another request")
	}
	if d.ContentType != "" {
		r.RespSetType(d.ContentType)
	}
	if r.Method == HEAD {
		return r.RespSend(nil) // the head a GET would get, as Zephyr does
	}
	x := &exchange{dy: dy, r: r}
	x.req.Method = r.Method
	x.req.Headers, x.req.HeadersStatus = dy.capture.take(r)
	if r.Method == GET || r.Method == DELETE {
		return x.runNow()
	}
	cp, err := r.AsyncHandlerBegin()
	if err != nil {
		return err
	}
	x.r = cp
	dy.holder = cp
	go x.readPiece()
	return nil
}

// exchange is one request to a dynamic resource and its response.
type exchange struct {
	dy     *dynamic
	r      *Req
	req    RequestCtx
	pieces bodyPieces
	// decided: the callback's status and headers are set; sent: some of
	// the response went out, so an error can no longer be answered.
	decided, sent bool
}

// runNow answers a request without a body on the worker, in one go.
func (x *exchange) runNow() error {
	for {
		final, err := x.call(DataFinal, nil)
		if err != nil {
			if x.sent {
				return err // the responder cuts the response off
			}
			return x.answer500(err)
		}
		if final {
			return x.r.RespSendChunk(nil)
		}
	}
}

// readPiece reads the next piece of the body off the worker and hands it
// to the worker. It never waits for the worker, so a stopping server,
// which drops queued work, leaves no goroutine behind.
func (x *exchange) readPiece() {
	n, err := x.pieces.next(x.r, x.dy.buf)
	status := DataMore
	switch {
	case err == io.EOF:
		status, err = DataFinal, nil
	case err != nil:
		status = DataAborted
	}
	if x.r.Handle.QueueWork(func() { x.step(status, n, err) }) != nil {
		x.r.AsyncHandlerComplete() // stopping: nothing more will be served
	}
}

// step hands one piece to the callback, on the worker.
func (x *exchange) step(status DataStatus, n int, readErr error) {
	if status == DataAborted {
		x.abort(readErr)
		return
	}
	final, err := x.call(status, x.dy.buf[:n])
	var lost *clientLost
	switch {
	case errors.As(err, &lost):
		x.abort(err) // the client went away: the callback hears of it
	case err != nil:
		x.fail(err)
	case final:
		x.r.RespSendChunk(nil)
		x.complete()
	case status == DataFinal:
		// The callback has more to say: one call per turn of the worker.
		if x.r.Handle.QueueWork(func() { x.step(DataFinal, 0, nil) }) != nil {
			x.complete()
		}
	default:
		go x.readPiece()
	}
}

// call runs the callback once and sends what it produced. final reports
// that the response is complete.
func (x *exchange) call(status DataStatus, data []byte) (final bool, err error) {
	d, r := x.dy.d, x.r
	if d.Callback != nil {
		var out int
		if !r.Handle.guard("dynamic resource callback", func() { out, err = d.Callback(r, status, data, d.UserData) }) {
			err = errors.New("httpd: dynamic resource callback panicked")
		}
		if err == nil && (out < 0 || out > len(x.dy.buf)) {
			err = fmt.Errorf("httpd: dynamic resource callback returned %d for a %d-byte buffer", out, len(x.dy.buf))
		}
		if err != nil {
			return false, err
		}
		if out > 0 {
			return false, x.send(x.dy.buf[:out])
		}
		return status == DataFinal, nil
	}
	var resp ResponseCtx
	x.req.Data = data
	if !r.Handle.guard("dynamic resource handler", func() { err = d.Handler(r, status, &x.req, &resp, d.UserData) }) {
		err = errors.New("httpd: dynamic resource handler panicked")
	}
	// Captured headers go to the first call only, as in Zephyr.
	x.req.Headers, x.req.HeadersStatus = nil, HeaderStatusNone
	if err != nil {
		return false, err
	}
	if resp.provided() {
		if err := x.respond(&resp); err != nil {
			return false, err
		}
	}
	return status == DataFinal && (resp.FinalChunk || !resp.provided()), nil
}

// respond applies a Zephyr 4.x response context.
func (x *exchange) respond(resp *ResponseCtx) error {
	r := x.r
	if x.decided && (resp.Status != 0 || len(resp.Headers) > 0) {
		r.Handle.log.Warn("dynamic resource: headers already sent, dropping the new status and headers")
	}
	if !x.decided {
		if err := decideHead(r, resp); err != nil {
			return err
		}
		x.decided = true
	}
	if len(resp.Body) > 0 {
		return x.send(resp.Body)
	}
	return nil
}

// decideHead sets the status and headers of a response context on r.
func decideHead(r *Req, resp *ResponseCtx) error {
	status := resp.Status
	if status == 0 {
		status = 200
	}
	if status < 100 || status > 599 {
		return fmt.Errorf("httpd: dynamic resource answered status %d", status)
	}
	if err := r.RespSetStatus(strconv.Itoa(status) + " " + http.StatusText(status)); err != nil {
		return err
	}
	for _, hd := range resp.Headers {
		var err error
		switch {
		case strings.EqualFold(hd.Name, "Transfer-Encoding"), strings.EqualFold(hd.Name, "Content-Length"):
			err = fmt.Errorf("%w: a dynamic resource may not set %s", ErrInvalidArg, hd.Name)
		case strings.EqualFold(hd.Name, "Content-Type"):
			err = r.RespSetType(hd.Value)
		default:
			err = r.RespSetHdr(hd.Name, hd.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// send sends one piece of the response.
func (x *exchange) send(p []byte) error {
	x.decided, x.sent = true, true
	if err := x.r.RespSendChunk(p); err != nil {
		return &clientLost{err}
	}
	return nil
}

// clientLost is a response the client can no longer receive.
type clientLost struct{ err error }

func (e *clientLost) Error() string { return "httpd: dynamic resource response: " + e.err.Error() }
func (e *clientLost) Unwrap() error { return e.err }

// answer500 answers a callback that failed before anything was sent: the
// request fails, the connection does not.
func (x *exchange) answer500(err error) error {
	x.r.Handle.log.Warn("dynamic resource failed", "uri", x.r.URI, "err", err)
	return x.r.RespSendErr(Code500InternalServerError, "")
}

// fail ends an async exchange whose callback failed.
func (x *exchange) fail(err error) {
	if !x.sent {
		x.answer500(err)
		x.complete()
		return
	}
	// Part of the response is out: cutting it off is the only honest end
	// (HTTP/1.1 closes the session, HTTP/2 resets the stream only).
	x.r.Handle.log.Warn("dynamic resource failed mid-response", "uri", x.r.URI, "err", err)
	x.dy.holder = nil
	x.r.AsyncHandlerFail()
}

// abort tells the callback that the body will not come, and answers what
// can still be answered: 408 for a body too slow, 400 for one cut short.
func (x *exchange) abort(readErr error) {
	d, r := x.dy.d, x.r
	r.Handle.guard("dynamic resource callback", func() {
		if d.Callback != nil {
			d.Callback(r, DataAborted, nil, d.UserData)
		} else {
			x.req.Data = nil
			d.Handler(r, DataAborted, &x.req, &ResponseCtx{}, d.UserData)
		}
	})
	if !x.sent {
		code := Code400BadRequest
		if errors.Is(readErr, ErrSockTimeout) {
			code = Code408ReqTimeout
		}
		r.RespSendErr(code, "")
	}
	x.complete()
}

// complete frees the resource and ends the request.
func (x *exchange) complete() {
	x.dy.holder = nil
	x.r.AsyncHandlerComplete()
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
	// A byte that came with io.EOF is the body's last: it is kept for the
	// next piece, which then ends the body.
	b.hasAhead = k == 1
	switch {
	case err == io.EOF && !b.hasAhead:
		return n, io.EOF
	case err != nil && err != io.EOF && !b.hasAhead:
		return n, err
	}
	return n, nil
}
