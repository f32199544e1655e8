package httpd

import (
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// maxRanges bounds the ranges of one request; more get the whole file, as
// a request for many tiny ranges costs the server far more than the client.
const maxRanges = 32

// byteRange is one satisfiable range of a file.
type byteRange struct{ start, length int64 }

func (b byteRange) contentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", b.start, b.start+b.length-1, size)
}

// requestedRanges evaluates Range and If-Range for a GET (RFC 9110 14.2).
// It returns the ranges to send, none for the whole file, or status 416
// when the header is valid but no range is satisfiable. A malformed Range
// is ignored, as the RFC allows.
func requestedRanges(r *Req, etag string, modTime time.Time, size int64) ([]byteRange, int) {
	if r.Method != GET {
		return nil, 0
	}
	spec, err := r.HdrValueStr("Range")
	if err != nil {
		return nil, 0
	}
	if ir, err := r.HdrValueStr("If-Range"); err == nil && !ifRangeMatches(ir, etag, modTime) {
		return nil, 0
	}
	ranges, ok := parseRanges(spec, size)
	if !ok {
		return nil, 0
	}
	if len(ranges) == 0 {
		return nil, http.StatusRequestedRangeNotSatisfiable
	}
	var total int64
	for _, rg := range ranges {
		total += rg.length
	}
	if len(ranges) > maxRanges || total > size {
		return nil, 0
	}
	return ranges, 0
}

// ifRangeMatches: an entity tag must equal etag strongly; a date must
// equal the modification time exactly.
func ifRangeMatches(ir, etag string, modTime time.Time) bool {
	ir = strings.TrimSpace(ir)
	if strings.HasPrefix(ir, `"`) {
		return etag != "" && ir == etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && !modTime.IsZero() && modTime.Truncate(time.Second).Equal(t)
}

// parseRanges parses "bytes=a-b, c-, -n" against size. ok is false for a
// malformed header; the satisfiable ranges may be none.
func parseRanges(spec string, size int64) (ranges []byteRange, ok bool) {
	unit, set, found := strings.Cut(spec, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, false
	}
	n := 0
	for part := range strings.SplitSeq(set, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // empty list elements are allowed (RFC 9110 5.6.1)
		}
		if n++; n > maxRanges*4 {
			return nil, false // not worth parsing further
		}
		first, last, found := strings.Cut(part, "-")
		if !found {
			return nil, false
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		if first == "" {
			// Suffix range: the last n bytes.
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return nil, false
			}
			if n == 0 || size == 0 {
				continue
			}
			n = min(n, size)
			ranges = append(ranges, byteRange{size - n, n})
			continue
		}
		start, err := strconv.ParseInt(first, 10, 64)
		if err != nil || start < 0 {
			return nil, false
		}
		end := size - 1
		if last != "" {
			if end, err = strconv.ParseInt(last, 10, 64); err != nil || end < start {
				return nil, false
			}
		}
		if start >= size {
			continue // unsatisfiable; others may still be
		}
		end = min(end, size-1)
		ranges = append(ranges, byteRange{start, end - start + 1})
	}
	if n == 0 {
		return nil, false
	}
	return ranges, true
}

// copyRange writes the range of f to w.
func copyRange(w io.Writer, f fs.File, rg byteRange) error {
	var src io.Reader
	switch rf := f.(type) {
	case io.ReaderAt:
		src = io.NewSectionReader(rf, rg.start, rg.length)
	case io.Seeker:
		if _, err := rf.Seek(rg.start, io.SeekStart); err != nil {
			return err
		}
		src = io.LimitReader(f, rg.length)
	default:
		return fmt.Errorf("file cannot seek for a range")
	}
	_, err := io.CopyN(w, src, rg.length)
	return err
}

// writeMultipart answers several ranges as multipart/byteranges.
func writeMultipart(w *responseWriter, f fs.File, ranges []byteRange, ctype string, size int64) error {
	mw := multipart.NewWriter(w)
	w.header.Set("Content-Type", "multipart/byteranges; boundary="+mw.Boundary())
	w.WriteHeader(http.StatusPartialContent)
	for _, rg := range ranges {
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":  {ctype},
			"Content-Range": {rg.contentRange(size)},
		})
		if err != nil {
			return err
		}
		if err := copyRange(part, f, rg); err != nil {
			return err
		}
	}
	return mw.Close()
}
