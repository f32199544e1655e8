package httpd_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/internal/ws"
	"github.com/google/go-cmp/cmp"
	xws "golang.org/x/net/websocket"
)

func gzipped(t *testing.T, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.Bytes()
}

func serviceStart(t *testing.T) *httpd.Handle {
	cfg := httpd.ServiceConfig("127.0.0.1", 0, 4, 4)
	cfg.RecvWaitTimeout = 2 * time.Second
	return start(t, cfg)
}

func TestStaticResourceGzipNegotiationAndETag(t *testing.T) {
	h := serviceStart(t)
	page := "<html><body>It Works!</body></html>"
	gz := gzipped(t, page)
	if err := h.RegisterResource("/", &httpd.StaticResource{
		ResourceDetail: httpd.ResourceDetail{ContentEncoding: "gzip", ContentType: "text/html"},
		Data:           gz,
	}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, h)
	resp := c.do("GET / HTTP/1.1\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.body != string(gz) || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip accepted: %v %d bytes", resp.Header, len(resp.body))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	for _, accept := range []string{"", "Accept-Encoding: identity\r\n", "Accept-Encoding: gzip;q=0\r\n"} {
		resp = c.do("GET / HTTP/1.1\r\n" + accept + "\r\n")
		if resp.Header.Get("Content-Encoding") != "" || resp.body != page {
			t.Fatalf("%q: decoded body expected, got %v %q", accept, resp.Header, resp.body)
		}
	}
	resp = c.do("GET / HTTP/1.1\r\nIf-None-Match: " + etag + "\r\n\r\n")
	if resp.StatusCode != 304 || resp.body != "" || resp.Header.Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d %v %q", resp.StatusCode, resp.Header, resp.body)
	}
	resp = c.do("HEAD / HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n")
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(gz)) || resp.body != "" {
		t.Fatalf("HEAD: %d %d %q", resp.StatusCode, resp.ContentLength, resp.body)
	}
	if resp := c.do("POST / HTTP/1.1\r\n\r\n"); resp.StatusCode != 405 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
}

func TestStaticResourceUndecodableEncodingIs406(t *testing.T) {
	h := serviceStart(t)
	h.RegisterResource("/br", &httpd.StaticResource{
		ResourceDetail: httpd.ResourceDetail{ContentEncoding: "br"}, Data: []byte{1, 2, 3},
	})
	c := newClient(t, h)
	if resp := c.do("GET /br HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n"); resp.StatusCode != 406 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if resp := c.do("GET /br HTTP/1.1\r\nAccept-Encoding: br\r\n\r\n"); resp.StatusCode != 200 || resp.body != "\x01\x02\x03" {
		t.Fatalf("%d %q", resp.StatusCode, resp.body)
	}
	if err := h.RegisterResource("/bad", &httpd.StaticResource{
		ResourceDetail: httpd.ResourceDetail{ContentEncoding: "gzip"}, Data: []byte("not gzip"),
	}); err == nil {
		t.Fatal("registered non-gzip data as gzip")
	}
}

// dynLog records what a dynamic resource callback sees.
type dynLog struct {
	mu     sync.Mutex
	events []string
	bytes  int
	seen   chan httpd.DataStatus // every call's status, when not nil
}

func (l *dynLog) cb(client *httpd.Req, status httpd.DataStatus, data []byte, _ any) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 || l.events[len(l.events)-1] != status.String() {
		l.events = append(l.events, status.String())
	}
	l.bytes += len(data)
	if l.seen != nil {
		if status == httpd.DataAborted {
			l.seen <- status // the one the test waits for: never dropped
		} else {
			select {
			case l.seen <- status:
			default:
			}
		}
	}
	return len(data), nil // echo, as Zephyr's sample does
}

func (l *dynLog) take() ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev, n := l.events, l.bytes
	l.events, l.bytes = nil, 0
	return ev, n
}

func TestDynamicResourceStatuses(t *testing.T) {
	h := serviceStart(t)
	var log dynLog
	h.RegisterResource("/dynamic", &httpd.DynamicResource{
		ResourceDetail: httpd.ResourceDetail{Methods: httpd.Methods(httpd.GET, httpd.POST)},
		Callback:       log.cb,
		Buffer:         make([]byte, 1024),
	})
	c := newClient(t, h)
	for _, size := range []int{0, 1, 1 << 20} {
		body := make([]byte, size)
		rand.Read(body)
		go fmt.Fprintf(c.nc, "POST /dynamic HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", size, body)
		resp := c.read("POST")
		if !bytes.Equal([]byte(resp.body), body) {
			t.Fatalf("%d bytes: echoed %d", size, len(resp.body))
		}
		events, n := log.take()
		want := []string{"MORE", "FINAL"}
		if size <= 1024 {
			want = []string{"FINAL"}
		}
		if diff := cmp.Diff(want, events); diff != "" || n != size {
			t.Fatalf("%d bytes: callback saw %v (%d bytes) (-want +got):\n%s", size, events, n, diff)
		}
	}
	if resp := c.do(get("/dynamic")); resp.StatusCode != 200 || resp.body != "" {
		t.Fatalf("GET: %d %q", resp.StatusCode, resp.body)
	}
	if events, _ := log.take(); !cmp.Equal(events, []string{"FINAL"}) {
		t.Fatalf("GET events %v", events)
	}
	if resp := c.do("DELETE /dynamic HTTP/1.1\r\n\r\n"); resp.StatusCode != 405 {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}

	// A client that goes away mid-body: MORE, then ABORTED.
	seen := make(chan httpd.DataStatus, 1)
	log.mu.Lock()
	log.seen = seen
	log.mu.Unlock()
	c2 := newClient(t, h)
	fmt.Fprintf(c2.nc, "POST /dynamic HTTP/1.1\r\nContent-Length: 100000\r\n\r\n")
	c2.nc.Write(make([]byte, 50000))
	for <-seen != httpd.DataMore {
	}
	c2.nc.Close()
	for <-seen != httpd.DataAborted {
	}
	if events, _ := log.take(); !cmp.Equal(events, []string{"MORE", "ABORTED"}) {
		t.Fatalf("aborted upload: %v", events)
	}
}

