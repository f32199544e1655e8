package h1

import "strconv"

// Field is a response header field.
type Field struct{ Name, Value string }

// Framing is how a response body is delimited. The server decides it once,
// before the head is built, so a head is never edited after it is written.
type Framing uint8

// The framings.
const (
	FramingLength  Framing = iota // Content-Length: the body is exactly ContentLength bytes
	FramingChunked                // Transfer-Encoding: chunked
	FramingClose                  // no length: closing the connection ends the body (HTTP/1.0)
	FramingNone                   // no body at all: 1xx, 204 and 304 (RFC 9110 sections 8.6, 15)
)

// ConnHeader is what the head says about the connection.
type ConnHeader uint8

// The Connection header choices.
const (
	ConnUnsaid    ConnHeader = iota // nothing: the protocol default holds
	ConnClose                       // "Connection: close"
	ConnKeepAlive                   // "Connection: keep-alive", for an HTTP/1.0 client that asked for it
)

// ResponseHead is everything a response head says.
type ResponseHead struct {
	Status        string // the full status text, e.g. "200 OK"
	ContentType   string
	Framing       Framing
	ContentLength int64 // with FramingLength
	Fields        []Field
	Connection    ConnHeader
}

// AppendResponseHead appends h to dst and returns the extended slice:
//
//	HTTP/1.1 <Status>\r\n
//	Content-Type: <ContentType>\r\n
//	Content-Length: <n>\r\n  or  Transfer-Encoding: chunked\r\n  (by Framing)
//	<Name>: <Value>\r\n         (each of Fields)
//	Connection: close\r\n       (or keep-alive, by Connection)
//	\r\n
//
// This is ESP-IDF's order, so captures from a device and from this server
// compare byte for byte. When Connection is said, a Connection field among
// Fields is left out: the head says one thing about the connection. Nothing
// else is validated here: callers check fields with ValidFieldName and
// ValidFieldValue when they are set, not on every send.
func AppendResponseHead(dst []byte, h *ResponseHead) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, h.Status...)
	dst = append(dst, "\r\nContent-Type: "...)
	dst = append(dst, h.ContentType...)
	dst = append(dst, "\r\n"...)
	switch h.Framing {
	case FramingLength:
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, h.ContentLength, 10)
		dst = append(dst, "\r\n"...)
	case FramingChunked:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	for _, f := range h.Fields {
		if h.Connection != ConnUnsaid && equalFoldASCII(f.Name, "Connection") {
			continue
		}
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	switch h.Connection {
	case ConnClose:
		dst = append(dst, "Connection: close\r\n"...)
	case ConnKeepAlive:
		dst = append(dst, "Connection: keep-alive\r\n"...)
	}
	return append(dst, "\r\n"...)
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// AppendChunk appends data as one chunk, "<hex len>\r\n<data>\r\n". Empty
// data appends the last chunk, "0\r\n\r\n", which ends the body: a
// zero-length chunk cannot be sent any other way.
func AppendChunk(dst, data []byte) []byte {
	if len(data) == 0 {
		return append(dst, "0\r\n\r\n"...)
	}
	dst = AppendChunkHeader(dst, len(data))
	dst = append(dst, data...)
	return append(dst, "\r\n"...)
}

// AppendChunkHeader appends the size line of an n-byte chunk, "<hex n>\r\n",
// for senders that write the data from its own buffer; the data must be
// followed by "\r\n". Lower-case hex, as ESP-IDF's "%x". A negative n is
// written as 0.
func AppendChunkHeader(dst []byte, n int) []byte {
	const digits = "0123456789abcdef"
	var buf [16]byte
	u := uint64(max(n, 0))
	i := len(buf)
	for {
		i--
		buf[i] = digits[u&0xf]
		if u >>= 4; u == 0 {
			break
		}
	}
	dst = append(dst, buf[i:]...)
	return append(dst, "\r\n"...)
}

// ValidFieldName reports whether s is a field name: a non-empty RFC 9110
// token.
func ValidFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// ValidFieldValue reports whether s may be sent as a field value: no CR,
// LF, NUL or other control character except HTAB. Those would let a value
// end the field, or the head, early: header injection.
func ValidFieldValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
