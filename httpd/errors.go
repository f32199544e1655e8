package httpd

import (
	"errors"
	"strconv"
)

// Sentinel errors, comparable with errors.Is. Each stands for the ESP-IDF
// code named in its comment; docs/porting.md has the full mapping.
var (
	// ErrInvalidArg: ESP_ERR_INVALID_ARG (a nil or malformed argument).
	ErrInvalidArg = errors.New("httpd: invalid argument")
	// ErrNotFound: ESP_ERR_NOT_FOUND (no such handler, header, query key,
	// cookie or session).
	ErrNotFound = errors.New("httpd: not found")
	// ErrFail: ESP_FAIL (the control queue is full or the server stopped).
	ErrFail = errors.New("httpd: operation failed")
	// ErrHandlersFull: ESP_ERR_HTTPD_HANDLERS_FULL.
	ErrHandlersFull = errors.New("httpd: all URI handler slots in use")
	// ErrHandlerExists: ESP_ERR_HTTPD_HANDLER_EXISTS.
	ErrHandlerExists = errors.New("httpd: URI handler already registered")
	// ErrInvalidReq: ESP_ERR_HTTPD_INVALID_REQ (the request is no longer
	// valid: its handler returned, or it was handed to an async goroutine).
	ErrInvalidReq = errors.New("httpd: invalid request")
	// ErrRespHdr: ESP_ERR_HTTPD_RESP_HDR (more response headers than
	// Config.MaxRespHeaders).
	ErrRespHdr = errors.New("httpd: too many response headers")
	// ErrRespSend: ESP_ERR_HTTPD_RESP_SEND (the response could not be sent;
	// errors.Unwrap gives the transport's error).
	ErrRespSend = errors.New("httpd: error sending response")
	// ErrRespDone is returned by the response functions once the response
	// is complete. ESP-IDF would write a second response onto the wire;
	// we refuse instead.
	ErrRespDone = errors.New("httpd: response already sent")
	// ErrContentTooLarge is returned by Recv once a body without a length
	// grows past Config.MaxReqBodySize or URI.MaxBodySize. It matches
	// ErrSockFail too, so ported retry loops end.
	ErrContentTooLarge = errors.New("httpd: request body too large")

	// ErrSockTimeout: HTTPD_SOCK_ERR_TIMEOUT (recv or send timed out).
	ErrSockTimeout = errors.New("httpd: socket timeout")
	// ErrSockFail: HTTPD_SOCK_ERR_FAIL (unrecoverable socket error).
	ErrSockFail = errors.New("httpd: socket error")
	// ErrSockInvalid: HTTPD_SOCK_ERR_INVALID (invalid arguments or session).
	ErrSockInvalid = errors.New("httpd: invalid socket")
	// ErrSockWouldBlock is what a TryRecvFunc returns when nothing has
	// arrived (no ESP-IDF counterpart: see Handle.SessSetTryRecvOverride).
	ErrSockWouldBlock = errors.New("httpd: nothing to receive yet")
)

// sockError wraps a transport error under one of the HTTPD_SOCK_ERR_
// sentinels while keeping the cause reachable through errors.Is.
type sockError struct {
	kind  error
	cause error
}

func (e *sockError) Error() string { return e.kind.Error() + ": " + e.cause.Error() }

func (e *sockError) Is(target error) bool { return target == e.kind }

func (e *sockError) Unwrap() error { return e.cause }

// respSendError is ErrRespSend with the transport's error behind it.
type respSendError struct{ cause error }

func (e *respSendError) Error() string { return ErrRespSend.Error() + ": " + e.cause.Error() }

func (e *respSendError) Is(target error) bool { return target == ErrRespSend }

func (e *respSendError) Unwrap() error { return e.cause }

// ErrCode is httpd_err_code_t: the HTTP errors the server itself detects,
// each with a default response and an optional handler
// (Handle.RegisterErrHandler).
type ErrCode int

// The error codes, in ESP-IDF's order.
const (
	Code500InternalServerError ErrCode = iota
	Code501MethodNotImplemented
	Code505VersionNotSupported
	Code400BadRequest
	Code401Unauthorized
	Code403Forbidden
	Code404NotFound
	Code405MethodNotAllowed
	Code408ReqTimeout
	Code411LengthRequired
	Code413ContentTooLarge
	Code414URITooLong
	Code431ReqHdrFieldsTooLarge
	codeMax
)

// errDefaults holds, per ErrCode, the status line and body that
// httpd_resp_send_err sends when no message is given.
var errDefaults = [codeMax]struct{ status, msg string }{
	Code500InternalServerError:  {"500 Internal Server Error", "Server has encountered an unexpected error"},
	Code501MethodNotImplemented: {"501 Method Not Implemented", "Server does not support this method"},
	Code505VersionNotSupported:  {"505 Version Not Supported", "HTTP version not supported by server"},
	Code400BadRequest:           {"400 Bad Request", "Bad request syntax"},
	Code401Unauthorized:         {"401 Unauthorized", "No permission -- see authorization schemes"},
	Code403Forbidden:            {"403 Forbidden", "Request forbidden -- authorization will not help"},
	Code404NotFound:             {"404 Not Found", "Nothing matches the given URI"},
	Code405MethodNotAllowed:     {"405 Method Not Allowed", "Specified method is invalid for this resource"},
	Code408ReqTimeout:           {"408 Request Timeout", "Server closed this connection"},
	Code411LengthRequired:       {"411 Length Required", "Client must specify Content-Length"},
	Code413ContentTooLarge:      {"413 Content Too Large", "Content is too large"},
	Code414URITooLong:           {"414 URI Too Long", "URI is too long"},
	Code431ReqHdrFieldsTooLarge: {"431 Request Header Fields Too Large", "Header fields are too long"},
}

func (c ErrCode) valid() bool { return c >= 0 && c < codeMax }

// Status returns the status line the default response uses, e.g.
// "404 Not Found".
func (c ErrCode) Status() string {
	if !c.valid() {
		return errDefaults[Code500InternalServerError].status
	}
	return errDefaults[c].status
}

// Message returns the default response body, e.g. "Nothing matches the given URI".
func (c ErrCode) Message() string {
	if !c.valid() {
		return errDefaults[Code500InternalServerError].msg
	}
	return errDefaults[c].msg
}

// String returns the status line, so logs read naturally.
func (c ErrCode) String() string {
	if !c.valid() {
		return "ErrCode(" + strconv.Itoa(int(c)) + ")"
	}
	return c.Status()
}

// codeForStatus maps an HTTP status detected by the parser to its ErrCode.
func codeForStatus(status int) ErrCode {
	switch status {
	case 400:
		return Code400BadRequest
	case 408:
		return Code408ReqTimeout
	case 411:
		return Code411LengthRequired
	case 413:
		return Code413ContentTooLarge
	case 414:
		return Code414URITooLong
	case 431:
		return Code431ReqHdrFieldsTooLarge
	case 501:
		return Code501MethodNotImplemented
	case 505:
		return Code505VersionNotSupported
	}
	return Code500InternalServerError
}
