package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/httpd"
)

// testsTag is tests.c's log tag.
const testsTag = "TESTS"

// maxURIHandlers is the original's config.max_uri_handlers: "Modify this
// setting to match the number of test URI handlers".
const maxURIHandlers = 9

// lwipMaxSockets is CONFIG_LWIP_MAX_SOCKETS's default; the original keeps
// three sockets for the server's own use.
const lwipMaxSockets = 10

// maxEchoAlloc stands for the device's free heap: /echo buffers the whole
// body, and a body that does not fit is answered 500 as when malloc fails.
const maxEchoAlloc = 1 << 20

// options is where to listen, plus what tests may shorten.
type options struct {
	Host string
	Port uint16
	// RecvWaitTimeout overrides the default receive timeout when not zero.
	RecvWaitTimeout time.Duration
}

// tests holds the handlers and the log tests.c writes to. Every handler
// runs on the server's worker goroutine, so nothing here needs a lock.
type tests struct {
	log *slog.Logger
}

func (ts *tests) logf(format string, args ...any) {
	ts.log.Info(fmt.Sprintf(format, args...))
}

func (ts *tests) errorf(format string, args ...any) {
	ts.log.Error(fmt.Sprintf(format, args...))
}

// errFail stands for ESP_FAIL and the other error codes the original's
// handlers return: the session is closed.
var errFail = errors.New("ESP_FAIL")

/********************* Basic Handlers Start *******************/

const helloStr = "Hello World!"

func (ts *tests) helloGetHandler(r *httpd.Req) error {
	ts.logf("Free Stack for server task: '%d'", freeStack())
	return r.RespSendStr(helloStr)
}

// testHeaderGetHandler checks what happens with empty header values:
// Header2 may be empty while Header1 and Header3 must carry Value1 and
// Value3.
func (ts *tests) testHeaderGetHandler(r *httpd.Req) error {
	r.RespSetType(httpd.TypeText)
	for _, h := range [][2]string{{"Header1", "Value1"}, {"Header3", "Value3"}} {
		field, want := h[0], h[1]
		if r.HdrValueLen(field) == 0 {
			ts.errorf("%s not found", field)
			r.RespSendErr(httpd.Code400BadRequest, field+" not found")
			return httpd.ErrNotFound
		}
		v, err := r.HdrValueStr(field)
		if err != nil {
			ts.errorf("Error in getting value of %s", field)
			r.RespSendErr(httpd.Code400BadRequest, "Error in getting value of "+field)
			return errFail
		}
		ts.logf("%s content: %s", field, v)
		if v != want {
			r.RespSendErr(httpd.Code400BadRequest, "Wrong value of "+field+" received")
			return httpd.ErrInvalidArg
		}
		ts.logf("Expected value and received value matched for %s", field)
	}

	v, err := r.HdrValueStr("Header2")
	if err != nil {
		ts.errorf("Header2 not found")
		r.RespSendErr(httpd.Code400BadRequest, "Header2 not found")
		return errFail
	}
	ts.logf("Header2 content: %s", v)
	return r.RespSendStr(v)
}

func (ts *tests) helloTypeGetHandler(r *httpd.Req) error {
	r.RespSetType(httpd.TypeText)
	return r.RespSendStr(helloStr)
}

func (ts *tests) helloStatusGetHandler(r *httpd.Req) error {
	r.RespSetStatus(httpd.Status500)
	return r.RespSendStr(helloStr)
}

// echoPostHandler buffers the whole body, then sends it back with the
// request's Custom header.
func (ts *tests) echoPostHandler(r *httpd.Req) error {
	ts.logf("/echo handler read content length %d", r.ContentLen)

	if r.ContentLen+1 > maxEchoAlloc {
		ts.errorf("Failed to allocate memory of %d bytes!", r.ContentLen+1)
		r.RespSend500()
		return errFail
	}
	buf := make([]byte, r.ContentLen)
	for off := 0; off < len(buf); {
		// Read data received in the request
		n, err := r.Recv(buf[off:])
		if n <= 0 {
			if errors.Is(err, httpd.ErrSockTimeout) {
				r.RespSend408()
			}
			return errFail
		}
		off += n
		ts.logf("/echo handler recv length %d", n)
	}

	if r.ContentLen < 128 {
		ts.logf("/echo handler read %s", buf)
	}

	// Search for Custom header field
	if r.HdrValueLen("Custom") > 0 {
		v, _ := r.HdrValueStr("Custom")
		// Set as additional header for response packet
		r.RespSetHdr("Custom", v)
	}
	return r.RespSend(buf)
}

// adderFreeFunc is the session context's free function; Go's collector does
// the free() part.
func (ts *tests) adderFreeFunc(any) {
	ts.log.Info("Custom Free Context function called")
}

