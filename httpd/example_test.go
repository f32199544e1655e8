package httpd_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/esphttpd/esphttpd/httpd"
)

// The examples listen on an ephemeral loopback port (ServerPort 0) and stop
// their server before returning.

// Start, register a handler, serve one GET, Stop: httpd_start,
// httpd_register_uri_handler and httpd_stop.
func ExampleStart() {
	cfg := httpd.DefaultConfig() // HTTPD_DEFAULT_CONFIG()
	cfg.Host = "127.0.0.1"
	cfg.ServerPort = 0 // pick a free port; h.Port() reports it
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()

	// esp_err_t hello_get_handler(httpd_req_t *req), ported.
	hello := func(r *httpd.Req) error {
		if err := r.RespSetHdr("Custom-Header-1", "Custom-Value-1"); err != nil {
			return err
		}
		return r.RespSendStr(r.UserCtx.(string)) // a non-nil error closes the session
	}
	err = h.RegisterURIHandler(&httpd.URI{
		URI:     "/hello",
		Method:  httpd.GET,
		Handler: hello,
		UserCtx: "Hello World!",
	})
	if err != nil {
		log.Fatal(err)
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hello", h.Port()))
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Custom-Header-1"))
	fmt.Println(string(body))
	// Output:
	// 200 OK Custom-Value-1
	// Hello World!
}

// Read a request body of any length in small pieces, as ESP-IDF's echo
// handler does with httpd_req_recv: Recv until io.EOF. The same loop reads
// a chunked body, whose ContentLen is 0.
func ExampleReq_Recv() {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()

	echo := func(r *httpd.Req) error {
		var body []byte
		buf := make([]byte, 8) // small on purpose: several Recv calls
		for {
			n, err := r.Recv(buf)
			body = append(body, buf[:n]...)
			if err == io.EOF {
				break
			}
			if errors.Is(err, httpd.ErrSockTimeout) {
				continue // HTTPD_SOCK_ERR_TIMEOUT: retrying is allowed
			}
			if err != nil {
				return err // closes the session, like returning ESP_FAIL
			}
		}
		return r.RespSend(body)
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/echo", Method: httpd.POST, Handler: echo}); err != nil {
		log.Fatal(err)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/echo", h.Port())
	for _, body := range []io.Reader{
		strings.NewReader("sent with Content-Length"),
		// A reader of unknown length makes net/http send the body chunked.
		io.MultiReader(strings.NewReader("sent "), strings.NewReader("chunked")),
	} {
		resp, err := http.Post(url, "text/plain", body)
		if err != nil {
			log.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(got))
	}
	// Output:
	// sent with Content-Length
	// sent chunked
}

// Send a response in pieces with chunked transfer coding
// (httpd_resp_send_chunk); an empty chunk ends it.
func ExampleReq_RespSendChunk() {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()

	count := func(r *httpd.Req) error {
		if err := r.RespSetType("text/plain"); err != nil {
			return err
		}
		for _, line := range []string{"one\n", "two\n", "three\n"} {
			if err := r.RespSendChunk([]byte(line)); err != nil {
				return err
			}
		}
		return r.RespSendChunk(nil) // the terminating empty chunk
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/count", Method: httpd.GET, Handler: count}); err != nil {
		log.Fatal(err)
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/count", h.Port()))
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.TransferEncoding, resp.Header.Get("Content-Type"))
	fmt.Print(string(body))
	// Output:
	// [chunked] text/plain
	// one
	// two
	// three
}

// QueueWork runs a function on the worker goroutine, the one that runs every
// handler (httpd_queue_work). State touched only by handlers and work
// functions therefore needs no lock.
func ExampleHandle_QueueWork() {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()

	hits := 0 // only ever used on the worker
	hit := func(r *httpd.Req) error {
		hits++
		return r.RespSendStr("ok")
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/hit", Method: httpd.GET, Handler: hit}); err != nil {
		log.Fatal(err)
	}
	for range 3 {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hit", h.Port()))
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// From any goroutine: ask the worker for the count.
	result := make(chan int)
	if err := h.QueueWork(func() { result <- hits }); err != nil {
		log.Fatal(err)
	}
	fmt.Println("hits:", <-result)
	// Output:
	// hits: 3
}

// A session context (httpd_req_t.sess_ctx) lives as long as the connection:
// set it in one request, find it again in the next one on the same
// keep-alive connection. FreeCtx runs when the session closes.
func ExampleReq_sessionContext() {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}

	counter := func(r *httpd.Req) error {
		if r.SessCtx == nil {
			r.SessCtx = new(int)
			r.FreeCtx = func(ctx any) {
				fmt.Println("session closed after", *ctx.(*int), "requests")
			}
		}
		n := r.SessCtx.(*int)
		*n++
		return r.RespSendStr(fmt.Sprintf("session %d, request %d", r.Sockfd(), *n))
	}
	if err := h.RegisterURIHandler(&httpd.URI{URI: "/counter", Method: httpd.GET, Handler: counter}); err != nil {
		log.Fatal(err)
	}

	// One connection for both requests.
	tr := &http.Transport{MaxConnsPerHost: 1}
	client := &http.Client{Transport: tr}
	for range 2 {
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/counter", h.Port()))
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(body))
	}
	h.Stop() // closes the session: FreeCtx runs before Stop returns
	tr.CloseIdleConnections()
	// Output:
	// session 1, request 1
	// session 1, request 2
	// session closed after 2 requests
}

// Replace the default 404 response (httpd_register_err_handler). Returning
// nil keeps the session open; an error closes it.
func ExampleHandle_RegisterErrHandler() {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()

	notFound := func(r *httpd.Req, code httpd.ErrCode) error {
		// URI is valid for 404 and 405; read it before responding.
		return r.RespSendErr(code, "nothing at "+r.URI)
	}
	if err := h.RegisterErrHandler(httpd.Code404NotFound, notFound); err != nil {
		log.Fatal(err)
	}

	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/missing", h.Port()))
	if err != nil {
		log.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Println(string(body))
	// Output:
	// 404 Not Found
	// nothing at /missing
}

// QueryKeyValue is httpd_query_key_value: it finds a key in a query string
// (keys compare without regard to case) and returns the value undecoded.
func ExampleQueryKeyValue() {
	query := "name=esp%2032&mode=fast&debug&Mode=slow" // from Req.URLQueryStr

	mode, err := httpd.QueryKeyValue(query, "mode")
	fmt.Println(mode, err)

	raw, _ := httpd.QueryKeyValue(query, "NAME")
	name, _ := httpd.URLDecode(raw)
	fmt.Printf("%s -> %s\n", raw, name)

	// A pair without '=' has no value: it is skipped.
	_, err = httpd.QueryKeyValue(query, "debug")
	fmt.Println(errors.Is(err, httpd.ErrNotFound))
	// Output:
	// fast <nil>
	// esp%2032 -> esp 32
	// true
}
