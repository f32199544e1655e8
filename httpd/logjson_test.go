package httpd_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

// TestLogLinesAreValidJSON runs requests that make the server log at
// every level through slog's JSON handler and checks that each line is a
// JSON object with no key twice: an attribute named like one of slog's
// own ("msg", "time", "level") would make a second key.
func TestLogLinesAreValidJSON(t *testing.T) {
	var buf syncBuffer
	cfg := testConfig()
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello},
		&httpd.URI{URI: "/fail", Method: httpd.GET, Handler: func(r *httpd.Req) error {
			return fmt.Errorf("handler failed")
		}},
		&httpd.URI{URI: "/panic", Method: httpd.GET, Handler: func(r *httpd.Req) error { panic("boom") }})
	h.RegisterURIHandler(&httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello}) // exists: a warning
	closing := func(path string) string { return "GET " + path + " HTTP/1.1\r\nConnection: close\r\n\r\n" }
	for _, raw := range []string{closing("/hello"), closing("/nowhere"), closing("/fail"), closing("/panic"), "BAD REQUEST\r\n\r\n"} {
		c := newClient(t, h)
		c.send(raw)
		io.Copy(io.Discard, c.br) // until the server closes or the deadline
		c.nc.Close()
	}
	h.Stop()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 5 {
		t.Fatalf("only %d log lines:\n%s", len(lines), buf.String())
	}
	for _, line := range lines {
		if err := uniqueKeys([]byte(line)); err != nil {
			t.Errorf("%v in %s", err, line)
		}
	}
}

// uniqueKeys reports a JSON object key that appears twice at the top level.
func uniqueKeys(line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a JSON object (%v)", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		if seen[key] {
			return fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}
