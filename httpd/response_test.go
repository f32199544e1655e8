package httpd_test

// The response API: status, type, headers, bodies and chunks, HEAD.

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

func TestHeadGetsGetHeadersWithoutBody(t *testing.T) {
	h := start(t, testConfig(), &httpd.URI{URI: "/hello", Method: httpd.HEAD, Handler: hello},
		&httpd.URI{URI: "/chunks", Method: httpd.HEAD, Handler: func(r *httpd.Req) error {
			r.RespSendStrChunk("abc")
			return r.RespSendStrChunk("")
		}})
	c := newClient(t, h)
	c.send("HEAD /hello HTTP/1.1\r\n\r\nHEAD /chunks HTTP/1.1\r\n\r\n" + "HEAD /hello HTTP/1.1\r\n\r\n")
	resp := c.read("HEAD")
	if resp.ContentLength != 12 || resp.body != "" {
		t.Fatalf("HEAD: Content-Length %d body %q", resp.ContentLength, resp.body)
	}
	resp = c.read("HEAD")
	if resp.TransferEncoding == nil || resp.body != "" {
		t.Fatalf("HEAD chunked: TE %v body %q", resp.TransferEncoding, resp.body)
	}
	if resp := c.read("HEAD"); resp.StatusCode != 200 {
		t.Fatalf("third response %d: framing lost", resp.StatusCode)
	}
}

func TestResponseAPI(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRespHeaders = 2
	var hdrErr error
	h := start(t, cfg, &httpd.URI{URI: "/r", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSetStatus("201 Created")
		r.RespSetType(httpd.TypeJSON)
		r.RespSetHdr("X-One", "1")
		r.RespSetHdr("X-Two", "2")
		hdrErr = r.RespSetHdr("X-Three", "3")
		if err := r.RespSetHdr("X-Bad", "a\r\nInjected: 1"); !errors.Is(err, httpd.ErrInvalidArg) {
			return fmt.Errorf("header injection accepted: %v", err)
		}
		return r.RespSendStr(`{"ok":true}`)
	}}, &httpd.URI{URI: "/chunks", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		for _, s := range []string{"one,", "two,", strings.Repeat("z", 20000)} {
			if err := r.RespSendStrChunk(s); err != nil {
				return err
			}
		}
		return r.RespSendChunk(nil)
	}}, &httpd.URI{URI: "/twice", Method: httpd.GET, Handler: func(r *httpd.Req) error {
		r.RespSendStr("first")
		if err := r.RespSendStr("second"); !errors.Is(err, httpd.ErrRespDone) {
			return fmt.Errorf("second send: %v", err)
		}
		return nil
	}})
	c := newClient(t, h)
	resp := c.do(get("/r"))
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("X-One") != "1" || resp.Header.Get("X-Two") != "2" || resp.body != `{"ok":true}` {
		t.Fatalf("response %d %v %q", resp.StatusCode, resp.Header, resp.body)
	}
	if !errors.Is(hdrErr, httpd.ErrRespHdr) {
		t.Fatalf("third header: %v, want ErrRespHdr", hdrErr)
	}
	resp = c.do(get("/chunks"))
	if want := "one,two," + strings.Repeat("z", 20000); resp.body != want || resp.TransferEncoding == nil {
		t.Fatalf("chunked body of %d bytes, TE %v", len(resp.body), resp.TransferEncoding)
	}
	if resp := c.do(get("/twice")); resp.body != "first" {
		t.Fatalf("twice: %q", resp.body)
	}
	if resp := c.do(get("/r")); resp.StatusCode != 201 {
		t.Fatal("session unusable after /twice")
	}
}
