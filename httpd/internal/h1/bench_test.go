package h1

import (
	"bytes"
	"strings"
	"testing"
)

// typicalGET is a keep-alive browser GET with 8 request headers.
const typicalGET = "GET /api/v1/status?verbose=1 HTTP/1.1\r\n" +
	"Host: 192.168.4.1\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=0123456789abcdef\r\n" +
	"Cache-Control: no-cache\r\n" +
	"\r\n"

// dripHead is a 512-byte head: typicalGET with its Cookie padded.
var dripHead = func() []byte {
	pad := 512 - len(typicalGET)
	return []byte(strings.Replace(typicalGET, "0123456789abcdef", "0123456789abcdef"+strings.Repeat("f", pad), 1))
}()

func BenchmarkParseGET(b *testing.B) {
	buf := []byte(typicalGET)
	var p Parser
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		p.Reset()
		if _, err := p.Parse(buf, &req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseGETDrip parses a 512-byte head handed over one byte more
// per call. Rescanning from the start would make it quadratic: compare
// ns/op with BenchmarkParseGET's per byte.
func BenchmarkParseGETDrip(b *testing.B) {
	buf := dripHead
	if len(buf) != 512 {
		b.Fatalf("head is %d bytes", len(buf))
	}
	var p Parser // default limits: the head fits ESP-IDF's defaults
	var req Request
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		p.Reset()
		for k := 1; k < len(buf); k++ {
			if _, err := p.Parse(buf[:k], &req); err != ErrIncomplete {
				b.Fatal(err)
			}
		}
		if _, err := p.Parse(buf, &req); err != nil {
			b.Fatal(err)
		}
	}
}

var chunkedBody = func() []byte {
	var enc []byte
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 64) // 1 KiB
	for range 16 {
		enc = AppendChunk(enc, chunk)
	}
	return AppendChunk(enc, nil)
}()

func BenchmarkChunkedDecode(b *testing.B) {
	work := make([]byte, len(chunkedBody))
	var d ChunkedDecoder
	b.ReportAllocs()
	b.SetBytes(int64(len(chunkedBody)))
	for b.Loop() {
		copy(work, chunkedBody)
		d.Reset()
		data, used, err := d.Decode(work)
		if err != nil || used != len(work) || data != 16<<10 {
			b.Fatal(data, used, err)
		}
	}
}

var benchFields = []Field{{"Cache-Control", "no-store"}, {"Access-Control-Allow-Origin", "*"}}

func BenchmarkAppendResponseHead(b *testing.B) {
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendResponseHead(dst[:0], &ResponseHead{Status: "200 OK", ContentType: "application/json", ContentLength: 1234, Fields: benchFields})
	}
}

// TestZeroAllocs is the allocation budget of the hot path: parsing a
// request, reading a header, decoding a chunked body and writing the
// response head allocate nothing once buffers have their working size.
func TestZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	head := []byte(typicalGET)
	var p Parser
	var req Request
	var d ChunkedDecoder
	work := make([]byte, len(chunkedBody))
	dst := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(200, func() {
		p.Reset()
		if n, err := p.Parse(head, &req); err != nil || n != len(head) {
			t.Fatal(n, err)
		}
		if _, ok := req.Header("cookie"); !ok {
			t.Fatal("no Cookie")
		}
		if _, ok := LookupMethod([]byte("M-SEARCH")); !ok {
			t.Fatal("no M-SEARCH")
		}
		copy(work, chunkedBody)
		d.Reset()
		if _, _, err := d.Decode(work); err != nil {
			t.Fatal(err)
		}
		conn := ConnUnsaid
		if req.Close {
			conn = ConnClose
		}
		dst = AppendResponseHead(dst[:0], &ResponseHead{Status: "200 OK", ContentType: "text/html", ContentLength: 42, Fields: benchFields, Connection: conn})
		dst = AppendChunkHeader(dst, 1<<20)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per request, want 0", allocs)
	}

	// Dripped heads and refused heads allocate nothing either.
	bad := []byte("BREW /pot HTTP/1.1\r\n")
	allocs = testing.AllocsPerRun(20, func() {
		p.Reset()
		for k := 1; k <= len(head); k++ {
			p.Parse(head[:k], &req)
		}
		p.Reset()
		p.Parse(bad, &req)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per dripped or refused head, want 0", allocs)
	}
}
