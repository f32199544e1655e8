package h1

import (
	"errors"
	"fmt"

	"github.com/google/go-cmp/cmp"
)

// view is a Request with strings for slices, for go-cmp comparisons and
// readable diffs.
type view struct {
	Method        string
	URI           string
	ProtoMinor    int
	Headers       []string // "Name: Value"
	ContentLength int64
	Chunked       bool
	Close         bool
	Expect100     bool
	Upgrade       *string
}

func viewOf(r *Request) view {
	v := view{
		URI:           string(r.URI),
		ProtoMinor:    r.ProtoMinor,
		ContentLength: r.ContentLength,
		Chunked:       r.Chunked,
		Close:         r.Close,
		Expect100:     r.Expect100,
	}
	if r.Method >= 0 && r.Method < NumMethods {
		v.Method = MethodNames[r.Method]
	} else {
		v.Method = fmt.Sprintf("method(%d)", r.Method)
	}
	for _, h := range r.Headers {
		v.Headers = append(v.Headers, string(h.Name)+": "+string(h.Value))
	}
	if r.Upgrade != nil {
		s := string(r.Upgrade)
		v.Upgrade = &s
	}
	return v
}

func strp(s string) *string { return &s }

// result is one Parse outcome.
type result struct {
	n   int
	err error
	req view
}

func (r result) String() string {
	if r.err != nil {
		return fmt.Sprintf("n=%d err=%v", r.n, r.err)
	}
	return fmt.Sprintf("n=%d req=%+v", r.n, r.req)
}

func (r result) equal(o result) bool {
	if r.n != o.n || r.err != o.err {
		return false
	}
	if r.err != nil {
		return true
	}
	return cmp.Equal(r.req, o.req)
}

// parseWhole parses buf in one call with a fresh parser.
func parseWhole(l Limits, buf []byte) result {
	p := Parser{Limits: l}
	var req Request
	n, err := p.Parse(buf, &req)
	r := result{n: n, err: err}
	if err == nil {
		r.req = viewOf(&req)
	}
	return r
}

// parseSplit parses buf with one parser, handing it prefixes that grow
// by the sizes in steps (cycled); it stops at the first result other than
// ErrIncomplete, as a server would.
func parseSplit(l Limits, buf []byte, steps []int) result {
	p := Parser{Limits: l}
	// A request reused from an earlier, bigger request, as a server does.
	req := Request{Headers: make([]Header, 3, 40)}
	end := 0
	for k := 0; ; k++ {
		end = min(len(buf), end+max(steps[k%len(steps)], 1))
		// A fresh copy each call proves nothing is kept from an earlier
		// buffer.
		cp := append([]byte(nil), buf[:end]...)
		n, err := p.Parse(cp, &req)
		if err != ErrIncomplete || end == len(buf) {
			r := result{n: n, err: err}
			if err == nil {
				r.req = viewOf(&req)
			}
			return r
		}
	}
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
