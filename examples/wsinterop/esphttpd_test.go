package wsinterop

import (
	"bytes"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	"github.com/gorilla/websocket"
)

// TestGorillaClientFragmentedMessages: gorilla's client writes large
// messages through NextWriter, which cuts them into frames of its write
// buffer's size; esphttpd's WSRecvMessage must hand back each one whole.
func TestGorillaClientFragmentedMessages(t *testing.T) {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	var m httpd.WSFrame
	h.RegisterURIHandler(&httpd.URI{URI: "/ws", Method: httpd.GET, IsWebsocket: true, Handler: func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		if err := r.WSRecvMessage(&m, 0); err != nil {
			return err
		}
		return r.WSSendFrame(&m)
	}})
	d := websocket.Dialer{WriteBufferSize: 1000}
	conn, _, err := d.Dial("ws://"+h.Addr().String()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, n := range []int{0, 999, 1000, 1001, 64 << 10, 1 << 20} {
		for _, op := range []int{websocket.TextMessage, websocket.BinaryMessage} {
			msg := bytes.Repeat([]byte("ü-"), n/3+1)[:n/3*3] // whole code points
			w, err := conn.NextWriter(op)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(msg)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := conn.ReadMessage()
			if err != nil || gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes, type %d: got type %d, %d bytes, %v", len(msg), op, gotOp, len(got), err)
			}
		}
	}
}
