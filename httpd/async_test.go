package httpd_test

// Work off the request path: QueueWork order on the worker, async requests
// (AsyncHandlerBegin/Complete), answers sent later with SocketSend.

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

func TestQueueWorkOrderAndWorker(t *testing.T) {
	h := start(t, testConfig())
	var got []int
	done := make(chan struct{})
	for i := range 100 {
		if err := h.QueueWork(func() { got = append(got, i) }); err != nil {
			t.Fatal(err)
		}
	}
	h.QueueWork(func() { close(done) })
	<-done
	want := make([]int, 100)
	for i := range want {
		want[i] = i
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("work order (-want +got):\n%s", diff)
	}
	if err := h.QueueWork(nil); !errors.Is(err, httpd.ErrInvalidArg) {
		t.Fatalf("nil work: %v", err)
	}
	if err := h.QueueWork(func() { panic("work panic") }); err != nil {
		t.Fatal(err)
	}
	ok := make(chan struct{})
	h.QueueWork(func() { close(ok) })
	<-ok // the panic did not kill the worker
}

func TestAsyncWithQueueWorkAndSocketSend(t *testing.T) {
	// The advanced_tests "async_data" pattern: answer once in the handler,
	// then again from queued work through SocketSend.
	h := start(t, testConfig())
	h.RegisterURIHandler(&httpd.URI{URI: "/async", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		fd, hd := r.Sockfd(), r.Handle
		if err := r.RespSendStr("first"); err != nil {
			return err
		}
		return hd.QueueWork(func() {
			msg := "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"
			hd.SocketSend(fd, []byte(msg), 0)
		})
	}})
	c := newClient(t, h)
	if resp := c.do(get("/async")); resp.body != "first" {
		t.Fatalf("%q", resp.body)
	}
	if resp := c.read("GET"); resp.body != "second" {
		t.Fatalf("%q", resp.body)
	}
}

func TestAsyncHandler(t *testing.T) {
	release := make(chan struct{})
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	h.RegisterURIHandler(&httpd.URI{URI: "/slow", Method: httpd.POST, Handler: func(r *httpd.Req) error {
		ar, err := r.AsyncHandlerBegin()
		if err != nil {
			return err
		}
		if r.Sockfd() != ar.Sockfd() || r.Sockfd() < 0 {
			return fmt.Errorf("original request unusable after AsyncHandlerBegin: fd %d, copy %d", r.Sockfd(), ar.Sockfd())
		}
		go func() {
			<-release
			body, _ := io.ReadAll(reqReader{ar})
			ar.RespSendStr("async " + string(body))
			ar.AsyncHandlerComplete()
		}()
		return nil
	}})
	slow := newClient(t, h)
	slow.send("POST /slow HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody" + get("/hello"))
	// While the async request waits, another client is served.
	if resp := newClient(t, h).do(get("/hello")); resp.body != "Hello World!" {
		t.Fatal("other client not served during async request")
	}
	close(release)
	if resp := slow.read("POST"); resp.body != "async body" {
		t.Fatalf("%q", resp.body)
	}
	// The pipelined request after it is served once the async one completes.
	if resp := slow.read("GET"); resp.body != "Hello World!" {
		t.Fatalf("%q", resp.body)
	}
}
