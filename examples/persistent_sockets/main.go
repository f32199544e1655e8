// Command persistent_sockets is a port of ESP-IDF's
// examples/protocols/http_server/persistent_sockets (main/main.c) to
// esphttpd: a context kept per connection across its requests.
//
// Run it with
//
//	go run ./examples/persistent_sockets                 # http://127.0.0.1:8080
//	go run ./examples/persistent_sockets -port 9000 -host 0.0.0.0
//
// The URI /adder keeps an accumulator in the session context of the
// connection it is called on, allocated on first use and freed (the free
// function logs "/adder Free Context function called") when the connection
// closes:
//
//   - PUT /adder with an integer body sets the accumulator to it,
//   - POST /adder adds the integer in the body and answers the new sum,
//   - GET /adder answers the sum.
//
// All three count their visitors in a counter shared through the URI
// handlers' user context. A new connection starts again from zero; try it
// with one keep-alive connection, where the sum persists, and with separate
// connections, where it does not:
//
//	curl -X PUT -d 5 http://127.0.0.1:8080/adder -: -X POST -d 3 http://127.0.0.1:8080/adder
//	curl http://127.0.0.1:8080/adder             # a new connection: 0
//
// Log lines print as on the ESP-IDF console ("I (1234) example: ..."); the
// server's own lines carry the tag "httpd". SIGINT or SIGTERM stops the
// server.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
)

// tag is the example's ESP-IDF log tag.
const tag = "example"

func main() {
	p := exmain.New("persistent_sockets", tag)
	p.Parse()
	p.Exit(p.Serve("Stopping webserver", func() (exmain.Server, error) {
		return startWebserver(p.Host, p.Port, p.Log)
	}))
}

// startWebserver starts the server and registers the /adder handlers, as
// the original's start_webserver does. Port 0 picks a free port (h.Port()).
func startWebserver(host string, port uint16, log *slog.Logger) (*httpd.Handle, error) {
	a := &adder{log: log}
	// Maintain a variable which stores the number of times the "/adder"
	// URI has been visited. Every handler runs on the server's worker, so
	// it needs no lock.
	visitors := new(uint)

	cfg := httpd.DefaultConfig()
	cfg.Host = host
	cfg.ServerPort = port
	cfg.Logger = espconsole.WithTag(log, "httpd")

	// Start the httpd server
	log.Info(fmt.Sprintf("Starting server on port: '%d'", cfg.ServerPort))
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		return nil, err
	}
	// Set URI handlers
	log.Info("Registering URI handlers")
	for _, u := range []httpd.URI{
		{URI: "/adder", Method: httpd.GET, Handler: a.getHandler, UserCtx: visitors},
		{URI: "/adder", Method: httpd.PUT, Handler: a.putHandler, UserCtx: visitors},
		{URI: "/adder", Method: httpd.POST, Handler: a.postHandler, UserCtx: visitors},
	} {
		if err := h.RegisterURIHandler(&u); err != nil {
			log.Error(fmt.Sprintf("Failed to register %s %s: %v", u.Method, u.URI, err))
			h.Stop()
			return nil, err
		}
	}
	return h, nil
}

// errFail stands for ESP_FAIL: a handler returning it has the session closed.
var errFail = errors.New("ESP_FAIL")

// adder holds the /adder handlers.
type adder struct {
	log *slog.Logger
}

func (a *adder) logf(format string, args ...any) {
	a.log.Info(fmt.Sprintf(format, args...))
}

// freeFunc is adder_free_func, the session context's free function. Go's
// collector does the free() part.
func (a *adder) freeFunc(any) {
	a.log.Info("/adder Free Context function called")
}

// countVisitor logs the visitor count kept in the URI's user context.
func (a *adder) countVisitor(r *httpd.Req) {
	visitors := r.UserCtx.(*uint)
	*visitors++
	a.logf("/adder visitor count = %d", *visitors)
}

// readInt reads the request body, at most 10 bytes as the original's
// buffer, and converts it as atoi does. A failed read answers 408 on a
// timeout and closes the session.
func readInt(r *httpd.Req) (int, error) {
	var buf [10]byte
	n, err := r.Recv(buf[:])
	if n <= 0 {
		if errors.Is(err, httpd.ErrSockTimeout) {
			r.RespSend408()
		}
		return 0, errFail
	}
	return atoi(buf[:n]), nil
}

// newSession gives the request's session a fresh accumulator.
func (a *adder) newSession(r *httpd.Req) *int {
	sum := new(int)
	r.SessCtx = sum
	r.FreeCtx = a.freeFunc
	return sum
}

// postHandler is adder_post_handler: it keeps accumulating what is posted
// into the session's context and answers the result.
func (a *adder) postHandler(r *httpd.Req) error {
	a.countVisitor(r)
	val, err := readInt(r)
	if err != nil {
		return err
	}
	a.logf("/adder handler read %d", val)

	// Create session's context if not already available
	sum, _ := r.SessCtx.(*int)
	if sum == nil {
		a.log.Info("/adder allocating new session")
		sum = a.newSession(r)
	}

	// Add the received data to the context
	*sum += val

	// Respond with the accumulated value
	return r.RespSendStr(strconv.Itoa(*sum))
}

// getHandler is adder_get_handler: it answers the accumulator.
func (a *adder) getHandler(r *httpd.Req) error {
	a.countVisitor(r)

	// Create session's context if not already available
	sum, _ := r.SessCtx.(*int)
	if sum == nil {
		a.log.Info("/adder GET allocating new session")
		sum = a.newSession(r)
	}
	a.logf("/adder GET handler send %d", *sum)

	// Respond with the accumulated value
	return r.RespSendStr(strconv.Itoa(*sum))
}

// putHandler is adder_put_handler: it sets the accumulator.
func (a *adder) putHandler(r *httpd.Req) error {
	a.countVisitor(r)
	val, err := readInt(r)
	if err != nil {
		return err
	}
	a.logf("/adder PUT handler read %d", val)

	// Create session's context if not already available
	sum, _ := r.SessCtx.(*int)
	if sum == nil {
		a.log.Info("/adder PUT allocating new session")
		sum = a.newSession(r)
	}
	*sum = val

	// Respond with the reset value
	return r.RespSendStr(strconv.Itoa(*sum))
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
