package h2_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
	"github.com/esphttpd/esphttpd/httpd/internal/h2"
	"github.com/esphttpd/esphttpd/httpd/internal/h2/internal/testserver"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func TestPriorKnowledgeGet(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	// The server's first frame is SETTINGS with our limits.
	f, err := c.next()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		t.Fatalf("first frame %v, want SETTINGS", f)
	}
	if v, _ := sf.Value(http2.SettingMaxConcurrentStreams); v != h2.DefaultMaxConcurrentStreams {
		t.Errorf("MAX_CONCURRENT_STREAMS %d", v)
	}
	if v, _ := sf.Value(http2.SettingMaxHeaderListSize); v != h2.DefaultMaxHeaderListSize {
		t.Errorf("MAX_HEADER_LIST_SIZE %d", v)
	}
	c.request(1, "GET", "/", true)
	if st, body := c.response(1); st != 200 || string(body) != testserver.Body {
		t.Fatalf("got %d %q", st, body)
	}
	c.request(3, "HEAD", "/", true)
	if st, body := c.response(3); st != 200 || len(body) != 0 {
		t.Fatalf("HEAD: %d %q", st, body)
	}
}

func TestPingAndSettingsAck(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	c.fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	p := c.until("PING ACK", func(f http2.Frame) bool { _, ok := f.(*http2.PingFrame); return ok }).(*http2.PingFrame)
	if !p.IsAck() || p.Data != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Fatalf("ping reply %v", p)
	}
	c.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
	c.until("SETTINGS ACK", func(f http2.Frame) bool { sf, ok := f.(*http2.SettingsFrame); return ok && sf.IsAck() })
}

// A body larger than every window, both ways, through the echo handler:
// flow control and WINDOW_UPDATE credit on both sides.
func TestEchoLargeBody(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	body := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB: over 16 stream windows
	c.request(1, "POST", "/echo", false, "content-length", fmt.Sprint(len(body)))
	done := make(chan error, 1)
	var updates int
	var mu sync.Mutex // the writer: this goroutine and the sender
	credit := make(chan int, 1000)
	go func() {
		// Send within the windows the server grants.
		win := 65535
		rest := body
		for len(rest) > 0 {
			for win <= 0 {
				win += <-credit
			}
			n := min(win, len(rest), 16384)
			mu.Lock()
			err := c.fr.WriteData(1, n == len(rest), rest[:n])
			mu.Unlock()
			if err != nil {
				done <- err
				return
			}
			win -= n
			rest = rest[n:]
		}
		done <- nil
	}()
	var got []byte
	for {
		f, err := c.next()
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case *http2.WindowUpdateFrame:
			if f.StreamID == 1 {
				updates++
				credit <- int(f.Increment)
			}
		case *http2.DataFrame:
			got = append(got, f.Data()...)
			if n := len(f.Data()); n > 0 {
				mu.Lock()
				c.fr.WriteWindowUpdate(0, uint32(n))
				c.fr.WriteWindowUpdate(1, uint32(n))
				mu.Unlock()
			}
			if f.StreamEnded() {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, body) {
					t.Fatalf("echo: %d bytes back, want %d", len(got), len(body))
				}
				// Batched: about one update per half window, not per frame.
				if updates > 2*len(body)/32767+2 {
					t.Errorf("%d stream WINDOW_UPDATEs for %d bytes", updates, len(body))
				}
				return
			}
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			t.Fatalf("unexpected %v", f)
		}
	}
}

