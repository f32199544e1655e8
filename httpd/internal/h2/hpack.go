package h2

import (
	"bytes"
	"errors"

	"golang.org/x/net/http2/hpack"
)

// hpackDecoder decodes request header blocks (RFC 7541). It behaves as
// x/net's hpack.Decoder, which it replaces because that one allocates a
// string for every literal it decodes: a client sending :path as a literal
// without indexing (nghttp2, hence curl and h2load, never indexes :path)
// cost an allocation per request. This one builds strings through a small
// per-connection intern table, so a value a connection repeats is made
// once, and the header list of a repeated request allocates nothing.
//
// Strings it returns never alias the bytes given to write, which the
// caller reuses for the next frame.
type hpackDecoder struct {
	table     hpackTable
	emit      func(hpack.HeaderField)
	emitting  bool // false once the header list is too large: decode, do not build
	maxString int  // longest name or value accepted, in bytes (0: no limit)
	// atStart: no representation of the current block was parsed yet.
	// Kept as x/net keeps it (any representation, including a table size
	// update, ends the start), so the two accept the same blocks.
	atStart  bool
	saved    []byte       // an incomplete representation, waiting for the next fragment
	huff     bytes.Buffer // Huffman-decoded string bytes
	interned map[string]string
}

// Limits of the intern table: strings up to maxInternLen bytes, at most
// maxInterned of them (the table is emptied when full, so a client sending
// ever new values costs what it would without the table).
const (
	maxInternLen = 256
	maxInterned  = 64
)

var (
	errHPACKNeedMore  = errors.New("hpack: need more data")
	errHPACKIndex     = errors.New("hpack: invalid table index")
	errHPACKInteger   = errors.New("hpack: integer overflow")
	errHPACKBadRepr   = errors.New("hpack: invalid representation")
	errHPACKSizeLate  = errors.New("hpack: dynamic table size update not at the start of a header block")
	errHPACKSizeLarge = errors.New("hpack: dynamic table size update above the advertised size")
	errHPACKTruncated = errors.New("hpack: truncated header block")
)

// newHPACKDecoder returns a decoder whose dynamic table may grow to
// tableSize bytes (our SETTINGS_HEADER_TABLE_SIZE), calling emit for every
// field while emitting.
func newHPACKDecoder(tableSize uint32, maxString int, emit func(hpack.HeaderField)) *hpackDecoder {
	d := &hpackDecoder{emit: emit, emitting: true, maxString: maxString, atStart: true,
		interned: make(map[string]string)}
	d.table.allowed = tableSize
	d.table.max = tableSize
	return d
}

// write decodes the next fragment of a header block. A representation
// split across fragments is kept and completed by the next write. A string
// longer than maxString is hpack.ErrStringLength; other errors are
// decoding errors (COMPRESSION_ERROR).
func (d *hpackDecoder) write(p []byte) error {
	if len(d.saved) > 0 {
		d.saved = append(d.saved, p...)
		p = d.saved
	}
	for len(p) > 0 {
		n, err := d.field(p)
		if err == errHPACKNeedMore {
			break
		}
		d.atStart = false
		if err != nil {
			return err
		}
		p = p[n:]
	}
	// p may be the tail of saved itself: append copies with memmove.
	d.saved = append(d.saved[:0], p...)
	return nil
}

// close ends a header block: a representation left incomplete is an error.
func (d *hpackDecoder) close() error {
	d.atStart = true
	if len(d.saved) > 0 {
		d.saved = d.saved[:0]
		return errHPACKTruncated
	}
	return nil
}

// field decodes the representation at the start of p and returns its
// length, or errHPACKNeedMore when p holds only part of it.
func (d *hpackDecoder) field(p []byte) (int, error) {
	b := p[0]
	switch {
	case b&0x80 != 0: // indexed (RFC 7541 6.1)
		i, n, err := readHPACKInt(7, p)
		if err != nil {
			return 0, err
		}
		f, ok := d.at(i)
		if !ok {
			return 0, errHPACKIndex
		}
		return n, d.emitField(f)
	case b&0xc0 == 0x40: // literal with incremental indexing (6.2.1)
		return d.literal(p, 6, true, false)
	case b&0xf0 == 0x00: // literal without indexing (6.2.2)
		return d.literal(p, 4, false, false)
	case b&0xf0 == 0x10: // literal never indexed (6.2.3)
		return d.literal(p, 4, false, true)
	case b&0xe0 == 0x20: // dynamic table size update (6.3)
		if !d.atStart && d.table.size > 0 {
			return 0, errHPACKSizeLate
		}
		size, n, err := readHPACKInt(5, p)
		if err != nil {
			return 0, err
		}
		if size > uint64(d.table.allowed) {
			return 0, errHPACKSizeLarge
		}
		d.table.setMax(uint32(size))
		return n, nil
	}
	return 0, errHPACKBadRepr
}

