package httpd_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/esphttpd/esphttpd/httpd"
)

// A WebSocket echo of whole messages: WSRecvMessage puts the fragments of
// a message together (answering pings sent between them), and WSSendFrame
// sends it back as one frame.
func ExampleReq_WSRecvMessage() {
	cfg := httpd.DefaultConfig()
	cfg.Host, cfg.ServerPort = "127.0.0.1", 0
	h, err := httpd.Start(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer h.Stop()
	var msg httpd.WSFrame // handlers all run on the worker: one buffer is enough
	h.RegisterURIHandler(&httpd.URI{
		URI: "/ws", Method: httpd.GET, IsWebsocket: true,
		WSHandshakeWithoutHandler: true, // frames only, as on ESP-IDF 6.x
		Handler: func(r *httpd.Req) error {
			if err := r.WSRecvMessage(&msg, 0); err != nil {
				return err // the server fails or closes the connection as needed
			}
			return r.WSSendFrame(&msg)
		},
	})

	nc, err := net.Dial("tcp", h.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprint(nc, "GET /ws HTTP/1.1\r\nHost: example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	// Client frames are masked; a zero key leaves the payload as it is.
	masked := func(b0 byte, payload string) []byte {
		return append([]byte{b0, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
	}
	nc.Write(masked(0x01, "Hello, "))   // text, first fragment
	nc.Write(masked(0x89, "are you?"))  // ping between fragments
	nc.Write(masked(0x80, "fragments")) // continuation, final
	for range 2 {
		var hdr [2]byte
		io.ReadFull(br, hdr[:])
		payload := make([]byte, hdr[1])
		io.ReadFull(br, payload)
		fmt.Printf("opcode %d, FIN %v: %q\n", hdr[0]&0xF, hdr[0]&0x80 != 0, payload)
	}
	// Output:
	// 101 Switching Protocols
	// opcode 10, FIN true: "are you?"
	// opcode 1, FIN true: "Hello, fragments"
}