func TestMalformedRequestsAreStreamErrors(t *testing.T) {
	s := startServer(t, nil, nil)
	c := dial(t, s.Addr())
	cases := [][]hpack.HeaderField{
		{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: ""}},
		{{Name: ":method", Value: "GET"}, {Name: ":path", Value: "/"}},
		{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/"}, {Name: "Upper", Value: "x"}},
		{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/"}, {Name: "connection", Value: "close"}},
		{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/"}, {Name: "te", Value: "gzip"}},
		{{Name: ":method", Value: "GET"}, {Name: "x", Value: "y"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/"}},
		{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/"}, {Name: ":status", Value: "200"}},
	}
	for i, fields := range cases {
		id := uint32(2*i + 1)
		c.hbuf.Reset()
		for _, f := range fields {
			c.enc.WriteField(f)
		}
		c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndStream: true, EndHeaders: true})
		if r := c.rst(id); r.ErrCode != http2.ErrCodeProtocol {
			t.Errorf("case %d: RST %v, want PROTOCOL_ERROR", i, r.ErrCode)
		}
	}
	// The connection is still good.
	id := uint32(2*len(cases) + 1)
	c.request(id, "GET", "/", true)
	if st, _ := c.response(id); st != 200 {
		t.Fatalf("after malformed requests: %d", st)
	}
}

// The worker's view: ReadData deadline, peer reset seen by ReadData and as
// an event, StreamDone after a partial response resets the stream.
func TestWorkerSide(t *testing.T) {
	type result struct {
		path string
		err  error
	}
	results := make(chan result, 10)
	resetEntered := make(chan struct{})
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		var buf [16]byte
		switch ev.Path {
		case "/deadline":
			_, err := c.ReadData(ev.Stream, buf[:], time.Now().Add(50*time.Millisecond))
			results <- result{ev.Path, err}
			c.WriteHeaders(ev.Stream, 408, nil, true)
		case "/reset":
			close(resetEntered)
			_, err := c.ReadData(ev.Stream, buf[:], time.Now().Add(5*time.Second))
			results <- result{ev.Path, err}
			results <- result{ev.Path, c.WriteHeaders(ev.Stream, 200, nil, true)}
		case "/partial":
			c.WriteHeaders(ev.Stream, 200, nil, false)
			c.WriteData(ev.Stream, []byte("part"), false, time.Time{})
			// Returning without ending the response: StreamDone resets.
		}
	})
	c := dial(t, s.Addr())
	c.request(1, "POST", "/deadline", false)
	if r := <-results; !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadData without data: %v, want deadline", r.err)
	}
	if st, _ := c.response(1); st != 408 {
		t.Fatalf("status %d", st)
	}
	c.request(3, "POST", "/reset", false)
	// Reset only once the handler runs: a stream reset before it is
	// dropped from the queue (its handler never runs).
	select {
	case <-resetEntered:
	case <-time.After(5 * time.Second):
		t.Fatal("the /reset handler never ran")
	}
	c.fr.WriteRSTStream(3, http2.ErrCodeCancel)
	r := <-results
	var re *h2.StreamResetError
	if !errors.As(r.err, &re) || !re.Remote || re.Code != http2.ErrCodeCancel {
		t.Fatalf("ReadData after peer reset: %v", r.err)
	}
	if r := <-results; !errors.As(r.err, &re) {
		t.Fatalf("WriteHeaders after peer reset: %v", r.err)
	}
	c.request(5, "GET", "/partial", true)
	if r := c.rst(5); r.ErrCode != http2.ErrCodeInternal {
		t.Fatalf("partial response: RST %v", r.ErrCode)
	}
}

