package httpd_ssl_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestFromHTTPSeesTLS proves a net/http handler mounted with httpd.FromHTTP
// on an httpd_ssl server gets http.Request.TLS filled from the session,
// over HTTP/1.1 and over HTTP/2 (ALPN h2).
func TestFromHTTPSeesTLS(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p), &httpd.URI{URI: "/tls", Method: httpd.GET, Handler: httpd.FromHTTP(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			if r.TLS == nil {
				io.WriteString(w, "no TLS state")
				return
			}
			fmt.Fprintf(w, "%s %s %s %v", r.Proto, r.TLS.ServerName, r.TLS.NegotiatedProtocol, r.TLS.HandshakeComplete)
		}))})
	for _, tc := range []struct {
		h2   bool
		want string
	}{
		{false, "HTTP/1.1 localhost http/1.1 true"},
		{true, "HTTP/2.0 localhost h2 true"},
	} {
		tr := &http.Transport{TLSClientConfig: clientConfig(p), ForceAttemptHTTP2: tc.h2}
		if !tc.h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := cl.Get("https://" + h.Addr().String() + "/tls")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if string(body) != tc.want {
			t.Errorf("h2=%v: %q, want %q", tc.h2, body, tc.want)
		}
	}
}
