package browser

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestZephyrSamplePage uses http2_server's page (Zephyr's
// samples/net/sockets/http_server) as a person would, once over HTTP/1.1
// and once over h2 with TLS: its script must fill in the uptime and keep
// it going up, echo over the WebSocket at /ws_echo (on load and on Send),
// show the statistics the WebSocket at / pushes, and switch an LED through
// the JSON POST to /led, which the server logs as Zephyr's sample does.
// The page, its script and the script's fetches must all have come over
// the protocol expected: Chromium negotiates h2 through ALPN and never
// speaks h2c.
func TestZephyrSamplePage(t *testing.T) {
	browser := newBrowser(t)
	for _, tc := range []struct {
		name     string
		args     []string
		scheme   string
		protocol string
	}{
		{name: "HTTP/1.1", scheme: "http", protocol: httpOnly},
		{name: "h2 over TLS", args: []string{"-tls"}, scheme: "https", protocol: overTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := exampleRun{dir: "http2_server", args: tc.args, servers: []server{{portFlag: "-port", scheme: tc.scheme, pages: []page{
				{path: "/", status: http.StatusOK, text: "Zephyr HTTP server sample"},
			}}}}
			bases, out := startExample(t, run)
			base := bases[0]

			tab, closeTab := chromedp.NewContext(browser)
			defer closeTab()
			// Open the tab on its own context, so that it outlives the
			// deadline below and a failure can still read the page.
			if err := chromedp.Do(tab); err != nil {
				t.Fatalf("opening a tab: %v", err)
			}
			ctx, cancel := context.WithTimeout(tab, 2*pageTimeout)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
				t.Fatalf("GET %s/: %v", base, err)
			}
			text := func(id string) string { return `document.getElementById("` + id + `").textContent` }

			// The script replaces "?" with the server's milliseconds, then
			// polls every second: a later reading must be larger.
			uptime := `Number(` + text("uptime") + `)`
			waitJS(t, ctx, `/^\d+$/.test(`+text("uptime")+`)`, "the page shows the server's uptime")
			first, err := chromedp.Run(ctx, chromedp.Evaluate[int64](uptime))
			if err != nil {
				t.Fatalf("reading the uptime: %v", err)
			}
			waitJS(t, ctx, uptime+` > `+strconv.FormatInt(first, 10), "the uptime goes up as the script polls /uptime")

			// The echo WebSocket sends the input's value as soon as it opens;
			// a closed socket would append " (closed)".
			waitJS(t, ctx, text("echo-output")+` == "Hello, Server"`, "the page shows the echo of its first message")

			// The WebSocket at / pushes statistics every second. Both
			// sockets must outlive the server's 5 s receive and send
			// timeouts, which bound one request, not the WebSocket it
			// became: wait for the update sent after them.
			waitJS(t, ctx, `(() => { try { const s = JSON.parse(`+text("stats")+`);
				return s.updates_sent >= `+strconv.Itoa(statsPastTimeouts)+` && s.uptime_ms > 0 && s.clients >= 1; } catch (e) { return false; } })()`,
				"the page shows the statistics the WebSocket at / keeps pushing")
			if err := chromedp.Do(ctx,
				chromedp.SetValue(chromedp.ID("echo-input"), "Round trip from "+tc.name),
				chromedp.Click(chromedp.ID("echo-send")),
			); err != nil {
				t.Fatalf("sending an echo: %v", err)
			}
			waitJS(t, ctx, text("echo-output")+` == "Round trip from `+tc.name+`"`, "the page shows the echo of what Send sent")

			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("led1"))); err != nil {
				t.Fatalf("switching LED 1: %v", err)
			}
			waitJS(t, ctx, text("led-status")+` == "LED 1 on: 200"`, "the page shows the server's answer to the LED switch")
			out.Expect(t, "net_http_server_sample: POST request setting LED 1 to state true")

			checkProtocols(t, ctx, base, tc.protocol)
		})
	}
}

// statsPastTimeouts is the first statistics update the WebSocket at /
// sends (one a second, the first at once) after the server's default
// RecvWaitTimeout and SendWaitTimeout (5 s) have run out since the
// handshake.
const statsPastTimeouts = 7

// protocolsJS returns the protocol each of the page's requests went over,
// by URL, from the Navigation and Resource Timing entries.
const protocolsJS = `(() => {
	const by = {};
	for (const e of performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))) {
		by[e.name] = e.nextHopProtocol;
	}
	return by;
})()`

// checkProtocols fails t unless the page, its script and the script's
// fetches of /uptime and /led went over protocol.
func checkProtocols(t *testing.T, ctx context.Context, base, protocol string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](protocolsJS))
	if err != nil {
		t.Fatalf("reading the timing entries: %v", err)
	}
	for _, path := range []string{"/", "/main.js", "/uptime", "/led"} {
		if p, ok := got[base+path]; !ok || p != protocol {
			t.Errorf("%s: over %q (timed: %v), want %q; every entry: %v", path, p, ok, protocol, got)
		}
	}
}
