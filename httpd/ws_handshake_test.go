package httpd_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/esphttpd/esphttpd/httpd"
)

func TestWSHandshakeCallbacks(t *testing.T) {
	errRefused := errors.New("refused")
	var calls []string
	record := func(name string, err error) httpd.HandlerFunc {
		return func(r *httpd.Req) error {
			calls = append(calls, name)
			return err
		}
	}
	handler := func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			calls = append(calls, "handler GET")
			return nil
		}
		var m httpd.WSFrame
		if err := r.WSRecvMessage(&m, 0); err != nil {
			return err
		}
		calls = append(calls, "handler "+string(m.Payload))
		return nil
	}
	// requireToken is a pre callback that wants a bearer token.
	requireToken := func(r *httpd.Req) error {
		calls = append(calls, "pre")
		if v, _ := r.HdrValueStr("Authorization"); v == "Bearer good" {
			return nil
		}
		r.RespSetStatus("401 Unauthorized")
		r.RespSetHdr("WWW-Authenticate", `Bearer realm="ws"`)
		r.RespSendStr("token required")
		return errRefused
	}
	// welcome is a post callback: the session is a WebSocket by now.
	welcome := func(r *httpd.Req) error {
		calls = append(calls, "post")
		return r.WSSendFrame(&httpd.WSFrame{Type: httpd.WSTypeText, Payload: []byte("welcome")})
	}
	cases := []struct {
		name    string
		uri     httpd.URI
		extra   string
		status  int
		header  [2]string // a response header to check, if any
		welcome bool      // the post callback's frame follows the 101
		calls   []string  // after one frame "hi" when accepted
	}{
		{"no token: 401 from the callback", httpd.URI{WSPreHandshake: requireToken}, "",
			401, [2]string{"WWW-Authenticate", `Bearer realm="ws"`}, false, []string{"pre"}},
		{"token: accepted, then post, then the handler", httpd.URI{WSPreHandshake: requireToken, WSPostHandshake: welcome},
			"Authorization: Bearer good\r\n", 101, [2]string{}, true, []string{"pre", "post", "handler GET", "handler hi"}},
		{"refused without a response: 403", httpd.URI{WSPreHandshake: record("pre", errRefused)}, "",
			403, [2]string{}, false, []string{"pre"}},
		{"responded but returned nil: still refused", httpd.URI{WSPreHandshake: func(r *httpd.Req) error {
			calls = append(calls, "pre")
			return r.RespSendStr("not a websocket after all")
		}}, "", 200, [2]string{}, false, []string{"pre"}},
		{"panicking callback: 500", httpd.URI{WSPreHandshake: func(r *httpd.Req) error { panic("boom") }}, "",
			500, [2]string{}, false, nil},
		{"subprotocol seen by the callback and chosen", httpd.URI{SupportedSubprotocol: "chat", WSPreHandshake: func(r *httpd.Req) error {
			v, _ := r.HdrValueStr("Sec-WebSocket-Protocol")
			calls = append(calls, "pre "+v)
			return nil
		}}, "Sec-WebSocket-Protocol: other, chat\r\n", 101, [2]string{"Sec-WebSocket-Protocol", "chat"}, false,
			[]string{"pre other, chat", "handler GET", "handler hi"}},
		{"ESP-IDF 6.x: no handler call for the handshake", httpd.URI{WSPreHandshake: record("pre", nil),
			WSPostHandshake: record("post", nil), WSHandshakeWithoutHandler: true}, "", 101, [2]string{}, false,
			[]string{"pre", "post", "handler hi"}},
		{"post callback fails: session closes", httpd.URI{WSPostHandshake: record("post", errRefused)}, "",
			101, [2]string{}, false, []string{"post"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls = nil
			u := tc.uri
			u.URI, u.Method, u.Handler, u.IsWebsocket = "/ws", httpd.GET, handler, true
			h := start(t, testConfig(), &u)
			c, resp := wsDial(t, h, "/ws", tc.extra)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if k := tc.header[0]; k != "" && resp.Header.Get(k) != tc.header[1] {
				t.Fatalf("%s: %q, want %q", k, resp.Header.Get(k), tc.header[1])
			}
			if tc.status != 101 {
				if !resp.Close {
					t.Errorf("refusal without Connection: close: %v", resp.Header)
				}
				expectEOFAfterBody(t, c, resp)
			} else {
				if tc.welcome {
					if _, op, p := c.read(); op != 0x1 || string(p) != "welcome" {
						t.Fatalf("after the 101: %d %q, want the post callback's frame", op, p)
					}
				}
				c.send(true, 0x1, []byte("hi"))
				c.send(true, 0x8, nil)
				if u.WSPostHandshake != nil && tc.calls[len(tc.calls)-1] == "post" {
					expectEOFAfterBody(t, c, nil) // the failed post callback closed it
				} else {
					c.expectClose(0)
				}
			}
			c.nc.Close()
			h.Stop() // runs the handlers' last calls before calls is read
			if strings.Join(calls, "|") != strings.Join(tc.calls, "|") {
				t.Fatalf("calls %q, want %q", calls, tc.calls)
			}
		})
	}
}

// expectEOFAfterBody reads what is left of resp's body, then expects the
// server to have closed the connection.
func expectEOFAfterBody(t *testing.T, c *wsClient, resp *http.Response) {
	t.Helper()
	if resp != nil {
		resp.Body.Close()
	}
	for {
		if _, err := c.br.ReadByte(); err != nil {
			return
		}
	}
}
