package h1

import "math"

// Chunked decoding errors. Like the head's, they are allocated once.
var (
	errChunkSize     = &Error{400, "invalid chunk size"}
	errChunkOverflow = &Error{400, "chunk size too large"}
	errChunkLine     = &Error{400, "chunk size line too long"}
	errChunkExt      = &Error{400, "invalid byte in chunk extension"}
	errChunkData     = &Error{400, "missing CRLF after chunk data"}
	errTrailer       = &Error{400, "malformed trailer field"}
	errTrailerLong   = &Error{431, "trailer section too large"}
)

const (
	// maxChunkLine bounds a chunk-size line (size, extensions and
	// whitespace, not the line ending). Extensions carry nothing this
	// server uses, so the bound only has to be generous.
	maxChunkLine = 4096

	defaultMaxTrailerBytes = 4096
)

// Decoder states; as with Parser, each names the byte to examine next.
const (
	csSizeStart  uint8 = iota // first byte of a chunk-size line
	csSize                    // in the hex size
	csSizeBWS                 // whitespace after the size
	csExt                     // in chunk extensions
	csSizeLF                  // CR seen at the end of the size line
	csData                    // in chunk data
	csDataCR                  // after chunk data: CR or LF
	csDataLF                  // CR seen after chunk data
	csTrailStart              // start of a trailer line or the final empty line
	csTrailName               // in a trailer field name
	csTrailValue              // in a trailer field value
	csTrailLF                 // CR seen at the end of a trailer line
	csEndLF                   // CR seen on the final empty line
	csDone                    // the body has ended
	csFailed                  // the body was refused
)

// ChunkedDecoder decodes a chunked request body (RFC 9112, section 7.1) in
// place and incrementally: raw bytes go in, payload comes out compacted at
// the front of the same slice, and input may be split at any byte.
// Extensions are skipped; trailer fields are checked for syntax and size,
// then dropped, as ESP-IDF has no API for them. The zero value is ready to
// use.
type ChunkedDecoder struct {
	// MaxTrailerBytes bounds the trailer section, counted like
	// Limits.MaxHeaderBytes; more is 431. Zero or negative means 4096.
	MaxTrailerBytes int

	state   uint8
	size    int64 // the size being read, then the chunk bytes still to come
	line    int   // bytes of the current size line
	trailer int   // bytes of the trailer section so far
	err     *Error
}

// Reset prepares d for the next body, keeping MaxTrailerBytes.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{MaxTrailerBytes: d.MaxTrailerBytes}
}

// Done reports whether the last chunk and the trailer section have been
// decoded.
func (d *ChunkedDecoder) Done() bool { return d.state == csDone }

