package h2_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"github.com/esphttpd/esphttpd/httpd/internal/h2/internal/testserver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// waitConnErr waits for the server to record a connection end that match
// accepts.
func waitConnErr(t *testing.T, s *testserver.Server, match func(error) bool) {
	t.Helper()
	if !waitFor(2*time.Second, func() bool { return slices.ContainsFunc(s.ConnErrors(), match) }) {
		t.Fatalf("no matching connection error in %v", s.ConnErrors())
	}
}

func isCode(code http2.ErrCode) func(error) bool {
	return func(err error) bool {
		var ce *h2.ConnError
		return errors.As(err, &ce) && ce.Code == code
	}
}

// CVE-2023-44487 with a busy worker: the streams the client resets pile up
// waiting for the worker (MaxPendingStreams).
func TestRapidResetPending(t *testing.T) {
	release := make(chan struct{})
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		if ev.Path == "/block" {
			<-release
		}
		c.WriteHeaders(ev.Stream, 200, nil, true)
	})
	defer close(release)
	c := dial(t, s.Addr())
	c.request(1, "GET", "/block", true) // occupies the worker
	go func() {
		for id := uint32(3); id < 3+2*1000; id += 2 {
			if c.request(id, "GET", "/", false) != nil {
				return
			}
			if c.fr.WriteRSTStream(id, http2.ErrCodeCancel) != nil {
				return
			}
		}
	}()
	c.wantGoAway(http2.ErrCodeEnhanceYourCalm)
	waitConnErr(t, s, isCode(http2.ErrCodeEnhanceYourCalm))
}

// CVE-2023-44487 with a fast worker: the reset rate alone trips the limit.
func TestRapidResetRate(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	go func() {
		for id := uint32(1); id < 1+2*5000; id += 2 {
			if c.request(id, "GET", "/", false) != nil {
				return
			}
			if c.fr.WriteRSTStream(id, http2.ErrCodeCancel) != nil {
				return
			}
		}
	}()
	c.wantGoAway(http2.ErrCodeEnhanceYourCalm)
	get(t, s.Addr())
}

// CVE-2024-27316: a header block that never ends.
func TestContinuationFlood(t *testing.T) {
	for _, size := range []int{0, 1000} {
		s := startServer(t, nil, nil)
		c := dial(t, s.Addr())
		go func() {
			c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: c.block("GET", "/")})
			// Literal without indexing, new name, never finished: valid HPACK
			// bytes keep coming.
			frag := make([]byte, size)
			for i := range frag {
				frag[i] = 'a'
			}
			for range 100_000 {
				if c.fr.WriteContinuation(1, false, frag) != nil {
					return
				}
			}
		}()
		c.wantGoAway(http2.ErrCodeEnhanceYourCalm)
		get(t, s.Addr())
	}
}

func TestSettingsFlood(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	go func() {
		for range 10_000 {
			if c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}) != nil {
				return
			}
		}
	}()
	c.wantGoAway(http2.ErrCodeEnhanceYourCalm)
	get(t, s.Addr())
}

func TestPingFlood(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	go func() {
		for range 10_000 {
			if c.fr.WritePing(false, [8]byte{}) != nil {
				return
			}
		}
	}()
	c.wantGoAway(http2.ErrCodeEnhanceYourCalm)
	get(t, s.Addr())
}

// A client that pings and never reads the ACKs: the server's writes block
// on the full socket, so it stops reading too (no unbounded queue of ACKs)
// and the send timeout of the transport ends it; here we just check the
// server holds no queue: the client's own writes stall once the reader is
// parked in Write, and a second connection is served meanwhile.
func TestPingNoReadServesOthers(t *testing.T) {
	s := startServer(t, &h2.Config{PingRate: h2.Rate{Burst: 1 << 30, PerSecond: 1 << 30}}, nil)
	c := dial(t, s.Addr())
	c.nc.(*net.TCPConn).SetReadBuffer(4096) // fewer ACKs fill the way back
	var pings bytes.Buffer
	fr := http2.NewFramer(&pings, nil)
	for range 512 {
		fr.WritePing(false, [8]byte{})
	}
	stalled := make(chan error, 1)
	go func() {
		for {
			// A write that cannot finish in 200 ms: every buffer between
			// us and the server's reader is full.
			c.nc.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			if _, err := c.nc.Write(pings.Bytes()); err != nil {
				stalled <- err
				return
			}
		}
	}()
	select {
	case err := <-stalled:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Logf("pinging ended with %v, not a stall", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server read pings whose ACKs nobody reads for 10 s: it queues them")
	}
	get(t, s.Addr())
}

func TestEmptyDataFlood(t *testing.T) {
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		var b [1]byte
		c.ReadData(ev.Stream, b[:], time.Now().Add(5*time.Second))
	})
	c := dial(t, s.Addr())
	c.request(1, "POST", "/", false)
	go func() {
		for range 100_000 {
			if c.fr.WriteData(1, false, nil) != nil {
				return
			}
		}
	}()
	c.wantGoAway(http2.ErrCodeEnhanceYourCalm)
}

// A peer that never opens its window: the handler's WriteData gives up at
// its deadline, and the worker goes on to serve another connection.
func TestZeroWindowStall(t *testing.T) {
	errc := make(chan error, 1)
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		if ev.Path != "/stall" {
			s := testserver.Server{SendTimeout: time.Second}
			s.Default(c, ev)
			return
		}
		c.WriteHeaders(ev.Stream, 200, nil, false)
		errc <- c.WriteData(ev.Stream, []byte(strings.Repeat("x", 1000)), true, time.Now().Add(200*time.Millisecond))
	})
	c := dial(t, s.Addr(), http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	c.request(1, "GET", "/stall", true)
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WriteData on a closed window: %v, want deadline", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WriteData did not give up")
	}
	get(t, s.Addr())
}

