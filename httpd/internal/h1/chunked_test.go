package h1

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decoded is the outcome of decoding a whole input.
type decoded struct {
	Payload  string
	Consumed int
	Status   int // 0 when no error
	Done     bool
}

// decodeSplit decodes in with pieces whose sizes cycle through steps,
// handing each call a fresh copy so in-place output cannot leak between
// calls. It stops at the end of the body or at the first error.
func decodeSplit(d *ChunkedDecoder, in []byte, steps []int) decoded {
	var out decoded
	var payload []byte
	for off, k := 0, 0; off < len(in) && !d.Done(); k++ {
		end := min(len(in), off+max(steps[k%len(steps)], 1))
		piece := append([]byte(nil), in[off:end]...)
		data, used, err := d.Decode(piece)
		if data > used || used > len(piece) || used < len(piece) && err == nil && !d.Done() {
			panic("Decode broke its contract")
		}
		payload = append(payload, piece[:data]...)
		out.Consumed += used
		off = end
		if err != nil {
			out.Status = statusOf(err)
			break
		}
	}
	out.Payload = string(payload)
	out.Done = d.Done()
	return out
}

func decodeWhole(in []byte) decoded {
	var d ChunkedDecoder
	return decodeSplit(&d, in, []int{len(in)})
}

func TestChunkedAccepts(t *testing.T) {
	long := strings.Repeat("z", 5000)
	for _, tc := range []struct {
		name, in, want string
		rest           string // bytes after the body
	}{
		{"empty body", "0\r\n\r\n", "", ""},
		{"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", ""},
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", ""},
		{"hex cases", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", ""},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", ""},
		{"bare LF", "5\nhello\n0\n\n", "hello", ""},
		{"mixed line endings", "5\r\nhello\n0\n\r\n", "hello", ""},
		{"extensions", "5;name=value;x\r\nhello\r\n0;last=\"a;b\\\"c\"\r\n\r\n", "hello", ""},
		{"BWS before extension", "5 \t;x=1\r\nhello\r\n0\r\n\r\n", "hello", ""},
		{"BWS before line end", "5 \r\nhello\r\n0\t\r\n\r\n", "hello", ""},
		{"trailers", "5\r\nhello\r\n0\r\nX-Sum: 1234\r\nY:\r\n\r\n", "hello", ""},
		{"trailers LF", "5\r\nhello\r\n0\nX-Sum: 1234\n\n", "hello", ""},
		{"CRLF inside data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", ""},
		{"long chunk", "1388\r\n" + long + "\r\n0\r\n\r\n", long, ""},
		{"next request follows", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "abc", "GET / HTTP/1.1\r\n\r\n"},
		{"extension at the size-line limit", "1;" + strings.Repeat("e", maxChunkLine-2) + "\r\nx\r\n0\r\n\r\n", "x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			want := decoded{Payload: tc.want, Consumed: len(in) - len(tc.rest), Done: true}
			if diff := cmp.Diff(want, decodeWhole(in)); diff != "" {
				t.Fatalf("whole (-want +got):\n%s", diff)
			}
			checkChunkedSplits(t, in, want)
		})
	}
}

func checkChunkedSplits(t *testing.T, in []byte, want decoded) {
	t.Helper()
	var d ChunkedDecoder
	if diff := cmp.Diff(want, decodeSplit(&d, in, []int{1})); diff != "" {
		t.Fatalf("byte by byte (-want +got):\n%s", diff)
	}
	rng := rand.New(rand.NewPCG(uint64(len(in)), 7))
	for range 50 {
		steps := []int{rng.IntN(10) + 1, rng.IntN(100) + 1, rng.IntN(3) + 1}
		d.Reset()
		if diff := cmp.Diff(want, decodeSplit(&d, in, steps)); diff != "" {
			t.Fatalf("steps %v (-want +got):\n%s", steps, diff)
		}
	}
}

func TestChunkedErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		status   int
	}{
		{"non-hex size", "g\r\n", 400},
		{"non-hex after digits", "5g\r\nhello\r\n0\r\n\r\n", 400},
		{"empty size", "\r\nhello\r\n", 400},
		{"empty size before extension", ";x\r\n", 400},
		{"negative size", "-5\r\n", 400},
		{"0x prefix", "0x5\r\n", 400},
		{"space before size", " 5\r\n", 400},
		{"space inside size", "5 5\r\n", 400},
		{"size overflow", "8000000000000000\r\n", 400},
		{"size overflow, many digits", strings.Repeat("f", 20) + "\r\n", 400},
		{"endless zeros", strings.Repeat("0", maxChunkLine+1), 400},
		{"size line too long", "1;" + strings.Repeat("e", maxChunkLine-1) + "\r\nx\r\n0\r\n\r\n", 400},
		{"endless extension", "1;" + strings.Repeat("e", 2*maxChunkLine), 400},
		{"control in extension", "1;a\x00b\r\nx\r\n0\r\n\r\n", 400},
		{"CR alone after size", "5\rhello\r\n", 400},
		{"missing CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n", 400},
		{"CR then junk after data", "5\r\nhello\rX0\r\n\r\n", 400},
		{"data longer than size", "3\r\nhello\r\n0\r\n\r\n", 400},
		{"CR alone after last chunk", "0\r\n\rX", 400},
		{"trailer without colon", "0\r\nX-Sum\r\n\r\n", 400},
		{"trailer empty name", "0\r\n: v\r\n\r\n", 400},
		{"trailer space before colon", "0\r\nX : v\r\n\r\n", 400},
		{"trailer obs-fold", "0\r\nX: v\r\n w\r\n\r\n", 400},
		{"trailer NUL", "0\r\nX: a\x00\r\n\r\n", 400},
		{"trailer bare CR", "0\r\nX: a\rb\r\n\r\n", 400},
		{"trailer section too large", "0\r\n" + strings.Repeat("X-Pad: 0123456789\r\n", 300) + "\r\n", 431},
		{"endless trailer", "0\r\nX: " + strings.Repeat("v", 5000), 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			whole := decodeWhole(in)
			if whole.Status != tc.status {
				t.Fatalf("status %d, want %d (%+v)", whole.Status, tc.status, whole)
			}
			checkChunkedSplits(t, in, whole)
		})
	}
}

func TestChunkedTrailerLimit(t *testing.T) {
	trailer := "X: 12\r\n" // 7 bytes
	in := []byte("0\r\n" + trailer + trailer + "\r\n")
	d := ChunkedDecoder{MaxTrailerBytes: 14}
	if _, _, err := d.Decode(append([]byte(nil), in...)); err != nil || !d.Done() {
		t.Fatalf("exactly at the limit: %v, done %v", err, d.Done())
	}
	d = ChunkedDecoder{MaxTrailerBytes: 13}
	if _, _, err := d.Decode(append([]byte(nil), in...)); statusOf(err) != 431 {
		t.Fatalf("one byte over: %v", err)
	}
	// Reset keeps the limit.
	d.Reset()
	if d.MaxTrailerBytes != 13 {
		t.Fatalf("Reset dropped MaxTrailerBytes")
	}
	if _, _, err := d.Decode(append([]byte(nil), in...)); statusOf(err) != 431 {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestChunkedAfterEndAndError(t *testing.T) {
	var d ChunkedDecoder
	in := []byte("1\r\na\r\n0\r\n\r\nrest")
	data, used, err := d.Decode(in)
	if err != nil || data != 1 || used != len(in)-4 || !d.Done() {
		t.Fatalf("Decode = %d, %d, %v", data, used, err)
	}
	if data, used, err := d.Decode([]byte("more")); data != 0 || used != 0 || err != nil {
		t.Fatalf("after end: %d, %d, %v", data, used, err)
	}
	if data, used, err := d.Decode(nil); data != 0 || used != 0 || err != nil {
		t.Fatalf("after end, empty: %d, %d, %v", data, used, err)
	}

	d.Reset()
	_, _, err = d.Decode([]byte("x"))
	if statusOf(err) != 400 {
		t.Fatalf("bad size: %v", err)
	}
	if _, used, err2 := d.Decode([]byte("0\r\n\r\n")); err2 != err || used != 0 {
		t.Fatalf("error not sticky: %d, %v", used, err2)
	}
	d.Reset()
	if _, _, err := d.Decode([]byte("0\r\n\r\n")); err != nil || !d.Done() {
		t.Fatalf("after Reset: %v", err)
	}
}

// TestChunkedRoundTrip encodes random payloads with AppendChunk and checks
// they decode back, split at random.
func TestChunkedRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		var enc, want []byte
		for range rng.IntN(6) {
			chunk := make([]byte, rng.IntN(300)+1)
			for i := range chunk {
				chunk[i] = byte(rng.Uint32())
			}
			want = append(want, chunk...)
			enc = AppendChunk(enc, chunk)
		}
		enc = AppendChunk(enc, nil)
		w := decoded{Payload: string(want), Consumed: len(enc), Done: true}
		if diff := cmp.Diff(w, decodeWhole(enc)); diff != "" {
			t.Fatalf("whole (-want +got):\n%s", diff)
		}
		var d ChunkedDecoder
		steps := []int{rng.IntN(20) + 1, rng.IntN(200) + 1, 1}
		if got := decodeSplit(&d, enc, steps); !cmp.Equal(w, got) {
			t.Fatalf("steps %v: %s", steps, cmp.Diff(w, got))
		}
	}
}

func TestChunkedInPlace(t *testing.T) {
	var d ChunkedDecoder
	buf := []byte("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
	data, used, err := d.Decode(buf)
	if err != nil || used != len(buf) || !bytes.Equal(buf[:data], []byte("abcde")) {
		t.Fatalf("Decode = %q, %d, %v", buf[:data], used, err)
	}
}
