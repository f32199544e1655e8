package main

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"

	"github.com/esphttpd/esphttpd/httpd"
)

// queryKeyMaxLen is EXAMPLE_HTTP_QUERY_KEY_MAX_LEN: the original reads query
// values into a buffer of this size, so a longer value does not fit and is
// not logged (httpd_query_key_value answers ESP_ERR_HTTPD_RESULT_TRUNC).
const queryKeyMaxLen = 64

// echoBufSize is the stack buffer the original's echo handler reads into.
const echoBufSize = 100

// example holds the URI registrations and what their handlers share. Every
// handler runs on the server's worker goroutine, so nothing here needs a
// lock.
type example struct {
	log *slog.Logger

	hello, echo, ctrl, any, basicAuth, sseURI httpd.URI
	sse                                       *sseStreams
}

func newExample(log *slog.Logger, user, password string) *example {
	ex := &example{log: log}
	ex.sse = newSSEStreams(log)
	ex.hello = httpd.URI{
		URI:     "/hello",
		Method:  httpd.GET,
		Handler: ex.helloGetHandler,
		// Let's pass response string in user context to demonstrate its
		// usage.
		UserCtx: "Hello World!",
	}
	ex.echo = httpd.URI{URI: "/echo", Method: httpd.POST, Handler: ex.echoPostHandler}
	ex.ctrl = httpd.URI{URI: "/ctrl", Method: httpd.PUT, Handler: ex.ctrlPutHandler}
	ex.any = httpd.URI{URI: "/any", Method: httpd.ANY, Handler: ex.anyHandler, UserCtx: "Hello World!"}
	ex.basicAuth = httpd.URI{
		URI:     "/basic_auth",
		Method:  httpd.GET,
		Handler: ex.basicAuthGetHandler,
		UserCtx: &basicAuthInfo{username: user, password: password},
	}
	ex.sseURI = httpd.URI{URI: "/sse", Method: httpd.GET, Handler: ex.sse.handler}
	return ex
}

func (ex *example) logf(format string, args ...any) {
	ex.log.Info(fmt.Sprintf(format, args...))
}

// logHeader logs a request header the way the original does: only when it
// is present and not empty.
func (ex *example) logHeader(r *httpd.Req, field string) {
	if r.HdrValueLen(field) > 0 {
		if v, err := r.HdrValueStr(field); err == nil {
			ex.logf("Found header => %s: %s", field, v)
		}
	}
}

// helloGetHandler is hello_get_handler: GET /hello.
func (ex *example) helloGetHandler(r *httpd.Req) error {
	ex.logHeader(r, "Host")
	ex.logHeader(r, "Test-Header-2")
	ex.logHeader(r, "Test-Header-1")

	// Read the URL query string and the parameters the client is expected
	// to send.
	if r.URLQueryLen() > 0 {
		if q, err := r.URLQueryStr(); err == nil {
			ex.logf("Found URL query => %s", q)
			for _, key := range []string{"query1", "query3", "query2"} {
				param, err := httpd.QueryKeyValue(q, key)
				if err != nil || len(param) >= queryKeyMaxLen {
					continue
				}
				ex.logf("Found URL query parameter => %s=%s", key, param)
				decoded, err := httpd.URLDecode(param)
				if err != nil {
					// example_uri_decode copies what it cannot decode.
					decoded = param
				}
				ex.logf("Decoded query parameter => %s", decoded)
			}
		}
	}

	// Set some custom headers
	r.RespSetHdr("Custom-Header-1", "Custom-Value-1")
	r.RespSetHdr("Custom-Header-2", "Custom-Value-2")

	// Send response with custom headers and body set as the string passed
	// in user context.
	r.RespSendStr(r.UserCtx.(string))

	// After sending the HTTP response the old HTTP request headers are
	// lost. Check if HTTP request headers can be read now.
	if r.HdrValueLen("Host") == 0 {
		ex.log.Info("Request headers lost")
	}
	return nil
}

// echoPostHandler is echo_post_handler: POST /echo sends every piece of the
// body back as a chunk as soon as it is read, so a body of any length passes
// through a fixed buffer.
func (ex *example) echoPostHandler(r *httpd.Req) error {
	var buf [echoBufSize]byte
	remaining := r.ContentLen
	for remaining > 0 {
		// Read the data for the request
		n, err := r.Recv(buf[:min(remaining, int64(len(buf)))])
		if n <= 0 {
			if errors.Is(err, httpd.ErrSockTimeout) {
				// Retry receiving if timeout occurred
				continue
			}
			return errFail
		}

		// Send back the same data
		r.RespSendChunk(buf[:n])
		remaining -= int64(n)

		// Log data received
		ex.log.Info("=========== RECEIVED DATA ==========")
		ex.log.Info(string(buf[:n]))
		ex.log.Info("====================================")
	}

	// End response
	r.RespSendChunk(nil)
	return nil
}

