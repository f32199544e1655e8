package httpd_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"golang.org/x/net/http2"
)

// BenchmarkH2StreamGET measures one GET stream on an h2c prior-knowledge
// connection, one stream at a time. The client writes a HEADERS frame it
// built once and reads frame headers into fixed buffers, so it allocates
// nothing: what is reported is the server's cost per stream (issue 17:
// zero allocations).
func BenchmarkH2StreamGET(b *testing.B) {
	roundTrip := h2GETClient(b)
	roundTrip() // settle SETTINGS and warm up
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		roundTrip()
	}
}

// TestH2StreamGETAllocatesNothing keeps issue 17 fixed: once a connection
// has served a request, the server allocates nothing for another GET
// stream like it, header block decoding and response included. The count
// is the whole process's, so it is averaged over many streams to absorb
// the odd allocation of the runtime or the test framework.
func TestH2StreamGETAllocatesNothing(t *testing.T) {
	roundTrip := h2GETClient(t)
	for range 10 { // the connection's reusable state reaches its size
		roundTrip()
	}
	if allocs := testing.AllocsPerRun(500, roundTrip); allocs >= 0.5 {
		t.Errorf("%.2f allocations per GET stream, want 0", allocs)
	}
}

// h2GETClient starts a server with /hello and returns a function making
// one GET /hello stream on an h2c connection to it, allocating nothing
// itself. The header block is the way nghttp2 (curl, h2load) sends it:
// :method and :scheme indexed, :path and :authority literals without
// indexing, so the server decodes their strings on every stream.
func h2GETClient(tb testing.TB) func() {
	cfg := testConfig()
	cfg.HTTP2 = true
	h := start(tb, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	nc, err := net.Dial("tcp", addr(h))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	br := bufio.NewReader(nc)
	fr := http2.NewFramer(nc, br)
	io.WriteString(nc, http2.ClientPreface)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 30})
	fr.WriteWindowUpdate(0, 1<<30)
	// :method GET, :scheme http (static table), :path /hello and
	// :authority x as literals without indexing.
	block := []byte{0x82, 0x86, 0x04, 6, '/', 'h', 'e', 'l', 'l', 'o', 0x01, 1, 'x'}
	frame := make([]byte, 9+len(block))
	frame[2] = byte(len(block))
	frame[3] = 0x1       // HEADERS
	frame[4] = 0x1 | 0x4 // END_STREAM | END_HEADERS
	copy(frame[9:], block)
	var hdr [9]byte
	payload := make([]byte, 1<<16)
	settingsAck := []byte{0, 0, 0, 0x4, 0x1, 0, 0, 0, 0}
	var id uint32 = 1
	return func() {
		binary.BigEndian.PutUint32(frame[5:9], id)
		if _, err := nc.Write(frame); err != nil {
			tb.Fatal(err)
		}
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				tb.Fatal(err)
			}
			n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
			if _, err := io.ReadFull(br, payload[:n]); err != nil {
				tb.Fatal(err)
			}
			typ, flags, sid := hdr[3], hdr[4], binary.BigEndian.Uint32(hdr[5:9])&0x7fffffff
			switch {
			case typ == 0x4 && flags&0x1 == 0: // SETTINGS: acknowledge
				nc.Write(settingsAck)
			case typ == 0x3 && sid == id: // RST_STREAM
				tb.Fatalf("stream %d reset", id)
			case (typ == 0x0 || typ == 0x1) && sid == id && flags&0x1 != 0:
				id += 2
				return
			}
		}
	}
}