// Driving the engine directly over net.Pipe: events as the reader sees them.
func TestEventsOverPipe(t *testing.T) {
	sc, cc := net.Pipe()
	defer sc.Close()
	defer cc.Close()
	cfr := http2.NewFramer(cc, cc)
	go func() { // client: drain everything the server writes
		for {
			if _, err := cfr.ReadFrame(); err != nil {
				return
			}
		}
	}()
	type ret struct {
		c   *h2.Conn
		err error
	}
	ch := make(chan ret, 1)
	go func() {
		c, err := h2.NewServerConn(sc, sc, nil)
		ch <- ret{c, err}
	}()
	io.WriteString(cc, h2.ClientPreface)
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	c := r.c
	wfr := http2.NewFramer(cc, nil)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range []hpack.HeaderField{{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "example.org"}, {Name: ":path", Value: "/x?y=1"}, {Name: "content-length", Value: "5"}} {
		enc.WriteField(f)
	}
	go func() {
		wfr.WriteSettings()
		wfr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes()[:3]})
		wfr.WriteContinuation(1, true, hb.Bytes()[3:])
		wfr.WriteData(1, true, []byte("hello"))
		wfr.WriteGoAway(0, http2.ErrCodeNo, []byte("bye"))
	}()
	ev, err := c.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != h2.EventRequest || ev.Stream != 1 || ev.Method != "POST" || ev.Scheme != "https" ||
		ev.Authority != "example.org" || ev.Path != "/x?y=1" || ev.ContentLength != 5 || ev.EndStream ||
		len(ev.Header) != 5 || ev.Header[4].Name != "content-length" {
		t.Fatalf("event %+v", ev)
	}
	ev, err = c.ReadFrame()
	if err != nil || ev.Kind != h2.EventGoAway || string(ev.Debug) != "bye" {
		t.Fatalf("event %+v, %v", ev, err)
	}
	body, err := io.ReadAll(readerFunc(func(p []byte) (int, error) { return c.ReadData(1, p, time.Now().Add(time.Second)) }))
	if err != nil || string(body) != "hello" {
		t.Fatalf("body %q, %v", body, err)
	}
	cc.Close()
	if _, err := c.ReadFrame(); err == nil {
		t.Fatal("ReadFrame after the peer closed: no error")
	}
	c.Close()
	if err := c.WriteHeaders(1, 200, nil, true); !errors.Is(err, h2.ErrConnClosed) {
		t.Fatalf("WriteHeaders after Close: %v", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// h2c upgrade by hand: HTTP/1.1 request with a body, 101, then stream 1.
func TestH2CUpgrade(t *testing.T) {
	s := startServer(t, nil, nil)
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	// HTTP2-Settings: INITIAL_WINDOW_SIZE = 1 (the response's DATA comes
	// one byte at a time until we send WINDOW_UPDATE).
	fmt.Fprintf(nc, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: AAQAAAAB\r\n\r\nhello world")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	io.WriteString(nc, h2.ClientPreface)
	fr := http2.NewFramer(nc, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	var body []byte
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if f.Header().StreamID != 1 {
			continue
		}
		if d, ok := f.(*http2.DataFrame); ok {
			body = append(body, d.Data()...)
			if d.StreamEnded() {
				break
			}
		}
		if m, ok := f.(*http2.MetaHeadersFrame); ok && m.PseudoValue("status") != "200" {
			t.Fatalf("status %s", m.PseudoValue("status"))
		}
	}
	if string(body) != "hello world" {
		t.Fatalf("body %q", body)
	}
}

func TestDecodeSettingsHeader(t *testing.T) {
	b, err := h2.DecodeSettingsHeader("AAMAAABkAAQAAP__")
	if err != nil || len(b) != 12 {
		t.Fatalf("%v %v", b, err)
	}
	if _, err := h2.DecodeSettingsHeader("AAMA"); err == nil {
		t.Fatal("partial setting accepted")
	}
}

// Go's own client: x/net http2.Transport over cleartext TCP.
func TestGoTransport(t *testing.T) {
	s := startServer(t, nil, nil)
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return net.Dial(network, addr)
	}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			body := strings.Repeat(fmt.Sprint(i), 50_000+i)
			resp, err := cl.Post("http://"+s.Addr()+"/echo", "text/plain", strings.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || string(got) != body || resp.ProtoMajor != 2 {
				errs <- fmt.Errorf("request %d: %d bytes, %v, proto %d", i, len(got), err, resp.ProtoMajor)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	resp, err := cl.Get("http://" + s.Addr() + "/big")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != 256<<10 {
		t.Fatalf("/big: %d bytes", n)
	}
}

// curl, prior knowledge and upgrade.
func TestCurl(t *testing.T) {
	curl := exttool.Require(t, "curl")
	s := startServer(t, nil, nil)
	for _, mode := range []string{"--http2-prior-knowledge", "--http2"} {
		out, err := exec.Command(curl, "-sS", mode, "-d", "curl body", "-w", " %{http_version}",
			"http://"+s.Addr()+"/echo").CombinedOutput()
		if err != nil || string(out) != "curl body 2" {
			t.Errorf("curl %s: %q %v", mode, out, err)
		}
	}
}

// Egress framing: DATA frames within the peer's MAX_FRAME_SIZE, and a
// header block larger than a frame split into HEADERS + CONTINUATION.
func TestEgressFraming(t *testing.T) {
	big := strings.Repeat("v", 40_000)
	s := startServer(t, nil, func(c *h2.Conn, ev h2.Event) {
		if ev.Path == "/bighdr" {
			c.WriteHeaders(ev.Stream, 200, []hpack.HeaderField{{Name: "X-Big", Value: big}, {Name: "Connection", Value: "close"}}, true)
			return
		}
		c.WriteHeaders(ev.Stream, 200, nil, false)
		c.WriteData(ev.Stream, make([]byte, 60_000), true, time.Now().Add(5*time.Second))
	})
	c := dial(t, s.Addr(), http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20_000})
	c.request(1, "GET", "/data", true)
	total := 0
	for {
		f, err := c.next()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := f.(*http2.DataFrame); ok {
			if len(d.Data()) > 20_000 {
				t.Fatalf("DATA frame of %d bytes over MAX_FRAME_SIZE 20000", len(d.Data()))
			}
			total += len(d.Data())
			if d.StreamEnded() {
				break
			}
		}
	}
	if total != 60_000 {
		t.Fatalf("%d bytes", total)
	}
	c.request(3, "GET", "/bighdr", true)
	c.rd.SetMaxReadFrameSize(1 << 20)
	m := c.until("HEADERS", func(f http2.Frame) bool { _, ok := f.(*http2.MetaHeadersFrame); return ok }).(*http2.MetaHeadersFrame)
	if m.PseudoValue("status") != "200" || len(m.RegularFields()) != 1 || m.RegularFields()[0].Name != "x-big" ||
		m.RegularFields()[0].Value != big {
		t.Fatalf("big header response: %v", m.Fields[:1])
	}
}
