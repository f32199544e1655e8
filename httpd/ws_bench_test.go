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
	var msg httpd.WSFrame // handlers run on the one worker: one buffer serves all
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
	for _, hc := range []struct {
		name string
		fn   httpd.HandlerFunc
	}{{"message", byMessage}, {"frame", byFrame}} {
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