// adderPostHandler creates a context, keeps incrementing the value in it by
// whatever was received, and returns the result.
func (ts *tests) adderPostHandler(r *httpd.Req) error {
	var buf [10]byte
	n, err := r.Recv(buf[:])
	if n <= 0 {
		if errors.Is(err, httpd.ErrSockTimeout) {
			r.RespSend408()
		}
		return errFail
	}
	val := atoi(buf[:n])
	ts.logf("/adder handler read %d", val)

	sum, _ := r.SessCtx.(*int)
	if sum == nil {
		ts.log.Info("/adder allocating new session")
		sum = new(int)
		r.SessCtx = sum
		r.FreeCtx = ts.adderFreeFunc
	}
	*sum += val
	return r.RespSendStr(strconv.Itoa(*sum))
}

// leftoverDataPostHandler echoes only the first 10 bytes of the request,
// leaving the rest of the request data as is.
func (ts *tests) leftoverDataPostHandler(r *httpd.Req) error {
	var buf [10]byte
	n, err := r.Recv(buf[:])
	if n <= 0 {
		if errors.Is(err, httpd.ErrSockTimeout) {
			r.RespSend408()
		}
		return errFail
	}
	ts.logf("leftover data handler read %s", buf[:n])
	return r.RespSend(buf[:n])
}

// generateAsyncResp writes a complete second response on the socket,
// bypassing the request API, from work queued on the server.
func (ts *tests) generateAsyncResp(h *httpd.Handle, fd int) {
	const str = "Hello Double World!"
	ts.logf("Executing queued work fd : %d", fd)

	hdr := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n", len(str))
	h.SocketSend(fd, []byte(hdr), 0)
	// Space for sending additional headers based on set_header
	h.SocketSend(fd, []byte("\r\n"), 0)
	h.SocketSend(fd, []byte(str), 0)
}

func (ts *tests) asyncGetHandler(r *httpd.Req) error {
	r.RespSendStr(helloStr)
	// Also register a HTTPD Work which sends the same data on the same
	// socket again.
	h, fd := r.Handle, r.Sockfd()
	if fd < 0 {
		return errFail
	}
	ts.logf("Queuing work fd : %d", fd)
	h.QueueWork(func() { ts.generateAsyncResp(h, fd) })
	return nil
}

func (ts *tests) basicHandlers() []httpd.URI {
	return []httpd.URI{
		{URI: "/hello/type_html", Method: httpd.GET, Handler: ts.helloTypeGetHandler},
		{URI: "/test_header", Method: httpd.GET, Handler: ts.testHeaderGetHandler},
		{URI: "/hello", Method: httpd.GET, Handler: ts.helloGetHandler},
		{URI: "/hello/status_500", Method: httpd.GET, Handler: ts.helloStatusGetHandler},
		{URI: "/echo", Method: httpd.POST, Handler: ts.echoPostHandler},
		{URI: "/echo", Method: httpd.PUT, Handler: ts.echoPostHandler},
		{URI: "/leftover_data", Method: httpd.POST, Handler: ts.leftoverDataPostHandler},
		{URI: "/adder", Method: httpd.POST, Handler: ts.adderPostHandler},
		{URI: "/async_data", Method: httpd.GET, Handler: ts.asyncGetHandler},
	}
}

func (ts *tests) registerBasicHandlers(h *httpd.Handle) error {
	uris := ts.basicHandlers()
	ts.log.Info("Registering basic handlers")
	ts.logf("No of handlers = %d", len(uris))
	for i := range uris {
		if err := h.RegisterURIHandler(&uris[i]); err != nil {
			ts.log.Warn(fmt.Sprintf("register uri failed for %d", i))
			return err
		}
	}
	ts.log.Info("Success")
	return nil
}

/********************* Basic Handlers End *******************/

/********************* Test Handler Limit Start *******************/

func nullFunc(*httpd.Req) error { return nil }

// errTestFailed reports a failed step of the handler limit test.
var errTestFailed = errors.New("URI handler limit test failed")

