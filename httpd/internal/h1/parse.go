// Package h1 is the HTTP/1.1 wire layer of esphttpd: an incremental
// request-head parser with ESP-IDF's limits, a chunked-body decoder and the
// response-head writers. It knows nothing about sessions or handlers.
//
// Everything here works on caller-owned byte slices and, once buffers have
// grown to their working size, allocates nothing per request: the server
// runs one worker for every session and must not feed the garbage collector
// on each request.
package h1

import (
	"encoding/binary"
	"errors"
	"math"
)

// ErrIncomplete means the buffer holds the start of a valid request head, within
// the limits so far, and more bytes are needed.
var ErrIncomplete = errors.New("h1: incomplete request head")

// Error is a malformed or refused request. Status is the HTTP status ESP-IDF
// answers it with (400, 414, 431, 501, 505); httpd maps it to its error code.
type Error struct {
	Status int
	Reason string
}

// Error returns "h1: " followed by the reason.
func (e *Error) Error() string { return "h1: " + e.Reason }

// The errors are allocated once: returning a fresh *Error per bad request
// would let a hostile client make the server allocate at will.
var (
	errRequestLine   = &Error{400, "malformed request line"}
	errTarget        = &Error{400, "invalid request-target"}
	errVersionSyntax = &Error{400, "malformed HTTP version"}
	errBareCR        = &Error{400, "CR not followed by LF"}
	errLeadingLines  = &Error{400, "too many empty lines before request line"}
	errObsFold       = &Error{400, "obsolete line folding in header section"}
	errNoColon       = &Error{400, "malformed header line: no colon"}
	errEmptyName     = &Error{400, "empty header field name"}
	errSpaceColon    = &Error{400, "whitespace between header field name and colon"}
	errFieldName     = &Error{400, "invalid header field name"}
	errFieldValue    = &Error{400, "invalid header field value"}
	errContentLength = &Error{400, "invalid Content-Length"}
	errDupLength     = &Error{400, "conflicting Content-Length headers"}
	errLengthAndTE   = &Error{400, "both Content-Length and Transfer-Encoding"}
	errEmptyTE       = &Error{400, "empty Transfer-Encoding"}
	errChunkedTwice  = &Error{400, "chunked transfer coding applied twice"}
	errChunkedLast   = &Error{400, "chunked is not the final transfer coding"}
	errURITooLong    = &Error{414, "request-target too long"}
	errHeaderTooLong = &Error{431, "header section too large"}
	errMethod        = &Error{501, "method not implemented"}
	errTECoding      = &Error{501, "unsupported transfer coding"}
	errVersion       = &Error{505, "HTTP version not supported"}
)

// Header is one header field. Both slices point into the buffer given to
// Parse and are capped at their length, so appending to one cannot
// overwrite the bytes that follow it.
type Header struct {
	Name  []byte // as sent; compare case-insensitively
	Value []byte // leading and trailing SP/HTAB removed
}

// Request is a parsed request head. Its slices point into the buffer given
// to Parse and are valid only while that buffer is.
type Request struct {
	Method     int    // method id, MethodGet etc.
	URI        []byte // request-target as sent: path plus optional ?query
	ProtoMinor int    // 0 for HTTP/1.0, 1 for HTTP/1.1

	// Headers are the header fields in the order sent. Parse reuses the
	// backing array, so it allocates only when a request has more fields
	// than any before it.
	Headers []Header

	ContentLength int64 // -1 when there is no Content-Length header
	Chunked       bool  // Transfer-Encoding: chunked

	// Close means the connection must close after the response:
	// "Connection: close", or HTTP/1.0 without "Connection: keep-alive" or
	// with Transfer-Encoding.
	Close bool

	// Expect100 is "Expect: 100-continue" on an HTTP/1.1 request; RFC 9110
	// has servers ignore it from HTTP/1.0 clients.
	Expect100 bool

	Upgrade []byte // value of the first Upgrade header; nil when absent
}

