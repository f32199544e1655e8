package httpd

import (
	"bytes"
	"strings"

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
// (httpd_resp_set_status). The default is "200 OK".
func (r *Req) RespSetStatus(status string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if status == "" || !h1.ValidFieldValue(status) {
		return ErrInvalidArg
	}
	r.status = status
	return nil
}

// RespSetType sets the Content-Type (httpd_resp_set_type). The default is
// TypeText ("text/html").
func (r *Req) RespSetType(contentType string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if contentType == "" || !h1.ValidFieldValue(contentType) {
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

// appendHead appends the response head for a body of n bytes (n < 0:
// chunked) and purges the request headers, as sending does on ESP-IDF.
func (r *Req) appendHead(dst []byte, n int64) []byte {
	r.head = nil
	status, ctype := r.status, r.ctype
	if status == "" {
		status = Status200
	}
	if ctype == "" {
		ctype = TypeText
	}
	c := r.c
	closing := r.forceClose || c.head.Close
	fields := c.fields[:r.nfields]
	userConnection := false
	for i := range fields {
		if strings.EqualFold(fields[i].Name, "Connection") {
			userConnection = true
			if closing {
				// The server is closing: one Connection header, saying so.
				fields = append(fields[:i:i], fields[i+1:]...)
				break
			}
		}
	}
	dst = h1.AppendResponseHead(dst, status, ctype, n, fields, closing)
	if !closing && !userConnection && c.head.ProtoMinor == 0 {
		// An HTTP/1.0 client that asked for keep-alive needs to hear it.
		dst = append(dst[:len(dst)-2], "Connection: keep-alive\r\n\r\n"...)
	}
	return dst
}

// RespSend sends a complete response with body as its content
// (httpd_resp_send): status, content type, Content-Length, the headers set
// with RespSetHdr, then the body. For HEAD requests the body is left out.
func (r *Req) RespSend(body []byte) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if r.resp != respNone {
		return ErrRespDone
	}
	if r.st != nil {
		return r.h2SendFull(body, "")
	}
	return r.sendFull(body, "")
}

// RespSendStr sends a complete response with s as its content
// (httpd_resp_sendstr).
func (r *Req) RespSendStr(s string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if r.resp != respNone {
		return ErrRespDone
	}
	if r.st != nil {
		return r.h2SendFull(nil, s)
	}
	return r.sendFull(nil, s)
}

// sendFull sends head and body (given as bytes or as a string), in one send
// when the body is small.
func (r *Req) sendFull(body []byte, str string) error {
	c := r.c
	n := len(body) + len(str)
	r.resp = respDone
	w := r.appendHead(c.wbuf[:0], int64(n))
	inline := !r.headOnly && n <= smallBody
	if inline {
		w = append(w, body...)
		w = append(w, str...)
	}
	c.wbuf = w
	if err := c.sendAll(w); err != nil {
		return r.sendFailed(err)
	}
	c.h.emit(EventHeadersSent, c.fd, 0)
	if !inline && !r.headOnly {
		if body != nil {
			if err := c.sendAll(body); err != nil {
				return r.sendFailed(err)
			}
		} else if err := r.sendString(str); err != nil {
			return err
		}
	}
	c.h.emit(EventSentData, c.fd, n)
	return nil
}

// sendString sends a large string through the write buffer in pieces, so
// that no send function ever sees (and could modify) a string's bytes.
func (r *Req) sendString(s string) error {
	c := r.c
	for len(s) > 0 {
		k := min(len(s), smallBody)
		c.wbuf = append(c.wbuf[:0], s[:k]...)
		if err := c.sendAll(c.wbuf); err != nil {
			return r.sendFailed(err)
		}
		s = s[k:]
	}
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
// session closes after it.
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
	if r.st != nil {
		return r.h2SendChunk(data, str)
	}
	c := r.c
	n := len(data) + len(str)
	http10 := c.head.ProtoMinor == 0
	w := c.wbuf[:0]
	if r.resp == respNone {
		if http10 {
			r.forceClose = true
			c.wantStop = true
			w = r.appendHead(w, -1)
			// No chunked coding for HTTP/1.0: drop the Transfer-Encoding
			// line; the close ends the body.
			w = dropTransferEncoding(w)
		} else {
			w = r.appendHead(w, -1)
		}
		r.resp = respChunked
	}
	last := n == 0
	if r.headOnly {
		// HEAD: the head alone, never a body.
	} else if http10 {
		if n <= smallBody {
			w = append(w, data...)
			w = append(w, str...)
			data, str = nil, ""
		}
	} else if last {
		w = append(w, "0\r\n\r\n"...)
	} else {
		w = h1.AppendChunkHeader(w, n)
		if n <= smallBody {
			w = append(w, data...)
			w = append(w, str...)
			w = append(w, "\r\n"...)
			data, str = nil, ""
		}
	}
	c.wbuf = w
	if len(w) > 0 {
		if err := c.sendAll(w); err != nil {
			return r.sendFailed(err)
		}
	}
	if !r.headOnly && (data != nil || str != "") {
		var err error
		if data != nil {
			err = c.sendAll(data)
		} else {
			err = r.sendString(str)
		}
		if err == nil && !http10 {
			err = c.sendAll(crlf)
		}
		if err != nil {
			return r.sendFailed(err)
		}
	}
	if last {
		r.resp = respDone
	}
	c.h.emit(EventSentData, c.fd, n)
	return nil
}

var crlf = []byte("\r\n")

// dropTransferEncoding removes the chunked Transfer-Encoding line from a
// response head.
func dropTransferEncoding(head []byte) []byte {
	return dropLine(head, "Transfer-Encoding: chunked\r\n")
}

// dropContentLength removes a "Content-Length: 0" line from a response head.
func dropContentLength(head []byte) []byte {
	return dropLine(head, "Content-Length: 0\r\n")
}

func dropLine(head []byte, line string) []byte {
	if i := bytes.Index(head, []byte(line)); i >= 0 {
		return append(head[:i], head[i+len(line):]...)
	}
	return head
}

// Send writes raw bytes to the session (httpd_send): the handler builds the
// whole response itself. It returns how many bytes were sent.
func (r *Req) Send(raw []byte) (int, error) {
	if r == nil || !r.valid {
		return 0, ErrSockInvalid
	}
	if r.st != nil {
		return 0, ErrInvalidState // HTTP/2 has no raw byte stream to write into
	}
	c := r.c
	r.head = nil
	if r.resp == respNone {
		r.resp = respRaw
	}
	c.armWriteDeadline()
	return c.send(raw, 0)
}

// RespSendErr sends the error response for code (httpd_resp_send_err): its
// status line, text/html, and msg as the body, or the code's default
// message when msg is "".
func (r *Req) RespSendErr(code ErrCode, msg string) error {
	if err := r.checkResp(); err != nil {
		return err
	}
	if !code.valid() {
		return ErrInvalidArg
	}
	if msg == "" {
		msg = code.Message()
	}
	r.c.h.log.Warn("error response", "status", code.Status(), "msg", msg)
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
