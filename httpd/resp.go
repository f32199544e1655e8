package httpd

import (
	"github.com/esphttpd/esphttpd/httpd/internal/h1"
)

// Content types ESP-IDF names (HTTPD_TYPE_*).
const (
	TypeJSON  = "application/json"
	TypeText  = "text/html"
	TypeOctet = "application/octet-stream"
)

// Status lines ESP-IDF names (HTTPD_200 ...), for RespSetStatus.
const (
	Status200 = "200 OK"
	Status204 = "204 No Content"
	Status207 = "207 Multi-Status"
	Status400 = "400 Bad Request"
	Status404 = "404 Not Found"
	Status408 = "408 Request Timeout"
	Status500 = "500 Internal Server Error"
)

// smallBody is the largest body copied next to its head so both leave in one
// send; larger bodies go out in a second send without a copy.
const smallBody = 8 << 10

func (r *Req) checkResp() error {
	if r == nil || !r.valid {
		return ErrInvalidReq
	}
	if r.resp == respDone {
		return ErrRespDone
	}
	return nil
}

// RespSetStatus sets the status line, e.g. "404 Not Found"
// (httpd_resp_set_status). The default is "200 OK"; "" sets the default
// back (ESP-IDF would send an empty status line, which no client reads).
func (r *Req) RespSetStatus(status string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if !h1.ValidFieldValue(status) {
		return ErrInvalidArg
	}
	r.status = status
	return nil
}

// RespSetType sets the Content-Type (httpd_resp_set_type). The default is
// TypeText ("text/html"); "" sets the default back.
func (r *Req) RespSetType(contentType string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if !h1.ValidFieldValue(contentType) {
		return ErrInvalidArg
	}
	r.ctype = contentType
	return nil
}

// RespSetHdr adds a response header (httpd_resp_set_hdr). At most
// Config.MaxRespHeaders may be added (ErrRespHdr beyond). A name that is not
// a token, or a value with CR, LF or other control bytes, is ErrInvalidArg:
// header injection cannot happen by accident.
func (r *Req) RespSetHdr(field, value string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if !h1.ValidFieldName(field) || !h1.ValidFieldValue(value) {
		return ErrInvalidArg
	}
	c := r.c
	if r.nfields >= c.h.cfg.MaxRespHeaders {
		return ErrRespHdr
	}
	if r.nfields < len(c.fields) {
		c.fields[r.nfields] = h1.Field{Name: field, Value: value}
	} else {
		c.fields = append(c.fields, h1.Field{Name: field, Value: value})
	}
	r.nfields++
	return nil
}

// RespSend sends a complete response with body as its content
// (httpd_resp_send): status, content type, Content-Length, the headers set
// with RespSetHdr, then the body. For HEAD requests the body is left out; a
// 1xx, 204 or 304 status has neither body nor Content-Length.
func (r *Req) RespSend(body []byte) error { return r.sendFull(body, "") }

// RespSendStr sends a complete response with s as its content
// (httpd_resp_sendstr).
func (r *Req) RespSendStr(s string) error { return r.sendFull(nil, s) }

// sendFull sends head and body, given as bytes or as a string.
func (r *Req) sendFull(body []byte, str string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if r.resp != respNone {
		return ErrRespDone
	}
	n := len(body) + len(str)
	r.head = r.newHead(int64(n), false)
	r.resp = respDone
	if err := r.rsp.send(r, &r.head, body, str, true); err != nil {
		return r.sendFailed(err)
	}
	c := r.c
	r.sent += int64(n)
	c.h.emit(EventHeadersSent, c.fd, 0)
	c.h.emit(EventSentData, c.fd, n)
	return nil
}

func (r *Req) sendFailed(err error) error {
	r.c.wantStop = true
	r.resp = respDone
	return &respSendError{cause: err}
}

// RespSendChunk sends one chunk of a chunked response
// (httpd_resp_send_chunk). The first call sends the head; an empty chunk ends
// the response. To an HTTP/1.0 client the body goes out unframed and the
// session closes after it; over HTTP/2 each chunk is DATA on the stream.
func (r *Req) RespSendChunk(chunk []byte) error {
	return r.sendChunk(chunk, "")
}

// RespSendStrChunk sends s as one chunk (httpd_resp_sendstr_chunk); ""
// ends the response.
func (r *Req) RespSendStrChunk(s string) error {
	return r.sendChunk(nil, s)
}

func (r *Req) sendChunk(data []byte, str string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if r.resp == respRaw {
		return ErrRespDone
	}
	n := len(data) + len(str)
	var hd *respHead
	if r.resp == respNone {
		r.head = r.newHead(-1, true)
		hd = &r.head
		r.resp = respStreaming
	}
	last := n == 0
	if last {
		r.resp = respDone
	}
	if err := r.rsp.send(r, hd, data, str, last); err != nil {
		return r.sendFailed(err)
	}
	if hd != nil {
		r.c.h.emit(EventHeadersSent, r.c.fd, 0)
	}
	r.sent += int64(n)
	r.c.h.emit(EventSentData, r.c.fd, n)
	return nil
}

// Send writes raw bytes to the session (httpd_send): the handler builds the
// whole response itself. It returns how many bytes were sent. Over HTTP/2
// the bytes are read as the HTTP/1.x response they are and sent as HEADERS
// and DATA on the request's stream, so ported handlers that write their
// responses by hand keep working when a client negotiates h2.
func (r *Req) Send(raw []byte) (int, error) {
	if r == nil || !r.valid {
		return 0, ErrSockInvalid
	}
	r.headersGone = true
	if r.resp == respNone {
		r.resp = respRaw
	}
	return r.rsp.sendRaw(r, raw)
}

// RespSendErr sends the error response for code (httpd_resp_send_err): its
// status line, text/html, and msg as the body, or the code's default
// message when msg is "".
func (r *Req) RespSendErr(code ErrCode, msg string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if !code.valid() {
		code = Code500InternalServerError // as ESP-IDF's default branch
	}
	if msg == "" {
		msg = code.Message()
	}
	r.c.h.log.Warn("error response", "status", code.Status(), "body", msg)
	r.status = code.Status()
	r.ctype = TypeText
	err := r.RespSendStr(msg)
	r.c.h.emitErr(r.c.fd, code)
	return err
}

// RespSend404 sends the default 404 response (httpd_resp_send_404).
func (r *Req) RespSend404() error { return r.RespSendErr(Code404NotFound, "") }

// RespSend408 sends the default 408 response (httpd_resp_send_408).
func (r *Req) RespSend408() error { return r.RespSendErr(Code408ReqTimeout, "") }

// RespSend500 sends the default 500 response (httpd_resp_send_500).
func (r *Req) RespSend500() error { return r.RespSendErr(Code500InternalServerError, "") }
