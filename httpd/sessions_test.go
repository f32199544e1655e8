package httpd_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

func TestLRUPurgeEightClientsOnSevenSlots(t *testing.T) {
	cfg := testConfig()
	cfg.LRUPurgeEnable = true
	closed := make(chan int, 16)
	cfg.CloseFn = func(h *httpd.Handle, fd int) { closed <- fd }
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	var clients []*client
	for range 7 {
		c := newClient(t, h)
		c.do(get("/hello"))
		clients = append(clients, c)
	}
	// Protect the oldest session: the purge must take the second instead.
	protected := make(chan error, 1)
	h.QueueWork(func() { protected <- h.SessUpdateLRUCounter(1) })
	if err := <-protected; err != nil {
		t.Fatal(err)
	}
	eighth := newClient(t, h)
	if resp := eighth.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("eighth client not served")
	}
	if fd := <-closed; fd != 2 {
		t.Fatalf("purged session %d, want 2 (1 was protected)", fd)
	}
	clients[1].expectClosed()
	if n := len(h.GetClientList()); n != 7 {
		t.Fatalf("%d sessions open, want 7", n)
	}
	if resp := clients[0].do(get("/hello")); resp.StatusCode != 200 {
		t.Fatal("protected session was closed")
	}
}

func TestWithoutLRUExtraConnectionWaitsInBacklog(t *testing.T) {
	cfg := testConfig()
	cfg.LRUPurgeEnable = false // ESP-IDF's default, not this port's
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	var clients []*client
	for range 7 {
		c := newClient(t, h)
		c.do(get("/hello"))
		clients = append(clients, c)
	}
	eighth := newClient(t, h) // the kernel accepts it into the backlog
	eighth.send(get("/hello"))
	eighth.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := eighth.br.ReadByte(); err == nil {
		t.Fatal("eighth connection served beyond MaxOpenSockets")
	}
	if n := len(h.GetClientList()); n != 7 {
		t.Fatalf("%d sessions", n)
	}
	clients[3].nc.Close()
	eighth.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if resp := eighth.read("GET"); resp.body != "Hello World!" {
		t.Fatal("eighth client not served after a slot freed")
	}
}

// xorConn is the client side of the toy XOR transport.
type xorConn struct{ net.Conn }

const xorKey = 0x5A

func (x xorConn) Read(p []byte) (int, error) {
	n, err := x.Conn.Read(p)
	for i := range p[:n] {
		p[i] ^= xorKey
	}
	return n, err
}

func (x xorConn) Write(p []byte) (int, error) {
	q := make([]byte, len(p))
	for i := range p {
		q[i] = p[i] ^ xorKey
	}
	return x.Conn.Write(q)
}

// xorTransport installs recv/send overrides that XOR every byte, and a
// pending override over a read-ahead buffer: recv hands out at most 7 bytes
// per call from what it read, so pipelined requests sit in the transport,
// where only the pending function can reveal them.
func xorTransport(cfg *httpd.Config) {
	type state struct {
		nc   net.Conn
		held []byte
		buf  [4096]byte
	}
	cfg.OpenFn = func(h *httpd.Handle, fd int) error {
		st := &state{nc: h.SessConn(fd)}
		h.SessSetTransportCtx(fd, st, nil)
		h.SessSetRecvOverride(fd, func(h *httpd.Handle, fd int, buf []byte, _ int) (int, error) {
			st := h.SessGetTransportCtx(fd).(*state)
			if len(st.held) == 0 {
				n, err := st.nc.Read(st.buf[:])
				if n == 0 {
					return 0, err
				}
				st.held = st.buf[:n]
			}
			n := copy(buf[:min(len(buf), 7)], st.held)
			for i := range buf[:n] {
				buf[i] ^= xorKey
			}
			st.held = st.held[n:]
			return n, nil
		})
		h.SessSetSendOverride(fd, func(h *httpd.Handle, fd int, buf []byte, _ int) (int, error) {
			st := h.SessGetTransportCtx(fd).(*state)
			out := make([]byte, len(buf))
			for i, b := range buf {
				out[i] = b ^ xorKey
			}
			return st.nc.Write(out)
		})
		return h.SessSetPendingOverride(fd, func(h *httpd.Handle, fd int) (int, error) {
			return len(h.SessGetTransportCtx(fd).(*state).held), nil
		})
	}
}