// literal decodes a literal field whose name index has prefix bits.
func (d *hpackDecoder) literal(p []byte, prefix uint8, index, never bool) (int, error) {
	nameIndex, n, err := readHPACKInt(prefix, p)
	if err != nil {
		return 0, err
	}
	rest := p[n:]
	var f hpack.HeaderField
	var name, value hpackString
	if nameIndex > 0 {
		e, ok := d.at(nameIndex)
		if !ok {
			return 0, errHPACKIndex
		}
		f.Name = e.Name
	} else if name, rest, err = d.readString(rest); err != nil {
		return 0, err
	}
	if value, rest, err = d.readString(rest); err != nil {
		return 0, err
	}
	// Past the header list limit only what the table needs is decoded.
	if d.emitting || index {
		// Sensitive values (never indexed) are kept out of the intern
		// table, as RFC 7541 7.1.3 keeps them out of the dynamic table.
		if nameIndex == 0 {
			if f.Name, err = d.decodeString(name, true); err != nil {
				return 0, err
			}
		}
		if f.Value, err = d.decodeString(value, !never); err != nil {
			return 0, err
		}
	}
	if index {
		d.table.add(f)
	}
	f.Sensitive = never
	return len(p) - len(rest), d.emitField(f)
}

func (d *hpackDecoder) emitField(f hpack.HeaderField) error {
	if d.maxString != 0 && (len(f.Name) > d.maxString || len(f.Value) > d.maxString) {
		return hpack.ErrStringLength
	}
	if d.emitting {
		d.emit(f)
	}
	return nil
}

// hpackString is a string as it is on the wire.
type hpackString struct {
	huffman bool
	b       []byte
}

// readString takes a string literal (RFC 7541 5.2) off the front of p.
func (d *hpackDecoder) readString(p []byte) (hpackString, []byte, error) {
	if len(p) == 0 {
		return hpackString{}, nil, errHPACKNeedMore
	}
	huffman := p[0]&0x80 != 0
	length, n, err := readHPACKInt(7, p)
	if err != nil {
		return hpackString{}, nil, err
	}
	if d.maxString != 0 && length > uint64(d.maxString) {
		return hpackString{}, nil, hpack.ErrStringLength
	}
	p = p[n:]
	if uint64(len(p)) < length {
		return hpackString{}, nil, errHPACKNeedMore
	}
	return hpackString{huffman: huffman, b: p[:length]}, p[length:], nil
}

// decodeString returns s as a Go string, interned when keep allows it.
func (d *hpackDecoder) decodeString(s hpackString, keep bool) (string, error) {
	b := s.b
	if s.huffman {
		d.huff.Reset()
		if _, err := hpack.HuffmanDecode(&d.huff, b); err != nil {
			return "", err
		}
		b = d.huff.Bytes()
		if d.maxString != 0 && len(b) > d.maxString {
			return "", hpack.ErrStringLength
		}
	}
	if len(b) == 0 {
		return "", nil
	}
	if v, ok := d.interned[string(b)]; ok {
		return v, nil
	}
	v := string(b)
	if keep && len(v) <= maxInternLen {
		if len(d.interned) >= maxInterned {
			clear(d.interned)
		}
		d.interned[v] = v
	}
	return v, nil
}

// at returns the table entry of index i (RFC 7541 2.3.3): static first,
// then dynamic, newest first.
func (d *hpackDecoder) at(i uint64) (hpack.HeaderField, bool) {
	switch {
	case i == 0:
		return hpack.HeaderField{}, false
	case i <= uint64(len(hpackStatic)):
		return hpackStatic[i-1], true
	case i-uint64(len(hpackStatic)) <= uint64(d.table.n):
		return d.table.at(int(i) - len(hpackStatic)), true
	}
	return hpack.HeaderField{}, false
}

// readHPACKInt reads an integer with an n-bit prefix (RFC 7541 5.1) and
// returns it with the bytes it took.
func readHPACKInt(n uint8, p []byte) (uint64, int, error) {
	if len(p) == 0 {
		return 0, 0, errHPACKNeedMore
	}
	limit := uint64(1)<<n - 1
	v := uint64(p[0]) & limit
	if v < limit {
		return v, 1, nil
	}
	var shift uint
	for i := 1; i < len(p); i++ {
		b := p[i]
		v += uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, i + 1, nil
		}
		shift += 7
		if shift >= 63 {
			return 0, 0, errHPACKInteger
		}
	}
	return 0, 0, errHPACKNeedMore
}

