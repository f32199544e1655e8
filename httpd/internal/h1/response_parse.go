package h1

import (
	"bytes"
	"errors"
	"strconv"
)

// Response is a parsed HTTP/1.x response head, as a handler that writes raw
// bytes (ESP-IDF's httpd_send) produces it. Unlike Request it owns its
// strings: the bytes it was parsed from may be reused at once.
type Response struct {
	Code          int
	Fields        []Field // in order, without the framing fields below
	ContentLength int64   // -1 when the head has none
	Chunked       bool    // Transfer-Encoding ends in chunked
}

// ErrIncompleteResponse says the bytes so far end inside a response head.
var ErrIncompleteResponse = errors.New("h1: incomplete response head")

// ErrMalformedResponse is a response head that cannot be framed.
var ErrMalformedResponse = errors.New("h1: malformed response head")

// ParseResponse parses the response head at the start of b into r and
// returns its length. It returns ErrIncompleteResponse while the head's
// blank line has not arrived, and ErrMalformedResponse for a head that is
// not HTTP/1.x or whose framing fields contradict each other. Fields a
// message carries about its connection rather than itself (Connection,
// Keep-Alive, Proxy-Connection, Upgrade, Transfer-Encoding, Content-Length)
// are not kept in Fields: a caller relaying the response over another
// protocol frames it itself.
func ParseResponse(b []byte, r *Response) (int, error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0, ErrIncompleteResponse
	}
	*r = Response{Fields: r.Fields[:0], ContentLength: -1}
	lines := bytes.Split(b[:end], []byte("\r\n"))
	status := lines[0]
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) ||
		(status[7] != '0' && status[7] != '1') || status[8] != ' ' || (len(status) > 12 && status[12] != ' ') {
		return 0, ErrMalformedResponse
	}
	code, err := strconv.Atoi(string(status[9:12]))
	if err != nil || code < 100 || code > 999 {
		return 0, ErrMalformedResponse
	}
	r.Code = code
	for _, line := range lines[1:] {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !ValidFieldName(string(name)) {
			return 0, ErrMalformedResponse
		}
		value = trimOWS(value)
		if !ValidFieldValue(string(value)) {
			return 0, ErrMalformedResponse
		}
		switch {
		case equalFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (r.ContentLength >= 0 && n != r.ContentLength) {
				return 0, ErrMalformedResponse
			}
			r.ContentLength = n
		case equalFold(name, "transfer-encoding"):
			codings := bytes.Split(value, []byte(","))
			r.Chunked = equalFold(trimOWS(codings[len(codings)-1]), "chunked")
			if !r.Chunked {
				return 0, ErrMalformedResponse // only chunked can be relayed as it is
			}
		case equalFold(name, "connection"), equalFold(name, "keep-alive"),
			equalFold(name, "proxy-connection"), equalFold(name, "upgrade"):
		default:
			r.Fields = append(r.Fields, Field{Name: string(name), Value: string(value)})
		}
	}
	if r.Chunked {
		r.ContentLength = -1 // RFC 9112 6.3: chunked wins over a length
	}
	return end + 4, nil
}