// A preface that never completes: the reader's deadline ends it.
func TestPrefaceTimeout(t *testing.T) {
	s := startServer(t, nil, nil)
	s.PrefaceTimeout.Store(int64(100 * time.Millisecond))
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, h2.ClientPreface[:10])
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("server did not close: %v", err)
	}
	waitConnErr(t, s, func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) })
}

func TestBadPreface(t *testing.T) {
	sc, cc := net.Pipe()
	defer cc.Close()
	go func() {
		io.WriteString(cc, "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
	}()
	errc := make(chan error, 1)
	go func() {
		_, err := h2.NewServerConn(sc, sc, nil)
		sc.Close()
		errc <- err
	}()
	fr := http2.NewFramer(nil, cc)
	var gotGoAway bool
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		if g, ok := f.(*http2.GoAwayFrame); ok && g.ErrCode == http2.ErrCodeProtocol {
			gotGoAway = true
		}
	}
	if err := <-errc; !errors.Is(err, h2.ErrBadPreface) || !gotGoAway {
		t.Fatalf("bad preface: %v, GOAWAY %v", err, gotGoAway)
	}
}

// HPACK bomb: a small block that decodes to a huge header list (one big
// dynamic-table entry referenced many times) gets 431, and the
// connection stays usable.
func TestHeaderListTooLarge(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	c.hbuf.Reset()
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: "/"}, {Name: "x-bomb", Value: strings.Repeat("b", 3000)}} {
		c.enc.WriteField(f)
	}
	block := append([]byte(nil), c.hbuf.Bytes()...)
	for range 100 {
		block = append(block, 0x80|62) // indexed: dynamic entry 62, x-bomb
	}
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndStream: true, EndHeaders: true})
	if st, _ := c.response(1); st != 431 {
		t.Fatalf("HPACK bomb: status %d, want 431", st)
	}
	// HPACK state stayed in sync: the next request decodes.
	c.request(3, "GET", "/", true)
	if st, _ := c.response(3); st != 200 {
		t.Fatalf("after the bomb: %d", st)
	}
}

func TestMaxConcurrentStreams(t *testing.T) {
	release := make(chan struct{})
	s := startServer(t, &h2.Config{MaxConcurrentStreams: 3}, func(c *h2.Conn, ev h2.Event) {
		<-release
		c.WriteHeaders(ev.Stream, 200, nil, true)
	})
	c := dial(t, s.Addr())
	for id := uint32(1); id <= 7; id += 2 {
		c.request(id, "POST", "/", false)
	}
	if r := c.rst(7); r.ErrCode != http2.ErrCodeRefusedStream {
		t.Fatalf("4th stream: RST %v", r.ErrCode)
	}
	for id := uint32(1); id <= 5; id += 2 {
		c.fr.WriteData(id, true, nil)
	}
	close(release)
	for id := uint32(1); id <= 5; id += 2 {
		if st, _ := c.response(id); st != 200 {
			t.Fatalf("stream %d: %d", id, st)
		}
	}
}

func TestFrameTooLarge(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	c.request(1, "POST", "/", false)
	c.fr.WriteData(1, true, make([]byte, 16385))
	c.wantGoAway(http2.ErrCodeFrameSize)
}

func TestFlowControlViolation(t *testing.T) {
	// The handler never reads: only the engine can see the violation.
	release := make(chan struct{})
	s := startServer(t, &h2.Config{InitialWindowSize: 100}, func(c *h2.Conn, ev h2.Event) { <-release })
	t.Cleanup(func() { close(release) }) // before the server closes
	c := dial(t, s.Addr())
	// Before our SETTINGS are acknowledged the RFC's 65535 still holds.
	c.until("SETTINGS", func(f http2.Frame) bool { _, ok := f.(*http2.SettingsFrame); return ok })
	c.fr.WriteSettingsAck()
	c.request(1, "POST", "/", false)
	c.fr.WriteData(1, false, make([]byte, 101))
	if r := c.rst(1); r.ErrCode != http2.ErrCodeFlowControl {
		t.Fatalf("RST %v", r.ErrCode)
	}
}

// Graceful GOAWAY from the worker: in-flight streams finish, later ones
// are ignored.
func TestGracefulGoAway(t *testing.T) {
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		c.GoAway(http2.ErrCodeNo, nil)
		c.WriteHeaders(ev.Stream, 200, nil, true)
	})
	c := dial(t, s.Addr())
	c.request(1, "GET", "/", true)
	g := c.until("GOAWAY", func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }).(*http2.GoAwayFrame)
	if g.LastStreamID != 1 || g.ErrCode != http2.ErrCodeNo {
		t.Fatalf("GOAWAY last %d code %v", g.LastStreamID, g.ErrCode)
	}
	if st, _ := c.response(1); st != 200 {
		t.Fatalf("in-flight stream: %d", st)
	}
	c.request(3, "GET", "/", true)
	c.fr.WritePing(false, [8]byte{9})
	c.until("PING ACK", func(f http2.Frame) bool {
		if f.Header().StreamID == 3 {
			t.Fatalf("stream 3 after GOAWAY got %v", f)
		}
		_, ok := f.(*http2.PingFrame)
		return ok
	})
	if n := s.Served(); n != 1 {
		t.Fatalf("served %d streams, want 1", n)
	}
}
