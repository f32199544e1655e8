package browser

import (
	"net/http"
	"testing"
)

// TestWebSocketEcho loads ws_echo_server's page, whose script opens /ws and
// sends "Hello from the browser": the echo must appear on the page, and the
// server's console must show the frame, as the C example logs it.
func TestWebSocketEcho(t *testing.T) {
	browser := newBrowser(t)
	run := exampleRun{dir: "ws_echo_server", servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/", status: http.StatusOK, text: "Echo: Hello from the browser"},
	}}}}
	bases, out := startExample(t, run)
	expectPage(t, browser, bases[0]+"/", run.servers[0].pages[0], httpOnly)
	out.Expect(t, "Handshake done, the new connection was opened")
	out.Expect(t, "Got packet with message: Hello from the browser")
}
