package h2

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/http2/hpack"
)

// decodePair runs header blocks through this package's decoder and x/net's
// side by side, as one connection each.
type decodePair struct {
	ours       *hpackDecoder
	theirs     *hpack.Decoder
	got, wants []hpack.HeaderField
}

func newDecodePair(tableSize uint32, maxString int) *decodePair {
	p := &decodePair{}
	p.ours = newHPACKDecoder(tableSize, maxString, func(f hpack.HeaderField) { p.got = append(p.got, f) })
	p.theirs = hpack.NewDecoder(tableSize, func(f hpack.HeaderField) { p.wants = append(p.wants, f) })
	p.theirs.SetMaxStringLength(maxString)
	return p
}

// block decodes one header block, given to ours in the fragments cut at
// the offsets in cuts, and returns both results.
func (p *decodePair) block(b []byte, cuts ...int) (got, want []hpack.HeaderField, gotErr, wantErr error) {
	p.got, p.wants = nil, nil
	start := 0
	for _, c := range append(cuts, len(b)) {
		c = min(max(c, start), len(b))
		if gotErr = p.ours.write(b[start:c]); gotErr != nil {
			break
		}
		start = c
	}
	if gotErr == nil {
		gotErr = p.ours.close()
	}
	if _, wantErr = p.theirs.Write(b); wantErr == nil {
		wantErr = p.theirs.Close()
	}
	return p.got, p.wants, gotErr, wantErr
}

func TestHPACKStaticTable(t *testing.T) {
	d := newDecodePair(4096, 0)
	for i := 1; i <= len(hpackStatic); i++ {
		got, want, gotErr, wantErr := d.block([]byte{0x80 | byte(i)})
		if gotErr != nil || wantErr != nil || !cmp.Equal(got, want) {
			t.Errorf("index %d: got %v %v, x/net %v %v", i, got, gotErr, want, wantErr)
		}
	}
	for _, b := range [][]byte{{0x80}, {0x80 | byte(len(hpackStatic)+1)}} {
		if _, _, err, _ := d.block(b); !errors.Is(err, errHPACKIndex) {
			t.Errorf("%x: %v, want an index error", b, err)
		}
	}
}

