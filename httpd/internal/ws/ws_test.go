package ws

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
	"unicode/utf8"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 section 1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
	if !ValidKey("dGhlIHNhbXBsZSBub25jZQ==") || ValidKey("c2hvcnQ=") || ValidKey("***") {
		t.Fatal("ValidKey")
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		for _, op := range []byte{OpText, OpBinary, OpContinuation} {
			b := AppendHeader(nil, n%2 == 0, op, n)
			h, hl, err := ParseHeader(b, false)
			if err != nil || hl != len(b) || h.Length != int64(n) || h.Opcode != op || h.Fin != (n%2 == 0) || h.Masked {
				t.Fatalf("n=%d op=%d: %+v %d %v", n, op, h, hl, err)
			}
			for i := range b {
				if _, _, err := ParseHeader(b[:i], false); err != ErrIncomplete {
					t.Fatalf("prefix %d of %d: %v", i, len(b), err)
				}
			}
		}
	}
}

func TestMaskedHeader(t *testing.T) {
	b := []byte{0x81, 0x85, 1, 2, 3, 4}
	h, n, err := ParseHeader(b, true)
	if err != nil || n != 6 || !h.Masked || h.Key != [4]byte{1, 2, 3, 4} || h.Length != 5 {
		t.Fatalf("%+v %d %v", h, n, err)
	}
}

func TestHeaderErrors(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
	}{
		{"unmasked", []byte{0x81, 0x05}},
		{"rsv1", []byte{0xC1, 0x80, 0, 0, 0, 0}},
		{"rsv3", []byte{0x91, 0x80, 0, 0, 0, 0}},
		{"opcode 3", []byte{0x83, 0x80, 0, 0, 0, 0}},
		{"opcode 0xB", []byte{0x8B, 0x80, 0, 0, 0, 0}},
		{"fragmented ping", []byte{0x09, 0x80, 0, 0, 0, 0}},
		{"long ping", []byte{0x89, 0xFE, 0, 126, 0, 0, 0, 0}},
		{"non-minimal 16", []byte{0x82, 0xFE, 0, 5, 0, 0, 0, 0}},
		{"non-minimal 64", []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0}},
		{"64-bit msb", []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, c := range cases {
		_, _, err := ParseHeader(c.b, true)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CloseProtocolError {
			t.Errorf("%s: %v, want a 1002 error", c.name, err)
		}
	}
}

func TestMaskIsItsOwnInverseAcrossSplits(t *testing.T) {
	key := [4]byte{0xA, 0xB, 0xC, 0xD}
	p := []byte("the quick brown fox jumps over the lazy dog")
	orig := append([]byte(nil), p...)
	pos := 0
	for rest := p; len(rest) > 0; {
		k := min(len(rest), 1+rand.Intn(5))
		pos = Mask(rest[:k], key, pos)
		rest = rest[k:]
	}
	Mask(p, key, 0)
	if !bytes.Equal(p, orig) {
		t.Fatalf("%q", p)
	}
}

func TestCloseCodes(t *testing.T) {
	for code, want := range map[uint16]bool{999: false, 1000: true, 1003: true, 1004: false, 1005: false,
		1006: false, 1007: true, 1011: true, 1012: false, 1015: false, 2999: false, 3000: true, 4999: true, 5000: false} {
		if ValidCloseCode(code) != want {
			t.Errorf("ValidCloseCode(%d) != %v", code, want)
		}
	}
}

func TestUTF8MatchesStdlibAcrossSplits(t *testing.T) {
	samples := [][]byte{
		[]byte("plain ascii"), []byte("κόσμε"), []byte("日本語テキスト"), []byte("emoji 😀 here"),
		{0xED, 0xA0, 0x80}, {0xC0, 0xAF}, {0xE0, 0x80, 0xAF}, {0xF4, 0x90, 0x80, 0x80}, {0xF8, 0x88, 0x80, 0x80, 0x80},
		{0xCE, 0xBA, 0xE1}, {0xFF}, {0xF0, 0x9F, 0x98},
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(12))
		for j := range b {
			b[j] = byte(rng.Intn(256))
		}
		samples = append(samples, b)
	}
	for _, s := range samples {
		want := utf8.Valid(s)
		for split := 0; split <= len(s); split++ {
			var v UTF8
			got := v.Write(s[:split]) && v.Write(s[split:]) && v.Complete()
			if got != want {
				t.Fatalf("% x split at %d: %v, want %v", s, split, got, want)
			}
		}
		// Many pieces of 1 to 5 bytes: code points split more than once.
		var v UTF8
		got := true
		for rest := s; len(rest) > 0 && got; {
			n := min(len(rest), 1+rng.Intn(5))
			got = v.Write(rest[:n])
			rest = rest[n:]
		}
		if got = got && v.Complete(); got != want {
			t.Fatalf("% x in small pieces: %v, want %v", s, got, want)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4})
	f.Add(AppendHeader(nil, true, OpBinary, 70000))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b, false)
		if err != nil {
			return
		}
		// A valid header re-encodes to the same bytes (minimal lengths only).
		re := AppendHeader(nil, h.Fin, h.Opcode, int(h.Length))
		if h.Masked {
			re[1] |= maskBit
			re = append(re, h.Key[:]...)
		}
		if !bytes.Equal(re, b[:n]) {
			t.Fatalf("% x re-encoded as % x", b[:n], re)
		}
	})
}