// Header returns the value of the first field called name, compared ASCII
// case-insensitively.
func (r *Request) Header(name string) ([]byte, bool) {
	for i := range r.Headers {
		if equalFold(r.Headers[i].Name, name) {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// Default limits: ESP-IDF's HTTPD_MAX_URI_LEN and HTTPD_MAX_REQ_HDR_LEN.
const (
	defaultMaxURILen      = 512
	defaultMaxHeaderBytes = 512

	// maxLimit bounds configured limits so offset arithmetic cannot
	// overflow.
	maxLimit = 1 << 30

	// maxLeadingEmptyLines is how many empty lines before the request line
	// are skipped (RFC 9112, section 2.2: a client may send a CRLF after a
	// POST body). More than a few is not a confused client.
	maxLeadingEmptyLines = 4
)

// Limits bounds a request head. A zero or negative field means ESP-IDF's
// default of 512 bytes.
type Limits struct {
	// MaxURILen is the longest request-target accepted; longer is 414
	// (HTTPD_MAX_URI_LEN).
	MaxURILen int

	// MaxHeaderBytes bounds the header section after the request line:
	// each field line counts with its line ending, the final empty line
	// does not. More is 431 (HTTPD_MAX_REQ_HDR_LEN).
	MaxHeaderBytes int
}

func (l *Limits) uriLen() int    { return limit(l.MaxURILen, defaultMaxURILen) }
func (l *Limits) headerLen() int { return limit(l.MaxHeaderBytes, defaultMaxHeaderBytes) }

func limit(v, def int) int {
	if v <= 0 {
		return def
	}
	return min(v, maxLimit)
}

// Parser states. Each names the byte Parse examines next, so a call can stop
// at any byte and the next one resumes there.
const (
	stLeading   uint8 = iota // at the start of a line before the request line
	stLeadingLF              // CR seen on an empty line before the request line
	stMethod                 // in the method token
	stTarget                 // in the request-target
	stVersion                // in "HTTP/x.y"
	stRequestLF              // CR seen at the end of the request line
	stLineStart              // at the start of a header line or the final empty line
	stName                   // in a field name
	stOWS                    // between the colon and the field value
	stValue                  // in a field value
	stFieldLF                // CR seen at the end of a field line
	stEndLF                  // CR seen on the final empty line
	stDone                   // the head is complete
	stFailed                 // the head was refused
)

// Flags collected from the special header fields.
const (
	fLength    = 1 << iota // Content-Length seen
	fTE                    // Transfer-Encoding seen
	fChunked               // chunked seen in Transfer-Encoding
	fClose                 // "close" in Connection
	fKeepAlive             // "keep-alive" in Connection
	fExpect                // Expect: 100-continue
)

// span locates one header field in the buffer. Offsets rather than slices
// keep the parse correct if the caller's buffer moves between calls.
type span struct{ name, nameEnd, value, valueEnd int }

// Parser parses one request head at a time, incrementally: call Parse with
// the growing buffer (same prefix, more bytes appended) until it stops
// returning ErrIncomplete. It remembers where it stopped, so bytes dripped
// in one at a time are not rescanned from the start. Call Reset before
// the next request. The zero Parser is ready to use with default limits.
type Parser struct {
	Limits Limits

	state  uint8
	pos    int // next byte to examine
	n      int // length of the head once stDone
	err    *Error
	line   int // start of the current line: method, then each field line
	target int // request-target start
	tEnd   int // request-target end
	ver    int // "HTTP/x.y" start

	// The field line being scanned.
	nameEnd  int
	value    int
	valueEnd int // value end without trailing whitespace, once the line ends

	headerBytes int // field lines completed so far, line endings included
	leading     int // empty lines skipped before the request line
	method      int
	minor       int
	flags       int
	length      int64
	upgrade     int // 1 + index in spans of the first Upgrade field, or 0
	spans       []span
}

// Reset prepares p for the next request, keeping its limits and the storage
// it has grown.
func (p *Parser) Reset() {
	*p = Parser{Limits: p.Limits, spans: p.spans[:0]}
}

// Parse parses the request head at the start of buf. When the head is
// complete it fills req and returns the head's length: the request line,
// the header fields and the final empty line, plus any empty lines skipped
// before the request line; the body, if any, starts at buf[n:].
//
// Until then it returns ErrIncomplete, and req is not touched. A refused
// head is an *Error whose Status is the response ESP-IDF sends. An error is
// reported as soon as the bytes that cause it have arrived, so the verdict
// on a buffer never depends on how it was split into calls, and a head
// over its limits fails before its end arrives.
//
// Once Parse has returned a result other than ErrIncomplete it returns the
// same result until Reset.
func (p *Parser) Parse(buf []byte, req *Request) (n int, err error) {
	switch {
	case p.state == stFailed:
		return 0, p.err
	case len(buf) < p.pos || p.state == stDone && len(buf) < p.n:
		// The caller broke the contract and shrank the buffer: start
		// over rather than index past its end.
		p.Reset()
	case p.state == stDone:
		p.fill(buf, req)
		return p.n, nil
	}

	maxURI, maxHeader := p.Limits.uriLen(), p.Limits.headerLen()
	i := p.pos
	for {
		if i >= len(buf) {
			p.pos = i
			return 0, ErrIncomplete
		}
		// Header lines count against the header budget: a field line's
		// byte at index hlim or beyond is one too many.
		hlim := p.line + maxHeader - p.headerBytes

		switch p.state {
		case stLeading:
			switch buf[i] {
			case '\r':
				p.state = stLeadingLF
				i++
			case '\n':
				if p.leading++; p.leading > maxLeadingEmptyLines {
					return p.fail(errLeadingLines)
				}
				i++
			default:
				p.line = i
				p.state = stMethod
			}

		case stLeadingLF:
			if buf[i] != '\n' {
				return p.fail(errBareCR)
			}
			if p.leading++; p.leading > maxLeadingEmptyLines {
				return p.fail(errLeadingLines)
			}
			i++
			p.state = stLeading

		case stMethod:
			for i < len(buf) && isTchar(buf[i]) {
				if i-p.line == maxMethodLen {
					// A valid token, but longer than any method we know.
					return p.fail(errMethod)
				}
				i++
			}
			if i == len(buf) {
				continue
			}
			if buf[i] != ' ' || i == p.line {
				return p.fail(errRequestLine)
			}
			m, ok := LookupMethod(buf[p.line:i])
			if !ok {
				return p.fail(errMethod)
			}
			p.method = m
			i++
			p.target = i
			p.state = stTarget

		case stTarget:
			i = skipTarget(buf, i, min(len(buf), p.target+maxURI))
			if i == len(buf) {
				continue
			}
			switch c := buf[i]; {
			case c == ' ':
				if i == p.target {
					return p.fail(errRequestLine)
				}
				if !validTarget(buf[p.target:i], p.method) {
					return p.fail(errTarget)
				}
				p.tEnd = i
				i++
				p.ver = i
				p.state = stVersion
			case isTargetByte(c):
				// The loop stopped at the limit, not at a delimiter.
				return p.fail(errURITooLong)
			case c == '\r' || c == '\n':
				// "GET /": an HTTP/0.9 request, or a line cut short.
				return p.fail(errRequestLine)
			default:
				return p.fail(errTarget)
			}

		case stVersion:
			for ; i < len(buf) && i-p.ver < len("HTTP/1.1"); i++ {
				if !versionByte(i-p.ver, buf[i]) {
					return p.fail(errVersionSyntax)
				}
			}
			if i == len(buf) {
				continue
			}
			c := buf[i]
			if c != '\r' && c != '\n' {
				return p.fail(errVersionSyntax)
			}
			major, minor := buf[p.ver+5]-'0', buf[p.ver+7]-'0'
			if major != 1 || minor > 1 {
				return p.fail(errVersion)
			}
			p.minor = int(minor)
			i++
			if c == '\r' {
				p.state = stRequestLF
			} else {
				p.line = i
				p.state = stLineStart
			}

		case stRequestLF:
			if buf[i] != '\n' {
				return p.fail(errBareCR)
			}
			i++
			p.line = i
			p.state = stLineStart

		case stLineStart:
			switch c := buf[i]; {
			case c == '\n':
				return p.finish(buf, i+1, req)
			case c == '\r':
				// Possibly the final empty line, which does not count
				// against the budget.
				p.state = stEndLF
				i++
			case i >= hlim:
				return p.fail(errHeaderTooLong)
			case isTchar(c):
				p.state = stName
				i++
			case c == ' ' || c == '\t':
				// RFC 9112, section 5.2: obs-fold is rejected rather than
				// joined, since peers disagree on what it means.
				return p.fail(errObsFold)
			case c == ':':
				return p.fail(errEmptyName)
			default:
				return p.fail(errFieldName)
			}

		case stName:
			end := min(len(buf), hlim)
			for i < end && isTchar(buf[i]) {
				i++
			}
			if i == len(buf) {
				continue
			}
			if i >= hlim {
				return p.fail(errHeaderTooLong)
			}
			switch buf[i] {
			case ':':
				p.nameEnd = i
				i++
				p.state = stOWS
			case ' ', '\t':
				// RFC 9112, section 5.1: a server MUST reject this, as
				// proxies have read such names differently.
				return p.fail(errSpaceColon)
			case '\r', '\n':
				return p.fail(errNoColon)
			default:
				return p.fail(errFieldName)
			}

		case stOWS:
			end := min(len(buf), hlim)
			for i < end && (buf[i] == ' ' || buf[i] == '\t') {
				i++
			}
			if i == len(buf) {
				continue
			}
			if i >= hlim {
				return p.fail(errHeaderTooLong)
			}
			p.value = i
			p.state = stValue

		case stValue:
			i = skipValue(buf, i, min(len(buf), hlim))
			if i == len(buf) {
				continue
			}
			if i >= hlim {
				return p.fail(errHeaderTooLong)
			}
			switch buf[i] {
			case '\r':
				p.valueEnd = trimEnd(buf, p.value, i)
				p.state = stFieldLF
				i++
			case '\n':
				p.valueEnd = trimEnd(buf, p.value, i)
				i++
				if err := p.endField(buf, i); err != nil {
					return p.fail(err)
				}
			default:
				return p.fail(errFieldValue)
			}

		case stFieldLF:
			if i >= hlim {
				return p.fail(errHeaderTooLong)
			}
			if buf[i] != '\n' {
				return p.fail(errBareCR)
			}
			i++
			if err := p.endField(buf, i); err != nil {
				return p.fail(err)
			}

		case stEndLF:
			if buf[i] != '\n' {
				return p.fail(errBareCR)
			}
			return p.finish(buf, i+1, req)
		}
	}
}

func (p *Parser) fail(err *Error) (int, error) {
	p.state = stFailed
	p.err = err
	return 0, err
}

func (p *Parser) finish(buf []byte, n int, req *Request) (int, error) {
	p.state = stDone
	p.n = n
	p.pos = n
	p.fill(buf, req)
	return n, nil
}

// endField records the field line ending just before next and applies the
// fields that frame the message.
func (p *Parser) endField(buf []byte, next int) *Error {
	s := span{p.line, p.nameEnd, p.value, p.valueEnd}
	p.headerBytes += next - p.line
	p.line = next
	p.state = stLineStart
	p.spans = append(p.spans, s)

	name, value := buf[s.name:s.nameEnd], buf[s.value:s.valueEnd]
	switch len(name) {
	case len("content-length"):
		if equalFold(name, "content-length") {
			return p.contentLength(value)
		}
	case len("transfer-encoding"):
		if equalFold(name, "transfer-encoding") {
			return p.transferEncoding(value)
		}
	case len("connection"):
		if equalFold(name, "connection") {
			for len(value) > 0 {
				var tok []byte
				tok, value = nextElement(value)
				if equalFold(tok, "close") {
					p.flags |= fClose
				} else if equalFold(tok, "keep-alive") {
					p.flags |= fKeepAlive
				}
			}
		}
	case len("expect"):
		if equalFold(name, "expect") && equalFold(value, "100-continue") {
			p.flags |= fExpect
		}
	case len("upgrade"):
		if equalFold(name, "upgrade") && p.upgrade == 0 {
			p.upgrade = len(p.spans)
		}
	}
	return nil
}

// contentLength applies a Content-Length field. The list form "5, 5" is
// refused like any other non-digit value: only 1*DIGIT is accepted (RFC
// 9110, section 8.6), so two peers can never disagree on the length.
func (p *Parser) contentLength(v []byte) *Error {
	if len(v) == 0 {
		return errContentLength
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return errContentLength
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return errContentLength
		}
		n = n*10 + d
	}
	if p.flags&fTE != 0 {
		return errLengthAndTE
	}
	if p.flags&fLength != 0 && n != p.length {
		return errDupLength
	}
	p.flags |= fLength
	p.length = n
	return nil
}

// transferEncoding applies a Transfer-Encoding field. Codings accumulate
// across fields in order. Only chunked is implemented: any other coding is
// 501, while chunked applied twice or not last is 400 because the body's
// end could not be found (RFC 9112, section 6.3).
func (p *Parser) transferEncoding(v []byte) *Error {
	// Content-Length beside Transfer-Encoding is how requests are smuggled
	// past proxies that honour the other one.
	if p.flags&fLength != 0 {
		return errLengthAndTE
	}
	codings := 0
	for len(v) > 0 {
		var coding []byte
		coding, v = nextElement(v)
		if len(coding) == 0 {
			continue // RFC 9110, section 5.6.1: empty list elements are ignored
		}
		codings++
		switch {
		case p.flags&fChunked != 0 && equalFold(coding, "chunked"):
			return errChunkedTwice
		case p.flags&fChunked != 0:
			return errChunkedLast
		case equalFold(coding, "chunked"):
			p.flags |= fChunked
		default:
			return errTECoding
		}
	}
	if codings == 0 {
		return errEmptyTE
	}
	p.flags |= fTE
	return nil
}

// fill sets req from the scan state; it runs once the head is complete so
// req is never left half-written by an incomplete or refused head.
func (p *Parser) fill(buf []byte, req *Request) {
	req.Method = p.method
	req.URI = buf[p.target:p.tEnd:p.tEnd]
	req.ProtoMinor = p.minor
	req.Headers = req.Headers[:0]
	for _, s := range p.spans {
		req.Headers = append(req.Headers, Header{
			Name:  buf[s.name:s.nameEnd:s.nameEnd],
			Value: buf[s.value:s.valueEnd:s.valueEnd],
		})
	}
	req.ContentLength = -1
	if p.flags&fLength != 0 {
		req.ContentLength = p.length
	}
	req.Chunked = p.flags&fChunked != 0
	// RFC 9112, section 6.1: Transfer-Encoding in an HTTP/1.0 request is
	// suspect framing, so the connection closes after it whatever the
	// client asked for.
	req.Close = p.flags&fClose != 0 || p.minor == 0 && (p.flags&fKeepAlive == 0 || p.flags&fTE != 0)
	req.Expect100 = p.flags&fExpect != 0 && p.minor == 1
	req.Upgrade = nil
	if p.upgrade != 0 {
		req.Upgrade = req.Headers[p.upgrade-1].Value
	}
}

// validTarget reports whether t is a request-target form this server
// serves (RFC 9112, section 3.2): origin-form, "*" for OPTIONS (and SSDP),
// absolute-form
// with an http or https scheme, and authority-form, which only CONNECT uses.
func validTarget(t []byte, method int) bool {
	switch {
	case t[0] == '/':
		return true
	case len(t) == 1 && t[0] == '*':
		// asterisk-form: OPTIONS, and SSDP's M-SEARCH and NOTIFY, which
		// address the whole device the same way.
		return method == MethodOptions || method == MethodMsearch || method == MethodNotify
	case hasPrefixFold(t, "http://"), hasPrefixFold(t, "https://"):
		return true
	default:
		return method == MethodConnect
	}
}

// versionByte reports whether c may be byte k of "HTTP/" DIGIT "." DIGIT.
// The name is case-sensitive (RFC 9112, section 2.3).
func versionByte(k int, c byte) bool {
	switch k {
	case 5, 7:
		return '0' <= c && c <= '9'
	case 6:
		return c == '.'
	}
	return c == "HTTP/"[k]
}

// isTargetByte reports whether c may appear in a request-target. Like
// net/http, only controls and space are refused; bytes above 0x7f are
// let through for clients that send raw UTF-8.
func isTargetByte(c byte) bool { return c > ' ' && c != 0x7f }

// isValueByte reports whether c may appear in a field value: VCHAR,
// obs-text, SP and HTAB (RFC 9110, section 5.5).
func isValueByte(c byte) bool { return c >= ' ' && c != 0x7f || c == '\t' }

// skipTarget returns the index of the first byte in b[i:end] that cannot
// be part of a request-target, or end.
func skipTarget(b []byte, i, end int) int {
	for {
		for end-i >= 8 && !belowOrDEL(binary.LittleEndian.Uint64(b[i:]), ' '+1) {
			i += 8
		}
		// A word with a delimiter in it, or the tail: byte by byte.
		for stop := min(end, i+8); i < stop; i++ {
			if !isTargetByte(b[i]) {
				return i
			}
		}
		if i == end {
			return i
		}
	}
}

// skipValue returns the index of the first byte in b[i:end] that cannot be
// part of a field value, or end.
func skipValue(b []byte, i, end int) int {
	for {
		// Values are most of a head's bytes: check eight at a time.
		for end-i >= 8 && !belowOrDEL(binary.LittleEndian.Uint64(b[i:]), ' ') {
			i += 8
		}
		// A word with a control byte (perhaps just HTAB), or the tail.
		for stop := min(end, i+8); i < stop; i++ {
			if !isValueByte(b[i]) {
				return i
			}
		}
		if i == end {
			return i
		}
	}
}

// belowOrDEL reports whether any byte of x is less than n (n <= 0x80) or is
// DEL, using the exact "has less" and "has zero" word tricks from Sean
// Anderson's Bit Twiddling Hacks.
func belowOrDEL(x uint64, n byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	del := x ^ ones*0x7f // DEL bytes become zero
	return ((x-ones*uint64(n))&^x|(del-ones)&^del)&highs != 0
}

// trimEnd returns end moved back over the whitespace that ends b[start:end].
func trimEnd(b []byte, start, end int) int {
	for end > start && (b[end-1] == ' ' || b[end-1] == '\t') {
		end--
	}
	return end
}

// tchars holds the token characters of RFC 9110, section 5.6.2.
var tchars = [256]bool{
	'!': true, '#': true, '$': true, '%': true, '&': true, '\'': true,
	'*': true, '+': true, '-': true, '.': true, '^': true, '_': true,
	'`': true, '|': true, '~': true,
	'0': true, '1': true, '2': true, '3': true, '4': true,
	'5': true, '6': true, '7': true, '8': true, '9': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true,
	'G': true, 'H': true, 'I': true, 'J': true, 'K': true, 'L': true,
	'M': true, 'N': true, 'O': true, 'P': true, 'Q': true, 'R': true,
	'S': true, 'T': true, 'U': true, 'V': true, 'W': true, 'X': true,
	'Y': true, 'Z': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
	'g': true, 'h': true, 'i': true, 'j': true, 'k': true, 'l': true,
	'm': true, 'n': true, 'o': true, 'p': true, 'q': true, 'r': true,
	's': true, 't': true, 'u': true, 'v': true, 'w': true, 'x': true,
	'y': true, 'z': true,
}

func isTchar(c byte) bool { return tchars[c] }

// nextElement splits the first element off a comma-separated list,
// without the whitespace around it.
func nextElement(v []byte) (elem, rest []byte) {
	for i, c := range v {
		if c == ',' {
			return trimOWS(v[:i]), v[i+1:]
		}
	}
	return trimOWS(v), nil
}

func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether b and s are equal under ASCII case folding;
// unlike bytes.EqualFold it needs no conversion of s, and it never folds
// non-ASCII bytes, which HTTP treats as opaque.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i] != s[i] && lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && equalFold(b[:len(prefix)], prefix)
}
