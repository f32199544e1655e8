package bench

import (
	"bytes"
	"net/http"

	coder "github.com/coder/websocket"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/gorilla/websocket"
)

// espWSEcho is esphttpd's /ws: ESP-IDF's ws_echo_server handler, which
// sends every frame back as it came (a fragment as a fragment), reading
// each payload into a buffer that the handle's worker reuses.
func espWSEcho() *httpd.URI {
	var buf []byte
	return &httpd.URI{URI: "/ws", Method: httpd.GET, IsWebsocket: true, Handler: func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil // the handshake
		}
		var f httpd.WSFrame
		if err := r.WSRecvFrame(&f, 0); err != nil {
			return err
		}
		if cap(buf) < f.Len {
			buf = make([]byte, f.Len)
		}
		f.Payload = buf
		if err := r.WSRecvFrame(&f, f.Len); err != nil {
			return err
		}
		buf = f.Payload[:0]
		f.Fragmented = !f.Final || f.Type == httpd.WSTypeContinue
		return r.WSSendFrame(&f)
	}}
}

// upgrader is gorilla's: compression off (its default), any origin (the
// load client sends none).
var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
}

// gorillaEcho is net/http's /ws with gorilla/websocket: each message is
// read whole into a buffer the connection reuses, then sent back as one
// frame.
func gorillaEcho(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	defer c.Close()
	c.SetReadLimit(MaxEcho)
	var buf bytes.Buffer
	for {
		typ, rd, err := c.NextReader()
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rd); err != nil {
			return
		}
		if err := c.WriteMessage(typ, buf.Bytes()); err != nil {
			return
		}
	}
}

// coderEcho is net/http's /ws-coder with coder/websocket, the same way.
func coderEcho(w http.ResponseWriter, r *http.Request) {
	c, err := coder.Accept(w, r, &coder.AcceptOptions{
		InsecureSkipVerify: true, // any origin
		CompressionMode:    coder.CompressionDisabled,
	})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(MaxEcho)
	ctx := r.Context()
	var buf bytes.Buffer
	for {
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rd); err != nil {
			return
		}
		if err := c.Write(ctx, typ, buf.Bytes()); err != nil {
			return
		}
	}
}