// testHandlerLimit registers handlers until the table is full, checks that
// one more is refused and that unregistering makes room again, then leaves
// the table empty. limit is the server's MaxURIHandlers.
func (ts *tests) testHandlerLimit(h *httpd.Handle, limit int) error {
	uris := make([]httpd.URI, limit+1)
	for i := range uris {
		uris[i] = httpd.URI{URI: strconv.Itoa(i), Method: httpd.GET, Handler: nullFunc}
	}
	// ESP-IDF's httpd_uri.c logs why it refuses a registration; esphttpd
	// returns the reason instead, and the test logs it in those words.
	refused := func(err error, u *httpd.URI) {
		switch {
		case errors.Is(err, httpd.ErrHandlersFull):
			ts.log.Warn("no slots left for registering handler")
		case errors.Is(err, httpd.ErrHandlerExists):
			ts.log.Warn(fmt.Sprintf("handler %s with method %d already registered", u.URI, u.Method))
		case errors.Is(err, httpd.ErrNotFound):
			ts.log.Warn(fmt.Sprintf("handler %s with method %d not found", u.URI, u.Method))
		default:
			ts.log.Warn(err.Error())
		}
	}
	fail := func() error {
		ts.log.Info("Fail")
		for i := range uris {
			h.UnregisterURIHandler(uris[i].URI, uris[i].Method)
		}
		return errTestFailed
	}

	// Register multiple instances of the same handler for MAX URI Handlers
	ts.logf("Test: Register Max URI handlers: %d...", limit)
	for i := range limit {
		if err := h.RegisterURIHandler(&uris[i]); err != nil {
			return fail()
		}
	}
	ts.log.Info("Success")

	// Register the MAX URI + 1 Handlers should fail
	ts.logf("Test: Register Max URI + 1 handlers: %d th...", limit+1)
	err := h.RegisterURIHandler(&uris[limit])
	if !errors.Is(err, httpd.ErrHandlersFull) {
		return fail()
	}
	refused(err, &uris[limit])
	ts.log.Info("Success")

	// Unregister the one of the Handler should pass
	ts.log.Info("Test: Unregister 0th handler...")
	if err := h.UnregisterURIHandler(uris[0].URI, uris[0].Method); err != nil {
		return fail()
	}
	ts.log.Info("Success")

	// Unregister non added Handler should fail
	ts.log.Info("Test: Again unregister 0th handler not registered...")
	err = h.UnregisterURIHandler(uris[0].URI, uris[0].Method)
	if !errors.Is(err, httpd.ErrNotFound) {
		return fail()
	}
	refused(err, &uris[0])
	ts.log.Info("Success")

	// Register the MAX URI Handler should pass
	ts.log.Info("Test: Register back 0th handler...")
	if err := h.RegisterURIHandler(&uris[0]); err != nil {
		return fail()
	}
	ts.log.Info("Success")

	// Reregister same instance of handler should fail. (ESP-IDF reports
	// that it exists; esphttpd currently reports the full table first.)
	ts.log.Info("Test: Register 0th handler again after registering...")
	err = h.RegisterURIHandler(&uris[0])
	if err == nil {
		return fail()
	}
	refused(err, &uris[0])
	ts.log.Info("Success")

	// Register the MAX URI + 1 Handlers should fail
	ts.log.Info("Test: Register 1 more handler...")
	err = h.RegisterURIHandler(&uris[limit])
	if !errors.Is(err, httpd.ErrHandlersFull) {
		return fail()
	}
	refused(err, &uris[limit])
	ts.log.Info("Success")

	// Unregister the same handler for MAX URI Handlers
	ts.log.Info("Test: Unregister all handlers:")
	for i := range limit {
		if err := h.UnregisterURIHandler(uris[i].URI, uris[i].Method); err != nil {
			return fail()
		}
	}
	ts.log.Info("Success")
	return nil
}

/********************* Test Handler Limit End *******************/

// testHTTPDStart is test_httpd_start: start the server and log its limits.
func (ts *tests) testHTTPDStart(opts options) (*httpd.Handle, error) {
	// ESP-IDF's exact defaults: test.py checks the 512-byte limits and
	// that a connection beyond MaxOpenSockets waits (no LRU purge).
	cfg := httpd.ESPIDFDefaultConfig()
	// Modify this setting to match the number of test URI handlers
	cfg.MaxURIHandlers = maxURIHandlers
	cfg.Host = opts.Host
	cfg.ServerPort = opts.Port
	// This check should be a part of http_server
	cfg.MaxOpenSockets = lwipMaxSockets - 3
	if opts.RecvWaitTimeout > 0 {
		cfg.RecvWaitTimeout = opts.RecvWaitTimeout
	}
	cfg.Logger = espconsole.WithTag(ts.log, "httpd")

	h, err := httpd.Start(cfg)
	if err != nil {
		return nil, err
	}
	ts.logf("Started HTTP server on port: '%d'", h.Port())
	ts.logf("Max URI handlers: '%d'", cfg.MaxURIHandlers)
	ts.logf("Max Open Sessions: '%d'", cfg.MaxOpenSockets)
	ts.logf("Max Header Length: '%d'", cfg.MaxReqHdrLen)
	ts.logf("Max URI Length: '%d'", cfg.MaxURILen)
	ts.logf("Max Stack Size: '%d'", maxStack)
	return h, nil
}

// startTests is start_tests: start the server, run the handler limit test,
// register the handlers. log is main's logger; the tests log under TESTS.
func startTests(opts options, log *slog.Logger) (*httpd.Handle, error) {
	ts := &tests{log: espconsole.WithTag(log, testsTag)}
	h, err := ts.testHTTPDStart(opts)
	if err != nil {
		return nil, err
	}
	err = ts.testHandlerLimit(h, maxURIHandlers)
	if err == nil {
		err = ts.registerBasicHandlers(h)
	}
	if err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

// stopTests is stop_tests.
func stopTests(h *httpd.Handle, log *slog.Logger) error {
	tl := espconsole.WithTag(log, testsTag)
	tl.Info("Stopping httpd")
	err := h.Stop()
	tl.Info(fmt.Sprintf("HTTPD Stop: Current free memory: %d", freeHeap()))
	return err
}

// atoi converts like C's atoi: leading white space, an optional sign, then
// digits up to the first non-digit; 0 when there are none.
func atoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	n := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}
