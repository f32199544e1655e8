package h1

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fuzzLimits turns two fuzzer-chosen numbers into limits small enough that
// the fuzzer reaches them.
func fuzzLimits(uri, hdr uint16) Limits {
	return Limits{MaxURILen: 1 + int(uri%600), MaxHeaderBytes: 1 + int(hdr%1200)}
}

func FuzzParse(f *testing.F) {
	for _, c := range okCases() {
		f.Add([]byte(c.in), uint16(511), uint16(511))
	}
	for _, c := range errCases() {
		f.Add([]byte(c.in), uint16(c.limits.uriLen()-1), uint16(c.limits.headerLen()-1))
	}
	f.Add([]byte(typicalGET), uint16(511), uint16(511))
	f.Add([]byte("GET / HTTP/1.1\r\nA: b\r\n\r\n"), uint16(0), uint16(5))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"), uint16(9), uint16(60))

	f.Fuzz(func(t *testing.T, in []byte, uriMax, hdrMax uint16) {
		l := fuzzLimits(uriMax, hdrMax)
		whole := parseWhole(l, in)
		if whole.err != nil && whole.err != ErrIncomplete && statusOf(whole.err) == 0 {
			t.Fatalf("error of unknown kind: %v", whole.err)
		}
		if whole.err == nil && (whole.n <= 0 || whole.n > len(in)) {
			t.Fatalf("n = %d for %d bytes", whole.n, len(in))
		}

		// The verdict does not depend on how the bytes arrive.
		if got := parseSplit(l, in, []int{1}); !got.equal(whole) {
			t.Fatalf("byte by byte: %v\nwhole: %v", got, whole)
		}
		steps := []int{len(in)%7 + 1, len(in)%13 + 2}
		if got := parseSplit(l, in, steps); !got.equal(whole) {
			t.Fatalf("steps %v: %v\nwhole: %v", steps, got, whole)
		}

		// No prefix succeeds early or with another verdict.
		if len(in) <= 2048 {
			checkPrefixes(t, l, in)
		}

		if whole.err != nil {
			return
		}
		// A parsed head written out again parses to the same request.
		var p Parser
		var req Request
		p.Limits = l
		if _, err := p.Parse(in, &req); err != nil {
			t.Fatal(err)
		}
		out := append([]byte(nil), MethodNames[req.Method]...)
		out = append(out, ' ')
		out = append(out, req.URI...)
		out = append(out, " HTTP/1."...)
		out = strconv.AppendInt(out, int64(req.ProtoMinor), 10)
		out = append(out, "\r\n"...)
		for _, h := range req.Headers {
			out = append(out, h.Name...)
			out = append(out, ": "...)
			out = append(out, h.Value...)
			out = append(out, "\r\n"...)
		}
		out = append(out, "\r\n"...)
		// ": " and CRLF may be longer than what was sent.
		l2 := Limits{MaxURILen: l.MaxURILen, MaxHeaderBytes: l.MaxHeaderBytes + 3*len(req.Headers)}
		again := parseWhole(l2, out)
		if again.err != nil || again.n != len(out) {
			t.Fatalf("reparse of %q: %v", out, again)
		}
		if diff := cmp.Diff(whole.req, again.req); diff != "" {
			t.Fatalf("reparse differs (-first +second):\n%s", diff)
		}
	})
}

func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint64(1))
	f.Add([]byte("5;a=b\nhello\n0\nT: v\n\nrest"), uint64(2))
	f.Add([]byte("0000000000000001\r\nx\r\n0\r\n\r\n"), uint64(3))
	f.Add([]byte("8000000000000000\r\n"), uint64(4))
	f.Add([]byte("3\r\nabc\rX"), uint64(5))
	f.Add([]byte("0\r\nX: 1\r\n\r\n"), uint64(6))
	f.Add([]byte(""), uint64(7))
	f.Add([]byte("payload bytes for the round trip"), uint64(8))

	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 99))

		// Decoding in random splits equals decoding whole.
		whole := decodeWhole(in)
		if whole.Consumed > len(in) || len(whole.Payload) > whole.Consumed {
			t.Fatalf("impossible result %+v for %d bytes", whole, len(in))
		}
		if whole.Status == 0 && !whole.Done && whole.Consumed != len(in) {
			t.Fatalf("stopped early without error or end: %+v", whole)
		}
		var d ChunkedDecoder
		if got := decodeSplit(&d, in, []int{1}); !cmp.Equal(whole, got) {
			t.Fatalf("byte by byte: %s", cmp.Diff(whole, got))
		}
		steps := []int{rng.IntN(16) + 1, rng.IntN(64) + 1, rng.IntN(3) + 1}
		d.Reset()
		if got := decodeSplit(&d, in, steps); !cmp.Equal(whole, got) {
			t.Fatalf("steps %v: %s", steps, cmp.Diff(whole, got))
		}

		// The input as payloads: what AppendChunk encodes decodes back.
		var enc []byte
		for rest := in; len(rest) > 0; {
			k := min(len(rest), rng.IntN(40)+1)
			enc = AppendChunk(enc, rest[:k])
			rest = rest[k:]
		}
		enc = AppendChunk(enc, nil)
		want := decoded{Payload: string(in), Consumed: len(enc), Done: true}
		enc = append(enc, "GET /next"...)
		d.Reset()
		if got := decodeSplit(&d, enc, steps); !cmp.Equal(want, got) {
			t.Fatalf("round trip, steps %v: %s", steps, cmp.Diff(want, got))
		}
	})
}
