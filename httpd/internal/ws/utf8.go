package ws

import "unicode/utf8"

// UTF8 validates UTF-8 incrementally, across the frames of a fragmented text
// message, where a code point may be split between frames.
type UTF8 struct {
	need int  // continuation bytes still expected
	lo   byte // allowed range of the next continuation byte
	hi   byte
}

// Reset prepares for a new message.
func (v *UTF8) Reset() { *v = UTF8{} }

// Write feeds bytes and reports false as soon as they cannot be UTF-8.
// A code point split between writes is finished byte by byte; the whole
// code points after it go to unicode/utf8.Valid, which checks ASCII a word
// at a time; a code point cut at the end waits for the next write.
func (v *UTF8) Write(p []byte) bool {
	for v.need > 0 && len(p) > 0 {
		if !v.step(p[0]) {
			return false
		}
		p = p[1:]
	}
	k := wholeCodePoints(p)
	if !utf8.Valid(p[:k]) {
		return false
	}
	for _, b := range p[k:] {
		if !v.step(b) {
			return false
		}
	}
	return true
}

// wholeCodePoints returns the length of p less a code point cut short at
// its end.
func wholeCodePoints(p []byte) int {
	for back := 1; back <= utf8.UTFMax && back <= len(p); back++ {
		b := p[len(p)-back]
		if b&0xC0 == 0x80 {
			continue // a continuation byte: its lead is further back
		}
		if n := seqLen(b); n > back {
			return len(p) - back
		}
		return len(p)
	}
	return len(p)
}

// seqLen is the length of the sequence a lead byte starts (1 for bytes
// that cannot start one: utf8.Valid or step refuses those).
func seqLen(b byte) int {
	switch {
	case b >= 0xF0:
		return 4
	case b >= 0xE0:
		return 3
	case b >= 0xC0:
		return 2
	}
	return 1
}

// step feeds one byte to the state machine.
func (v *UTF8) step(b byte) bool {
	if v.need > 0 {
		if b < v.lo || b > v.hi {
			return false
		}
		v.need--
		v.lo, v.hi = 0x80, 0xBF
		return true
	}
	switch {
	case b < 0x80:
	case b >= 0xC2 && b <= 0xDF:
		v.need, v.lo, v.hi = 1, 0x80, 0xBF
	case b == 0xE0:
		v.need, v.lo, v.hi = 2, 0xA0, 0xBF // no overlong forms
	case b == 0xED:
		v.need, v.lo, v.hi = 2, 0x80, 0x9F // no surrogates
	case b >= 0xE1 && b <= 0xEF:
		v.need, v.lo, v.hi = 2, 0x80, 0xBF
	case b == 0xF0:
		v.need, v.lo, v.hi = 3, 0x90, 0xBF
	case b >= 0xF1 && b <= 0xF3:
		v.need, v.lo, v.hi = 3, 0x80, 0xBF
	case b == 0xF4:
		v.need, v.lo, v.hi = 3, 0x80, 0x8F // nothing above U+10FFFF
	default:
		return false
	}
	return true
}

// Complete reports whether the bytes so far end on a code point boundary.
func (v *UTF8) Complete() bool { return v.need == 0 }
