package httpd_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/google/go-cmp/cmp"
)

// DefaultConfig departs from ESP-IDF's HTTPD_DEFAULT_CONFIG() only in the
// fields docs/porting.md lists under "Behaviour differences".
func TestDefaultConfigDiffersFromESPIDFOnlyWhereDocumented(t *testing.T) {
	want := httpd.ESPIDFDefaultConfig()
	want.LRUPurgeEnable = true
	want.MaxURILen = 8 << 10
	want.MaxReqHdrLen = 8 << 10
	if diff := cmp.Diff(want, httpd.DefaultConfig()); diff != "" {
		t.Fatalf("DefaultConfig (-want +got):\n%s", diff)
	}
}

// browserHead is a request head as Chromium sends it for a page of a site
// that has set cookies: about 4 KiB, most of it the Cookie field.
func browserHead(target string) string {
	var cookies []string
	for i := range 24 {
		cookies = append(cookies, fmt.Sprintf("pref_%02d=%s", i, strings.Repeat("v", 140)))
	}
	return "GET " + target + " HTTP/1.1\r\n" +
		"Host: 127.0.0.1:8080\r\n" +
		"Connection: keep-alive\r\n" +
		`sec-ch-ua: "Chromium";v="126", "Not.A/Brand";v="24"` + "\r\n" +
		"sec-ch-ua-mobile: ?0\r\n" +
		`sec-ch-ua-platform: "Linux"` + "\r\n" +
		"Upgrade-Insecure-Requests: 1\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n" +
		"Sec-Fetch-Site: none\r\n" +
		"Sec-Fetch-Mode: navigate\r\n" +
		"Sec-Fetch-User: ?1\r\n" +
		"Sec-Fetch-Dest: document\r\n" +
		"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
		"Accept-Language: en-GB,en-US;q=0.9,en;q=0.8\r\n" +
		"Cookie: " + strings.Join(cookies, "; ") + "\r\n" +
		"\r\n"
}

// A browser's request with real cookies, and a long query string as links
// from search engines and mail campaigns carry, are served under
// DefaultConfig; ESPIDFDefaultConfig keeps ESP-IDF's 512-byte limits.
func TestDefaultConfigServesBrowserHeads(t *testing.T) {
	longQuery := "/hello?utm_source=mail&ref=" + strings.Repeat("x", 2000)
	if n := len(browserHead("/hello")); n < 4000 || n > 4400 {
		t.Fatalf("the browser head is %d bytes, want about 4 KiB", n)
	}
	tests := []struct {
		name   string
		config func() httpd.Config
		target string
		status int
	}{
		{"DefaultConfig, cookies", httpd.DefaultConfig, "/hello", http.StatusOK},
		{"DefaultConfig, 2 KiB query", httpd.DefaultConfig, longQuery, http.StatusOK},
		{"ESPIDFDefaultConfig, cookies", httpd.ESPIDFDefaultConfig, "/hello", http.StatusRequestHeaderFieldsTooLarge},
		{"ESPIDFDefaultConfig, 2 KiB query", httpd.ESPIDFDefaultConfig, longQuery, http.StatusRequestURITooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.config()
			cfg.Host, cfg.ServerPort = "127.0.0.1", 0
			h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
			c := newClient(t, h)
			resp := c.do(browserHead(tc.target))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, resp.body, tc.status)
			}
		})
	}
}

// Under DefaultConfig, MaxOpenSockets idle connections, some that made a
// request and kept the connection alive as browsers do and some that never
// sent a byte, do not keep a new client waiting: it is answered within a
// second.
func TestDefaultConfigIdleClientsDoNotLockOutNewOne(t *testing.T) {
	cfg := testConfig()
	opened := make(chan int, cfg.MaxOpenSockets+1)
	cfg.OpenFn = func(h *httpd.Handle, fd int) error { opened <- fd; return nil }
	h := start(t, cfg, &httpd.URI{URI: "/hello", Method: httpd.GET, Handler: hello})
	for i := range cfg.MaxOpenSockets {
		c := newClient(t, h)
		if i%2 == 0 {
			c.do(get("/hello"))
		}
		<-opened // every idle connection holds a session before the new client comes
	}
	fresh := newClient(t, h)
	fresh.nc.SetDeadline(time.Now().Add(time.Second))
	if resp := fresh.do(get("/hello")); resp.body != "Hello World!" {
		t.Fatalf("new client got %d %q", resp.StatusCode, resp.body)
	}
}

func TestESPIDFDefaultConfigMirrorsESPIDF(t *testing.T) {
	cfg := httpd.ESPIDFDefaultConfig()
	got := []any{cfg.ServerPort, cfg.CtrlPort, cfg.MaxOpenSockets, cfg.MaxURIHandlers, cfg.MaxRespHeaders,
		cfg.BacklogConn, cfg.LRUPurgeEnable, cfg.RecvWaitTimeout, cfg.SendWaitTimeout, cfg.MaxURILen,
		cfg.MaxReqHdrLen, cfg.MaxBufferedBody, cfg.KeepAliveEnable, cfg.EnableSoLinger}
	want := []any{uint16(80), uint16(32768), 7, 8, 8, 5, false, 5 * time.Second, 5 * time.Second, 512,
		512, 16 << 10, false, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("DefaultConfig (-want +got):\n%s", diff)
	}
}
