package h1

import "strconv"

// Field is a response header field.
type Field struct{ Name, Value string }

// AppendResponseHead appends a response head to dst and returns the
// extended slice:
//
//	HTTP/1.1 <status>\r\n
//	Content-Type: <contentType>\r\n
//	Content-Length: <contentLength>\r\n   (Transfer-Encoding: chunked\r\n when contentLength < 0)
//	<Name>: <Value>\r\n                  (each of fields)
//	Connection: close\r\n                (when closeConn)
//	\r\n
//
// This is ESP-IDF's order, so captures from a device and from this server
// compare byte for byte. status is the full status text, e.g. "200 OK".
// Nothing is validated here: callers check fields with ValidFieldName and
// ValidFieldValue when they are set, not on every send.
func AppendResponseHead(dst []byte, status, contentType string, contentLength int64, fields []Field, closeConn bool) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, status...)
	dst = append(dst, "\r\nContent-Type: "...)
	dst = append(dst, contentType...)
	if contentLength < 0 {
		dst = append(dst, "\r\nTransfer-Encoding: chunked\r\n"...)
	} else {
		dst = append(dst, "\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, contentLength, 10)
		dst = append(dst, "\r\n"...)
	}
	for _, f := range fields {
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	return append(dst, "\r\n"...)
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
