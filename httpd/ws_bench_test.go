package httpd_test

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// BenchmarkWSEcho measures one message round trip on a WebSocket session
// echoing through WSRecvMessage, or through WSRecvFrame as ESP-IDF's
// example does. The client's frames are encoded once, so allocations
// counted are the server's (and the client loop's, which allocates
// nothing).
func BenchmarkWSEcho(b *testing.B) {
	for _, hc := range wsEchoHandlers() {
		for _, n := range []int{64, 4096, 64 << 10, 1 << 20} {
			b.Run(hc.name+"/"+strconv.Itoa(n), func(b *testing.B) {
				h := wsServer(b, testConfig(), hc.fn, false)
				c := wsConnect(b, h, "/ws")
				c.nc.SetDeadline(time.Time{}) // a long -benchtime outlasts the test client's 10 s
				req := frame(true, 0x2, make([]byte, n), false)
				hdr := 2
				switch {
				case n > 65535:
					hdr = 10
				case n > 125:
					hdr = 4
				}
				resp := make([]byte, hdr+n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := c.nc.Write(req); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(c.br, resp); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestWSEchoAllocatesNothing keeps issue 13's target: once a WebSocket
// session has echoed a message, the server allocates nothing for another
// small one, through WSRecvFrame (as ESP-IDF's example) or WSRecvMessage.
// The count is the whole process's (the client loop allocates nothing),
// averaged over many messages to absorb the odd background allocation.
func TestWSEchoAllocatesNothing(t *testing.T) {
	for _, hc := range wsEchoHandlers() {
		t.Run(hc.name, func(t *testing.T) {
			h := wsServer(t, testConfig(), hc.fn, false)
			c := wsConnect(t, h, "/ws")
			req := frame(true, 0x2, make([]byte, 64), false)
			resp := make([]byte, 2+64)
			echo := func() {
				if _, err := c.nc.Write(req); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(c.br, resp); err != nil {
					t.Fatal(err)
				}
			}
			for range 10 { // buffers reach their size
				echo()
			}
			if allocs := testing.AllocsPerRun(500, echo); allocs >= 0.5 {
				t.Errorf("%.2f allocations per echoed 64-byte message, want 0", allocs)
			}
		})
	}
}

// wsEchoHandlers returns two echo handlers sharing one message buffer
// (handlers run on the one worker): "message" echoes each message
// received whole through WSRecvMessage, "frame" each frame through two
// WSRecvFrame calls, as ESP-IDF's example does.
func wsEchoHandlers() []wsEchoHandler {
	var msg httpd.WSFrame
	byMessage := func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		if err := r.WSRecvMessage(&msg, 0); err != nil {
			return err
		}
		return r.WSSendFrame(&msg)
	}
	byFrame := func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		if err := r.WSRecvFrame(&msg, 0); err != nil {
			return err
		}
		if err := r.WSRecvFrame(&msg, msg.Len); err != nil {
			return err
		}
		return r.WSSendFrame(&msg)
	}
	return []wsEchoHandler{{"message", byMessage}, {"frame", byFrame}}
}

type wsEchoHandler struct {
	name string
	fn   httpd.HandlerFunc
}
