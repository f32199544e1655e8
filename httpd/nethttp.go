package httpd

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// FromHTTP returns a HandlerFunc that serves each request with h, so that
// code written for net/http (net/http/pprof, http.FileServerFS, a
// ServeMux, chi, a Prometheus handler...) runs on the handle, over
// HTTP/1.1, HTTP/2 and TLS alike.
//
// h gets a real *http.Request: Method, URL (parsed from the request
// target), RequestURI, Proto (Req.Proto: "HTTP/1.0", "HTTP/1.1" or
// "HTTP/2.0", with Close set as net/http sets it), Host, Header, Body (streamed through
// Req.Recv, never buffered by the adapter), ContentLength (-1 when the
// body is chunked or an HTTP/2 body has no content-length), RemoteAddr,
// TLS (under httpd_ssl, or any transport whose session transport context
// has a ConnectionState() tls.ConnectionState method) and a Context
// derived from Req.Context that carries http.LocalAddrContextKey: it is
// cancelled when h returns, when the session closes and when the server
// stops.
//
// The http.ResponseWriter also implements http.Flusher. As in net/http, a
// response that h finishes before flushing and that stays under 64 KiB (or
// under the Content-Length h declared, up to 1 MiB) goes out with a
// Content-Length; anything else is sent chunked (DATA frames on HTTP/2),
// each Flush sending what was written so far. Without a Content-Type,
// one is sniffed from the first bytes with http.DetectContentType.
//
// To mount a router under a prefix, register the prefix with a wildcard
// matcher (Config.URIMatchFn = uri_match.Wildcard, template "/api/*") and
// strip it with http.StripPrefix, exactly as with http.ServeMux.
//
// h runs on the worker like every URI handler: while it runs, no other
// request of any session is served. That suits handlers that answer from
// memory; a slow one (a 30-second /debug/pprof/profile, a long poll, a
// server-sent event stream) stalls the whole server. Hand those to another
// goroutine with the async API:
//
//	slow := httpd.FromHTTP(h)
//	handler := func(r *httpd.Req) error {
//		ar, err := r.AsyncHandlerBegin()
//		if err != nil {
//			return err
//		}
//		go func() {
//			slow(ar)
//			ar.AsyncHandlerComplete()
//		}()
//		return nil
//	}
//
// Limits, each from the handle's API: response headers count against
// Config.MaxRespHeaders (more are answered 500); a Flush before anything
// was written cannot send the head alone, so the head leaves with the
// first bytes; 1xx informational responses and trailers are not sent;
// a HEAD response carries h's declared Content-Length only up to 64 KiB;
// a client that goes away while h runs does not cancel the Context, since
// the handle notices a closed connection only when h reads or writes, or
// after h returns (Stop and a Shutdown past its deadline do cancel it).
// Hijack is not offered: use Req.Hijack.
func FromHTTP(h http.Handler) HandlerFunc {
	if h == nil {
		h = http.NotFoundHandler()
	}
	return func(r *Req) error {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		req, err := newHTTPRequest(ctx, r)
		if err != nil {
			return r.RespSendErr(Code400BadRequest, err.Error())
		}
		w := newResponseWriter(r, req.Method)
		h.ServeHTTP(w, req)
		return w.finish()
	}
}

// newHTTPRequest builds the *http.Request net/http would have built for r.
// Headers are copied now because the handle discards them once the
// response starts.
func newHTTPRequest(ctx context.Context, r *Req) (*http.Request, error) {
	header := make(http.Header)
	for name, value := range r.HdrAll() {
		key := http.CanonicalHeaderKey(name)
		if key == "Host" {
			continue // net/http moves Host out of Header too
		}
		header[key] = append(header[key], value)
	}
	// On HTTP/2 the handle answers Host from :authority, which HdrAll
	// does not yield; on HTTP/1.x a Host the client sent is a field.
	host, _ := r.HdrValueStr("Host")
	u, err := url.ParseRequestURI(r.URI)
	if err != nil {
		return nil, errors.New("malformed request target")
	}
	proto := r.Proto()
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		proto, major, minor = "HTTP/1.1", 1, 1
	}
	h2 := major == 2
	req := &http.Request{
		Method:     r.Method.String(),
		URL:        u,
		RequestURI: r.URI,
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     header,
		Host:       host,
	}
	if req.Host == "" {
		req.Host = u.Host
	}
	_, hasLength := header["Content-Length"]
	_, hasCoding := header["Transfer-Encoding"]
	switch {
	case hasLength:
		req.ContentLength = r.ContentLen
	case hasCoding || h2:
		// Chunked, or HTTP/2 DATA frames without a declared length.
		req.ContentLength = -1
	}
	if req.ContentLength != 0 {
		req.Body = &reqBody{r: r}
		delete(header, "Transfer-Encoding")
		if hasCoding {
			req.TransferEncoding = []string{"chunked"}
		}
	} else {
		req.Body = http.NoBody
	}
	req.Close = !h2 && closesAfter(minor, header["Connection"])

	fd := r.Sockfd()
	if nc := r.Handle.SessConn(fd); nc != nil {
		req.RemoteAddr = nc.RemoteAddr().String()
		ctx = context.WithValue(ctx, http.LocalAddrContextKey, nc.LocalAddr())
	}
	if cs, ok := r.Handle.SessGetTransportCtx(fd).(interface {
		ConnectionState() tls.ConnectionState
	}); ok {
		state := cs.ConnectionState()
		req.TLS = &state
	}
	return req.WithContext(ctx), nil
}

// reqBody is the request body as an io.ReadCloser over Req.Recv.
type reqBody struct {
	r      *Req
	closed bool
	err    error // sticky: io.EOF or the failure that ended the body
}

// Read reads through Recv. A receive timeout (ErrSockTimeout) is returned
// as it is, so the handler may retry, as with a net/http read deadline.
func (b *reqBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Recv(p)
	if err != nil && !errors.Is(err, ErrSockTimeout) {
		b.err = err
	}
	return n, err
}

// Close marks the body closed; the handle discards what is left of it
// before the session's next request.
func (b *reqBody) Close() error {
	b.closed = true
	return nil
}

// closesAfter reports whether an HTTP/1.x request asks for its connection
// to close after the response: "Connection: close", or HTTP/1.0 without
// "Connection: keep-alive" (RFC 9112 section 9.3).
func closesAfter(minor int, connection []string) bool {
	keepAlive := false
	for _, v := range connection {
		for _, token := range strings.Split(v, ",") {
			switch token = strings.TrimSpace(token); {
			case strings.EqualFold(token, "close"):
				return true
			case strings.EqualFold(token, "keep-alive"):
				keepAlive = true
			}
		}
	}
	return minor == 0 && !keepAlive
}
