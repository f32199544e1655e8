package httpd_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

// TestFromHTTPProto proves the *http.Request's Proto comes from
// Req.Proto, over HTTP/1.0, HTTP/1.1 and h2c alike, and that Close says
// what the request asked for.
func TestFromHTTPProto(t *testing.T) {
	type seen struct {
		proto        string
		major, minor int
		close        bool
	}
	got := make(chan seen, 1)
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/proto", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got <- seen{r.Proto, r.ProtoMajor, r.ProtoMinor, r.Close}
		})),
	})
	for _, x := range []struct {
		name, request string
		want          seen
	}{
		{"HTTP/1.0", "GET /proto HTTP/1.0\r\n\r\n", seen{"HTTP/1.0", 1, 0, true}},
		{"HTTP/1.0 keep-alive", "GET /proto HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", seen{"HTTP/1.0", 1, 0, false}},
		{"HTTP/1.1", "GET /proto HTTP/1.1\r\nHost: x\r\n\r\n", seen{"HTTP/1.1", 1, 1, false}},
		{"HTTP/1.1 close", "GET /proto HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", seen{"HTTP/1.1", 1, 1, true}},
	} {
		t.Run(x.name, func(t *testing.T) {
			c := srv.Dial()
			io.WriteString(c, x.request)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if s := <-got; s != x.want {
				t.Errorf("got %+v, want %+v", s, x.want)
			}
		})
	}
	t.Run("h2c", func(t *testing.T) {
		resp, err := srv.H2Client().Get(srv.URL + "/proto")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s, want := <-got, (seen{"HTTP/2.0", 2, 0, false}); s != want {
			t.Errorf("got %+v, want %+v", s, want)
		}
	})
}

// TestFromHTTPContextEndsWithStop proves the request's Context is
// Req.Context's child: a net/http handler waiting on it while the server
// stops is released, where a context of its own would keep it, and Stop,
// waiting.
func TestFromHTTPContextEndsWithStop(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2c=%v", h2), func(t *testing.T) {
			cfg := testConfig()
			cfg.HTTP2 = true
			entered := make(chan struct{})
			ended := make(chan error, 1)
			h := start(t, cfg, &httpd.URI{URI: "/wait", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				select {
				case <-r.Context().Done():
					ended <- r.Context().Err()
				case <-time.After(httpdtest.Timeout):
					ended <- errors.New("not cancelled")
				}
			}))})
			client := &http.Client{Timeout: httpdtest.Timeout}
			if h2 {
				client = h2Client()
			}
			go func() {
				if resp, err := client.Get(fmt.Sprintf("http://%s/wait", addr(h))); err == nil {
					resp.Body.Close()
				}
			}()
			<-entered
			stopped := make(chan struct{})
			go func() {
				h.Stop()
				close(stopped)
			}()
			if err := <-ended; !errors.Is(err, context.Canceled) {
				t.Errorf("Context while the server stops: %v, want context.Canceled", err)
			}
			<-stopped
			client.CloseIdleConnections()
		})
	}
}