func TestOverridesTransformEveryByte(t *testing.T) {
	cfg := testConfig()
	xorTransport(&cfg)
	h := start(t, cfg,
		&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo},
	)
	nc := dial(t, h)
	xc := xorConn{nc}
	c := &client{t: t, nc: xc, br: bufio.NewReader(xc)}
	if resp := c.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatalf("through XOR: %q", resp.body)
	}
	body := strings.Repeat("0123456789", 5000)
	go io.WriteString(xc, "POST /echo HTTP/1.1\r\nContent-Length: 50000\r\n\r\n"+body)
	if resp := c.read("POST"); resp.body != body {
		t.Fatalf("echo through XOR: %d bytes", len(resp.body))
	}
	// Three pipelined requests in one write: after the first, the rest are
	// in the transport's buffer and the socket is quiet.
	c.send(get("/hello") + get("/hello") + get("/hello"))
	for i := range 3 {
		if resp := c.read("GET"); resp.body != "Hello World!" {
			t.Fatalf("pipelined %d: %q", i, resp.body)
		}
	}
	// Plain bytes are garbage to this server (no line ends once decoded):
	// it answers with an error status, in XOR.
	plain := newClient(t, h)
	plain.send(get("/hello"))
	answer, _ := io.ReadAll(xorConn{plain.nc})
	if !strings.HasPrefix(string(answer), "HTTP/1.1 4") {
		t.Fatalf("plain request answered %q", answer)
	}
}

func TestEvents(t *testing.T) {
	var mu sync.Mutex
	var got []string
	cfg := testConfig()
	cfg.EventHandler = func(e httpd.Event) {
		mu.Lock()
		got = append(got, e.ID.String())
		mu.Unlock()
	}
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.RegisterURIHandler(&httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo})
	c := newClient(t, h)
	c.do("POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi")
	c.do(get("/missing"))
	c.expectClosed()
	h.Stop()
	want := []string{"START", "ON_CONNECTED", "ON_HEADER", "ON_DATA", "HEADERS_SENT", "SENT_DATA",
		"ON_HEADER", "HEADERS_SENT", "SENT_DATA", "ERROR", "DISCONNECTED", "STOP"}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}

func TestSocketRecvAndSend(t *testing.T) {
	h := start(t, testConfig())
	got := make(chan string, 1)
	entered := make(chan struct{})
	h.RegisterURIHandler(&httpd.URI{URI: "/raw", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		close(entered)
		// Read the extra bytes the client sends after the head, then answer raw.
		buf := make([]byte, 5)
		n, err := r.Handle.SocketRecv(r.Sockfd(), buf, 0)
		if err != nil {
			return err
		}
		got <- string(buf[:n])
		_, err = r.Send([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nraw"))
		return err
	}})
	if _, err := h.SocketSend(99, []byte("x"), 0); err == nil {
		t.Fatal("SocketSend to an unknown session succeeded")
	}
	c := newClient(t, h)
	c.send(get("/raw"))
	// Sent with the head, the bytes would sit in the session's buffer,
	// where SocketRecv (a socket read) does not look.
	waitChan(t, entered, "the handler ran")
	c.send("extra")
	if s := waitChan(t, got, "SocketRecv returned"); s != "extra" {
		t.Fatalf("SocketRecv got %q", s)
	}
	if resp := c.read("GET"); resp.body != "raw" {
		t.Fatalf("%q", resp.body)
	}
}
