package httpd

import "strings"

// HeaderStatus says whether a dynamic resource received every request
// header it asked for (enum http_header_status).
type HeaderStatus int

// The header capture statuses.
const (
	// HeaderStatusOK: every wanted header present in the request fitted.
	HeaderStatusOK HeaderStatus = iota
	// HeaderStatusDropped: at least one wanted header did not fit (too
	// many, or too long for the capture buffer) and is missing.
	HeaderStatusDropped
	// HeaderStatusNone: no headers in this call (after the first one).
	HeaderStatusNone
)

// String returns Zephyr's name without the HTTP_HEADER_STATUS_ prefix.
func (s HeaderStatus) String() string {
	switch s {
	case HeaderStatusOK:
		return "OK"
	case HeaderStatusDropped:
		return "DROPPED"
	}
	return "NONE"
}

// Zephyr's defaults: CONFIG_HTTP_SERVER_CAPTURE_HEADER_COUNT and
// CONFIG_HTTP_SERVER_CAPTURE_HEADER_BUFFER_SIZE.
const (
	defaultCaptureCount      = 3
	defaultCaptureBufferSize = 128
)

// headerCapture is what a resource wants captured, and how much room it
// has: Zephyr's per-client capture buffer, with its limits.
type headerCapture struct {
	names      []string
	count      int
	bufferSize int
}

func newHeaderCapture(d *DynamicResource) headerCapture {
	c := headerCapture{names: d.CaptureHeaders, count: d.CaptureCount, bufferSize: d.CaptureBufferSize}
	if c.count <= 0 {
		c.count = defaultCaptureCount
	}
	if c.bufferSize <= 0 {
		c.bufferSize = defaultCaptureBufferSize
	}
	return c
}

// take captures the wanted headers of r in the order received. As in
// Zephyr, a header that does not fit is dropped (and reported), and later
// ones that fit are still kept.
func (c *headerCapture) take(r *Req) ([]Header, HeaderStatus) {
	if len(c.names) == 0 {
		return nil, HeaderStatusNone
	}
	var got []Header
	status, used := HeaderStatusOK, 0
	for name, value := range r.HdrAll() {
		want := ""
		for _, n := range c.names {
			if strings.EqualFold(n, name) {
				want = n
				break
			}
		}
		if want == "" {
			continue
		}
		// Each name and value takes its bytes and a NUL in Zephyr's buffer.
		need := len(want) + 1 + len(value) + 1
		if len(got) == c.count || used+need > c.bufferSize {
			status = HeaderStatusDropped
			continue
		}
		used += need
		got = append(got, Header{Name: want, Value: value})
	}
	return got, status
}
