package wsinterop

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/esphttpd/esphttpd/examples/internal/wsconform"
	"github.com/gorilla/websocket"
)

// gorillaEcho is an echo server on gorilla/websocket, written the way its
// own Autobahn server is: whole messages back, the read limit at the
// cases' limit, and text checked as it arrives with the standard library's
// decoder, so invalid UTF-8 fails the connection (1007) at the first bad
// byte.
func gorillaEcho(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(wsconform.MaxMessage)
	buf := make([]byte, 4096)
	for {
		op, rd, err := conn.NextReader()
		if err != nil {
			return
		}
		var msg, pending []byte
		for {
			n, err := rd.Read(buf)
			chunk := buf[:n]
			if op == websocket.TextMessage {
				pending = append(pending, chunk...)
				var ok bool
				if pending, ok = checkUTF8(pending); !ok {
					conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), noDeadline)
					return
				}
			}
			msg = append(msg, chunk...)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
		}
		if len(pending) > 0 { // the message ended inside a code point
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), noDeadline)
			return
		}
		if err := conn.WriteMessage(op, msg); err != nil {
			return
		}
	}
}

// checkUTF8 checks p and returns the incomplete code point at its end, if
// any, to be checked with the bytes that follow.
func checkUTF8(p []byte) (rest []byte, ok bool) {
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRune(p) {
				return p, true
			}
			return nil, false
		}
		p = p[size:]
	}
	return nil, true
}

// gorillaDeviations are the cases gorilla/websocket fails, each with the
// rule it breaks. They must keep failing: a case that passes against both
// servers while one of them breaks its rule would be a case that checks
// nothing.
var gorillaDeviations = map[string]string{
	"7.3.2": "a 1-byte close payload is taken as no status code and echoed empty, not failed with 1002 (RFC 6455 5.5.1)",
}

// TestCasesAgainstGorilla runs every conformance case against gorilla's
// echo server: a case that expects something RFC 6455 does not ask for
// fails here even when esphttpd happens to do it.
func TestCasesAgainstGorilla(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(gorillaEcho)}
	go srv.Serve(ln)
	defer srv.Close()
	for _, tc := range wsconform.Cases() {
		t.Run(tc.ID, func(t *testing.T) {
			c, err := wsconform.Dial(ln.Addr().String(), "/")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = tc.Run(c)
			if why, ok := gorillaDeviations[tc.ID]; ok {
				if err == nil {
					t.Fatalf("%s: passes, but gorilla is known to break it: %s", tc.Desc, why)
				}
				t.Logf("known gorilla deviation (%s): %v", why, err)
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.Desc, err)
			}
		})
	}
}

var noDeadline = time.Time{}