// Decode decodes p in place. It returns data, the number of payload bytes
// now at p[:data], and consumed, how many bytes of p it used. consumed is
// less than len(p) only once the body has ended (Done): the rest belongs to
// the next request. Errors are *Error values; after one, and after the end
// of the body, Decode consumes nothing.
func (d *ChunkedDecoder) Decode(p []byte) (data, consumed int, err error) {
	if d.state == csFailed {
		return 0, 0, d.err
	}
	maxTrailer := limit(d.MaxTrailerBytes, defaultMaxTrailerBytes)
	w := 0 // payload written so far; never ahead of i
	i := 0
	for i < len(p) {
		c := p[i]
		switch d.state {
		case csSizeStart:
			v := unhex(c)
			if v < 0 {
				return w, i, d.fail(errChunkSize)
			}
			d.size = int64(v)
			d.line = 1
			d.state = csSize
			i++

		case csSize:
			for {
				v := unhex(c)
				if v < 0 {
					break
				}
				if d.size > math.MaxInt64>>4 {
					return w, i, d.fail(errChunkOverflow)
				}
				if d.line++; d.line > maxChunkLine {
					// Only zeros can get here: any other digits overflow
					// first.
					return w, i, d.fail(errChunkLine)
				}
				d.size = d.size<<4 | int64(v)
				if i++; i == len(p) {
					return w, i, nil
				}
				c = p[i]
			}
			switch c {
			case ' ', '\t':
				d.state = csSizeBWS
			case ';':
				d.state = csExt
			case '\r':
				d.state = csSizeLF
			case '\n':
				d.endSizeLine()
			default:
				return w, i, d.fail(errChunkSize)
			}
			if c == ' ' || c == '\t' || c == ';' {
				if d.line++; d.line > maxChunkLine {
					return w, i, d.fail(errChunkLine)
				}
			}
			i++

		case csSizeBWS, csExt:
			// BWS before ";" (RFC 9112, section 7.1.1), and like net/http,
			// before the line ending. Inside extensions anything but
			// controls is accepted: quoted strings may hold any of it.
			switch {
			case c == '\r':
				d.state = csSizeLF
			case c == '\n':
				d.endSizeLine()
			case d.state == csSizeBWS && c == ';':
				d.state = csExt
			case d.state == csSizeBWS && c != ' ' && c != '\t':
				return w, i, d.fail(errChunkSize)
			case c < ' ' && c != '\t' || c == 0x7f:
				return w, i, d.fail(errChunkExt)
			}
			if c != '\r' && c != '\n' {
				if d.line++; d.line > maxChunkLine {
					return w, i, d.fail(errChunkLine)
				}
			}
			i++

		case csSizeLF:
			if c != '\n' {
				return w, i, d.fail(errBareCR)
			}
			d.endSizeLine()
			i++

		case csData:
			n := len(p) - i
			if int64(n) > d.size {
				n = int(d.size)
			}
			if w != i {
				copy(p[w:], p[i:i+n])
			}
			w += n
			i += n
			if d.size -= int64(n); d.size == 0 {
				d.state = csDataCR
			}

		case csDataCR:
			switch c {
			case '\r':
				d.state = csDataLF
			case '\n':
				d.state = csSizeStart
			default:
				return w, i, d.fail(errChunkData)
			}
			i++

		case csDataLF:
			if c != '\n' {
				return w, i, d.fail(errChunkData)
			}
			d.state = csSizeStart
			i++

		case csTrailStart:
			switch {
			case c == '\r':
				d.state = csEndLF
				i++
				continue
			case c == '\n':
				d.state = csDone
				return w, i + 1, nil
			case isTchar(c):
				d.state = csTrailName
			default:
				// Includes obs-fold, refused as in the head.
				return w, i, d.fail(errTrailer)
			}
			if d.trailer++; d.trailer > maxTrailer {
				return w, i, d.fail(errTrailerLong)
			}
			i++

		case csTrailName, csTrailValue, csTrailLF:
			if d.trailer++; d.trailer > maxTrailer {
				return w, i, d.fail(errTrailerLong)
			}
			switch {
			case d.state == csTrailLF:
				if c != '\n' {
					return w, i, d.fail(errBareCR)
				}
				d.state = csTrailStart
			case d.state == csTrailName:
				if c == ':' {
					d.state = csTrailValue
				} else if !isTchar(c) {
					return w, i, d.fail(errTrailer)
				}
			case c == '\r':
				d.state = csTrailLF
			case c == '\n':
				d.state = csTrailStart
			case c < ' ' && c != '\t' || c == 0x7f:
				return w, i, d.fail(errTrailer)
			}
			i++

		case csEndLF:
			if c != '\n' {
				return w, i, d.fail(errBareCR)
			}
			d.state = csDone
			return w, i + 1, nil

		case csDone:
			return w, i, nil
		}
	}
	return w, i, nil
}

func (d *ChunkedDecoder) endSizeLine() {
	if d.size == 0 {
		d.state = csTrailStart
	} else {
		d.state = csData
	}
}

func (d *ChunkedDecoder) fail(err *Error) error {
	d.state = csFailed
	d.err = err
	return err
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
