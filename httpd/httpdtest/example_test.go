package httpdtest_test

import (
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd/httpdtest"
)

// testHello is what a test function looks like; in a _test.go file its
// parameter is the test's *testing.T.
func testHello(t httpdtest.T) {
	srv := httpdtest.Start(t, httpdtest.Config(), &httpd.URI{
		URI: "/hello", Method: httpd.GET,
		Handler: func(r *httpd.Req) error { return r.RespSendStr("Hello World!") },
	})
	for _, c := range []*http.Client{srv.Client(), srv.H2Client()} {
		resp, err := c.Get(srv.URL + "/hello")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.Proto, string(body))
	}
}

func Example() {
	t := &exampleT{}
	testHello(t)
	t.finish() // what the testing package does when a test returns
	// Output:
	// HTTP/1.1 Hello World!
	// HTTP/2.0 Hello World!
}

// exampleT stands in for *testing.T so the example can run on its own.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Log(args ...any)                   { fmt.Fprintln(os.Stderr, args...) }
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (t *exampleT) finish() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