// anyHandler serves /any for every method (HTTP_ANY).
func (ex *example) anyHandler(r *httpd.Req) error {
	// Send response with body set as the string passed in user context.
	r.RespSendStr(r.UserCtx.(string))
	// The original then ends a chunked response that was never started:
	// httpd_resp_send_chunk(req, NULL, 0). esphttpd refuses a second
	// response (ErrRespDone) instead of writing it, so the call is kept
	// only for fidelity and its error ignored.
	r.RespSendChunk(nil)
	return nil
}

// http404ErrorHandler is http_404_error_handler, registered by PUT /ctrl 0.
// The client can tell it works by the state of its connection: the answer
// for /hello keeps it open, the others close it.
func (ex *example) http404ErrorHandler(r *httpd.Req, _ httpd.ErrCode) error {
	switch r.URI {
	case "/hello":
		r.RespSendErr(httpd.Code404NotFound, "/hello URI is not available")
		// Return nil to keep underlying socket open
		return nil
	case "/echo":
		r.RespSendErr(httpd.Code404NotFound, "/echo URI is not available")
		// Return an error to close underlying socket
		return errFail
	}
	// For any other URI send 404 and close socket
	r.RespSendErr(httpd.Code404NotFound, "Some 404 error message")
	return errFail
}

// ctrlPutHandler is ctrl_put_handler: PUT /ctrl registers and unregisters
// URI handlers while the server runs.
func (ex *example) ctrlPutHandler(r *httpd.Req) error {
	var buf [1]byte
	if n, err := r.Recv(buf[:]); n <= 0 {
		if errors.Is(err, httpd.ErrSockTimeout) {
			r.RespSend408()
		}
		return errFail
	}

	h := r.Handle
	if buf[0] == '0' {
		// URI handlers can be unregistered using the uri string
		ex.log.Info("Unregistering /hello and /echo URIs")
		h.UnregisterURI("/hello")
		h.UnregisterURI("/echo")
		// Register the custom error handler
		h.RegisterErrHandler(httpd.Code404NotFound, ex.http404ErrorHandler)
	} else {
		ex.log.Info("Registering /hello and /echo URIs")
		h.RegisterURIHandler(&ex.hello)
		h.RegisterURIHandler(&ex.echo)
		// Unregister custom error handler
		h.RegisterErrHandler(httpd.Code404NotFound, nil)
	}

	// Respond with empty body
	r.RespSend(nil)
	return nil
}

// basicAuthInfo is basic_auth_info_t, the user context of /basic_auth.
type basicAuthInfo struct {
	username, password string
}

// status401 is the original's HTTPD_401.
const status401 = "401 UNAUTHORIZED"

// httpAuthBasic is http_auth_basic: the Authorization header value that the
// credentials give.
func httpAuthBasic(username, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
}

// basicAuthGetHandler is basic_auth_get_handler: GET /basic_auth.
func (ex *example) basicAuthGetHandler(r *httpd.Req) error {
	info := r.UserCtx.(*basicAuthInfo)
	if r.HdrValueLen("Authorization") == 0 {
		ex.log.Error("No auth header received")
		return ex.unauthorized(r)
	}
	auth, err := r.HdrValueStr("Authorization")
	if err == nil {
		ex.logf("Found header => Authorization: %s", auth)
	} else {
		ex.log.Error("No auth value received")
	}
	want := httpAuthBasic(info.username, info.password)
	if subtle.ConstantTimeCompare([]byte(want), []byte(auth)) != 1 {
		ex.log.Error("Not authenticated")
		return ex.unauthorized(r)
	}
	ex.log.Info("Authenticated!")
	r.RespSetStatus(httpd.Status200)
	r.RespSetType(httpd.TypeJSON)
	r.RespSetHdr("Connection", "keep-alive")
	r.RespSendStr(fmt.Sprintf(`{"authenticated": true,"user": "%s"}`, info.username))
	return nil
}

func (ex *example) unauthorized(r *httpd.Req) error {
	r.RespSetStatus(status401)
	r.RespSetType(httpd.TypeJSON)
	r.RespSetHdr("Connection", "keep-alive")
	r.RespSetHdr("WWW-Authenticate", `Basic realm="Hello"`)
	r.RespSend(nil)
	return nil
}