func TestFnmatchResources(t *testing.T) {
	h := serviceStart(t)
	h.RegisterResource("/foo*", &httpd.StaticResource{Data: []byte("foo")})
	h.RegisterResource("/img/*.png", &httpd.StaticResource{Data: []byte("png")})
	c := newClient(t, h)
	for path, want := range map[string]string{"/foo": "foo", "/foobar": "foo", "/foo/bar/baz": "foo",
		"/img/a.png": "png", "/img/x/a.png": "", "/fo": "", "/img/a.jpg": ""} {
		resp := c.do(get(path))
		if want == "" {
			if resp.StatusCode != 404 {
				t.Errorf("%s: %d, want 404", path, resp.StatusCode)
			}
			c = newClient(t, h) // the 404 closed the session
			continue
		}
		if resp.body != want {
			t.Errorf("%s: %q, want %q", path, resp.body, want)
		}
	}
}

func TestWebsocketResourceHandsOverConnection(t *testing.T) {
	h := serviceStart(t)
	handedOver := make(chan struct{}, 1)
	h.RegisterResource("/ws_echo", &httpd.WebsocketResource{
		Callback: func(conn net.Conn, _ any) error {
			handedOver <- struct{}{}
			go rawWSEcho(conn)
			return nil
		},
	})
	wsc, err := xws.Dial("ws://"+addr(h)+"/ws_echo", "", "http://localhost/")
	if err != nil {
		t.Fatal(err)
	}
	<-handedOver
	for _, msg := range []string{"Hello, Server", "again"} {
		xws.Message.Send(wsc, msg)
		var got string
		wsc.SetDeadline(time.Now().Add(3 * time.Second))
		if err := xws.Message.Receive(wsc, &got); err != nil || got != msg {
			t.Fatalf("echo %q %v", got, err)
		}
	}
	if n := len(h.GetClientList()); n != 1 {
		t.Fatalf("hijacked session not counted: %d sessions", n)
	}
	wsc.Close()
	deadline := time.Now().Add(3 * time.Second)
	for len(h.GetClientList()) != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(h.GetClientList()); n != 0 {
		t.Fatalf("%d sessions after the application closed the connection", n)
	}
}

// rawWSEcho is the application side of a hijacked WebSocket: it echoes data
// frames until a close frame or an error, then closes.
func rawWSEcho(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	buf := make([]byte, 0, 64)
	for {
		for {
			hdr, n, err := ws.ParseHeader(buf, true)
			if err == ws.ErrIncomplete {
				b, err := br.ReadByte()
				if err != nil {
					return
				}
				buf = append(buf, b)
				continue
			}
			if err != nil || hdr.Opcode == ws.OpClose {
				return
			}
			payload := make([]byte, hdr.Length)
			if _, err := io.ReadFull(br, payload); err != nil {
				return
			}
			ws.Mask(payload, hdr.Key, 0)
			buf = buf[:0]
			_ = n
			conn.Write(append(ws.AppendHeader(nil, true, hdr.Opcode, len(payload)), payload...))
			break
		}
	}
}

func TestTwoServicesAtOnce(t *testing.T) {
	a := start(t, httpd.ServiceConfig("127.0.0.1", 0, 2, 1))
	b := start(t, httpd.ServiceConfig("127.0.0.1", 0, 5, 3))
	a.RegisterResource("/", &httpd.StaticResource{Data: []byte("service A")})
	b.RegisterResource("/", &httpd.StaticResource{Data: []byte("service B")})
	if a.Port() == 0 || b.Port() == 0 || a.Port() == b.Port() {
		t.Fatalf("ports %d %d", a.Port(), b.Port())
	}
	for _, tc := range []struct {
		h    *httpd.Handle
		want string
	}{{a, "service A"}, {b, "service B"}} {
		// No keep-alive: an idle pooled connection would hold a session.
		cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := cl.Get("http://" + addr(tc.h) + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tc.want {
			t.Fatalf("%q, want %q", body, tc.want)
		}
	}
	// Service A serves 2 clients at most: a third waits in the backlog.
	var held []*client
	for range 2 {
		c := newClient(t, a)
		c.do(get("/"))
		held = append(held, c)
	}
	third := newClient(t, a)
	third.send(get("/"))
	third.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := third.br.ReadByte(); err == nil {
		t.Fatal("service A served a third concurrent client")
	}
	held[0].nc.Close()
	third.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if resp := third.read("GET"); resp.body != "service A" {
		t.Fatalf("%q", resp.body)
	}
}