// TestHPACKMatchesXNet encodes random header lists with x/net's encoder
// (incremental indexing, Huffman or not, sensitive fields, table size
// changes that force size updates and evictions) and checks that this
// decoder, fed the blocks in random fragments, emits what x/net's does.
func TestHPACKMatchesXNet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{":method", ":path", ":authority", ":scheme", "cookie", "user-agent", "x-a", "x-b", "x-long-custom-name", "accept-encoding"}
	value := func() string {
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789/-_.~%ABC \x7f\xff"
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	for _, tableSize := range []uint32{0, 256, 4096} {
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		enc.SetMaxDynamicTableSizeLimit(tableSize)
		d := newDecodePair(tableSize, 1024)
		// Repeated values, as a client repeats them, so the intern
		// table and the dynamic table are hit as well as missed.
		seen := []string{"", "/", "GET"}
		for n := range 500 {
			if rng.IntN(20) == 0 {
				enc.SetMaxDynamicTableSize(uint32(rng.IntN(int(tableSize) + 1)))
			}
			buf.Reset()
			for range rng.IntN(12) {
				v := seen[rng.IntN(len(seen))]
				if rng.IntN(2) == 0 {
					v = value()
					seen = append(seen, v)
				}
				enc.WriteField(hpack.HeaderField{Name: names[rng.IntN(len(names))], Value: v, Sensitive: rng.IntN(8) == 0})
			}
			b := buf.Bytes()
			var cuts []int
			for range rng.IntN(4) {
				cuts = append(cuts, rng.IntN(len(b)+1))
			}
			slices.Sort(cuts)
			got, want, gotErr, wantErr := d.block(b, cuts...)
			if gotErr != nil || wantErr != nil {
				t.Fatalf("table %d, block %d: errors %v, x/net %v", tableSize, n, gotErr, wantErr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("table %d, block %d (cuts %v): (-x/net +ours)\n%s", tableSize, n, cuts, diff)
			}
		}
	}
}

// TestHPACKErrors checks malformed blocks fail as they do with x/net, and
// that over-long strings are reported as hpack.ErrStringLength.
func TestHPACKErrors(t *testing.T) {
	long := append([]byte{0x00, 0x7f, 0x82, 0x01}, bytes.Repeat([]byte{'a'}, 257)...) // literal name of 257 bytes (127+130)
	cases := []struct {
		name   string
		block  []byte
		length bool // hpack.ErrStringLength rather than a decoding error
	}{
		{"index zero", []byte{0x80}, false},
		{"index past the tables", []byte{0xbf}, false},
		{"literal name index past the tables", []byte{0x7f, 0x10, 0x00}, false},
		{"integer overflow", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, false},
		{"truncated integer", []byte{0xff, 0xff}, false},
		{"truncated string", []byte{0x00, 0x05, 'a', 'b'}, false},
		{"bad Huffman padding", []byte{0x00, 0x81, 0x00, 0x81, 0xff}, false},
		{"Huffman EOS", []byte{0x00, 0x81, 'a', 0x84, 0xff, 0xff, 0xff, 0xff}, false},
		{"table size above the setting", []byte{0x3f, 0xe2, 0x1f}, false},
		{"table size update after a field", []byte{0x40, 0x01, 'a', 0x01, 'b', 0x20}, false},
		{"string too long", long, true},
	}
	for _, c := range cases {
		d := newDecodePair(4096, 256)
		_, _, gotErr, wantErr := d.block(c.block)
		if gotErr == nil || wantErr == nil {
			t.Errorf("%s: error %v, x/net %v; want both to fail", c.name, gotErr, wantErr)
			continue
		}
		if errors.Is(gotErr, hpack.ErrStringLength) != c.length {
			t.Errorf("%s: error %v; string length error: %v", c.name, gotErr, c.length)
		}
	}
}

// TestHPACKNotEmitting checks that a header block decoded past the header
// list limit (emitting off) still keeps the dynamic table in step.
func TestHPACKNotEmitting(t *testing.T) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	enc.WriteField(hpack.HeaderField{Name: "x-kept", Value: "in the table"})
	enc.WriteField(hpack.HeaderField{Name: "x-dropped", Value: "sensitive", Sensitive: true})
	var got []hpack.HeaderField
	d := newHPACKDecoder(4096, 0, func(f hpack.HeaderField) { got = append(got, f) })
	d.emitting = false
	if err := d.write(buf.Bytes()); err != nil || d.close() != nil || got != nil {
		t.Fatalf("not emitting: %v, emitted %v", err, got)
	}
	d.emitting = true
	buf.Reset()
	enc.WriteField(hpack.HeaderField{Name: "x-kept", Value: "in the table"}) // now an index
	if err := d.write(buf.Bytes()); err != nil || d.close() != nil {
		t.Fatal(err)
	}
	if want := []hpack.HeaderField{{Name: "x-kept", Value: "in the table"}}; !cmp.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestHPACKInternedStringsAllocateNothing decodes a request a client
// repeats with :path and a custom field as literals without indexing (as
// nghttp2 sends :path): after the first, the strings come from the intern
// table.
func TestHPACKInternedStringsAllocateNothing(t *testing.T) {
	block := []byte{0x82, 0x86, 0x04, 6, '/', 'h', 'e', 'l', 'l', 'o', 0x01, 4, 'h', 'o', 's', 't',
		0x00, 5, 'x', '-', 'a', 'b', 'c', 3, 'y', 'e', 's'}
	var n int
	d := newHPACKDecoder(4096, 1024, func(hpack.HeaderField) { n++ })
	decode := func() {
		if err := d.write(block); err != nil || d.close() != nil {
			t.Fatal(err)
		}
	}
	decode()
	if allocs := testing.AllocsPerRun(100, decode); allocs != 0 {
		t.Errorf("%v allocations per repeated block, want 0", allocs)
	}
	if want := (1 + 1 + 100) * 5; n != want { // the first decode, AllocsPerRun's warm-up, its runs
		t.Errorf("%d fields emitted, want %d", n, want)
	}
}

// FuzzHPACK checks that this decoder accepts exactly the blocks x/net's
// accepts, emitting the same fields, whatever the bytes and however they
// are cut into fragments.
func FuzzHPACK(f *testing.F) {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i, v := range []string{"/", "/hello", "a much longer value, Huffman coded", ""} {
		enc.WriteField(hpack.HeaderField{Name: fmt.Sprintf("x-%d", i), Value: v, Sensitive: i == 2})
		enc.WriteField(hpack.HeaderField{Name: ":path", Value: v})
	}
	f.Add(buf.Bytes(), uint16(3), uint16(0))
	f.Add([]byte{0x3f, 0xe1, 0x1f, 0x82}, uint16(1), uint16(0))
	f.Add([]byte{0x40, 0x01, 'a', 0x01, 'b', 0x20, 0xbe}, uint16(2), uint16(64))
	f.Fuzz(func(t *testing.T, b []byte, cut uint16, tableSize uint16) {
		d := newDecodePair(uint32(tableSize), 512)
		// Two blocks: the second sees the first's table.
		for _, half := range [][]byte{b[:len(b)/2], b[len(b)/2:]} {
			got, want, gotErr, wantErr := d.block(half, int(cut)%(len(half)+1))
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%x: error %v, x/net %v", half, gotErr, wantErr)
			}
			if gotErr != nil {
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%x: (-x/net +ours)\n%s", half, diff)
			}
		}
	})
}
