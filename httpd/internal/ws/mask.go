package ws

import "encoding/binary"

// Mask XORs p in place with key, starting at byte pos of the key stream,
// and returns the position after p (masking is its own inverse).
//
// Payloads are masked eight bytes at a time: the key stream is periodic in
// four bytes, so after the first pos-aligned bytes the same 64-bit word
// applies to every 8-byte block. Byte order does not matter as long as the
// word is loaded and stored in the same order as the key was.
func Mask(p []byte, key [4]byte, pos int) int {
	pos &= 3
	n := len(p)
	if n < 16 {
		maskBytes(p, key, pos)
		return (pos + n) & 3
	}
	// Rotate the key so that the word lines up with p[0].
	var k [8]byte
	for i := range k {
		k[i] = key[(pos+i)&3]
	}
	kw := binary.LittleEndian.Uint64(k[:])
	i := 0
	for ; i+32 <= n; i += 32 {
		b := p[i : i+32 : i+32]
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^kw)
		binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^kw)
		binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^kw)
		binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^kw)
	}
	for ; i+8 <= n; i += 8 {
		b := p[i : i+8 : i+8]
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^kw)
	}
	// i is a multiple of 8, so the key stream position is pos again.
	maskBytes(p[i:], key, pos)
	return (pos + n) & 3
}

// maskBytes is the byte-at-a-time mask, for short payloads and the tail
// of long ones; it is also the reference the word version is tested
// against.
func maskBytes(p []byte, key [4]byte, pos int) {
	for i := range p {
		p[i] ^= key[(pos+i)&3]
	}
}