// hpackTable is the decoder's dynamic table (RFC 7541 2.3.2, 4): a ring of
// entries, oldest evicted first.
type hpackTable struct {
	ents    []hpack.HeaderField // the ring; grown as entries come, up to what max allows
	oldest  int                 // ring index of the oldest entry
	n       int                 // entries in the table
	size    uint32              // sum of the entries' sizes
	max     uint32              // the size the encoder last set
	allowed uint32              // the most max may be (our SETTINGS_HEADER_TABLE_SIZE)
}

// at returns entry i, 1 being the newest.
func (t *hpackTable) at(i int) hpack.HeaderField {
	return t.ents[(t.oldest+t.n-i)%len(t.ents)]
}

// add inserts f as the newest entry after evicting what it needs room for;
// an entry larger than the table empties it and is not kept (4.4).
func (t *hpackTable) add(f hpack.HeaderField) {
	size := f.Size()
	if size > t.max {
		t.evict(0)
		return
	}
	t.evict(t.max - size)
	if t.n == len(t.ents) {
		t.grow()
	}
	t.ents[(t.oldest+t.n)%len(t.ents)] = f
	t.n++
	t.size += size
}

// grow doubles the ring, keeping the entries in order from index 0.
func (t *hpackTable) grow() {
	ents := make([]hpack.HeaderField, max(2*len(t.ents), 16))
	for i := range t.n {
		ents[i] = t.ents[(t.oldest+i)%len(t.ents)]
	}
	t.ents, t.oldest = ents, 0
}

// evict drops the oldest entries until the table fits in limit bytes.
func (t *hpackTable) evict(limit uint32) {
	for t.size > limit {
		e := &t.ents[t.oldest]
		t.size -= e.Size()
		*e = hpack.HeaderField{}
		t.oldest = (t.oldest + 1) % len(t.ents)
		t.n--
	}
}

// setMax applies a dynamic table size update.
func (t *hpackTable) setMax(v uint32) {
	t.max = v
	t.evict(v)
}

// hpackStatic is the static table of RFC 7541 Appendix A; index i is
// hpackStatic[i-1].
var hpackStatic = [...]hpack.HeaderField{
	{Name: ":authority"},
	{Name: ":method", Value: "GET"},
	{Name: ":method", Value: "POST"},
	{Name: ":path", Value: "/"},
	{Name: ":path", Value: "/index.html"},
	{Name: ":scheme", Value: "http"},
	{Name: ":scheme", Value: "https"},
	{Name: ":status", Value: "200"},
	{Name: ":status", Value: "204"},
	{Name: ":status", Value: "206"},
	{Name: ":status", Value: "304"},
	{Name: ":status", Value: "400"},
	{Name: ":status", Value: "404"},
	{Name: ":status", Value: "500"},
	{Name: "accept-charset"},
	{Name: "accept-encoding", Value: "gzip, deflate"},
	{Name: "accept-language"},
	{Name: "accept-ranges"},
	{Name: "accept"},
	{Name: "access-control-allow-origin"},
	{Name: "age"},
	{Name: "allow"},
	{Name: "authorization"},
	{Name: "cache-control"},
	{Name: "content-disposition"},
	{Name: "content-encoding"},
	{Name: "content-language"},
	{Name: "content-length"},
	{Name: "content-location"},
	{Name: "content-range"},
	{Name: "content-type"},
	{Name: "cookie"},
	{Name: "date"},
	{Name: "etag"},
	{Name: "expect"},
	{Name: "expires"},
	{Name: "from"},
	{Name: "host"},
	{Name: "if-match"},
	{Name: "if-modified-since"},
	{Name: "if-none-match"},
	{Name: "if-range"},
	{Name: "if-unmodified-since"},
	{Name: "last-modified"},
	{Name: "link"},
	{Name: "location"},
	{Name: "max-forwards"},
	{Name: "proxy-authenticate"},
	{Name: "proxy-authorization"},
	{Name: "range"},
	{Name: "referer"},
	{Name: "refresh"},
	{Name: "retry-after"},
	{Name: "server"},
	{Name: "set-cookie"},
	{Name: "strict-transport-security"},
	{Name: "transfer-encoding"},
	{Name: "user-agent"},
	{Name: "vary"},
	{Name: "via"},
	{Name: "www-authenticate"},
}
