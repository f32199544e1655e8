package ws

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
func (v *UTF8) Write(p []byte) bool {
	for _, b := range p {
		if v.need > 0 {
			if b < v.lo || b > v.hi {
				return false
			}
			v.need--
			v.lo, v.hi = 0x80, 0xBF
			continue
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
	}
	return true
}

// Complete reports whether the bytes so far end on a code point boundary.
func (v *UTF8) Complete() bool { return v.need == 0 }
