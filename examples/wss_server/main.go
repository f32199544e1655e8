// Command wss_server is a port of ESP-IDF's
// examples/protocols/https_server/wss_server: a WebSocket echo server on
// /ws over TLS (httpd_ssl) that
//
//   - echoes text frames ("Received packet with message: ..."), answers
//     pings with pongs ("Got a WS PING frame, Replying PONG") and close
//     frames with a close frame; binary frames are not echoed, as in the C
//     source;
//   - watches every client with a keep-alive engine: a client silent for
//     -keep-alive-period is pinged, one silent for -not-alive-after is
//     closed ("Client not alive, closing fd N", then "Client disconnected N");
//   - sends "Hello client" to every WebSocket client every -hello-interval.
//
// It makes a self-signed certificate for localhost at start-up and prints
// its SHA-256 fingerprint:
//
//	go run ./examples/wss_server [-host 127.0.0.1] [-port 8080] [-v]
//	    [-keep-alive-period 5s] [-not-alive-after 10s] [-hello-interval 10s]
//
// Log lines print as on the ESP-IDF console under the C example's tags
// (wss_echo_server, wss_keep_alive, esp_https_server); -v adds the debug
// lines (pings sent, pongs received). SIGINT or SIGTERM stops the server.
package main

import (
	"flag"
	"fmt"

	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// tag is the C example's log tag.
const tag = "wss_echo_server"

func main() {
	p := exmain.New("wss_server", tag)
	t := defaultTiming
	flag.DurationVar(&t.keepAlivePeriod, "keep-alive-period", t.keepAlivePeriod, "ping a client silent for this long")
	flag.DurationVar(&t.notAliveAfter, "not-alive-after", t.notAliveAfter, "close a client silent for this long")
	flag.DurationVar(&t.helloInterval, "hello-interval", t.helloInterval, "send \"Hello client\" to every WebSocket client this often")
	p.Parse()
	p.RefuseFlags(checkTiming(t))

	p.Exit(p.Serve("", func() (exmain.Server, error) {
		cert, key := httpd_ssl.SelfSigned("localhost", "127.0.0.1", "::1")
		p.Log.Info("Generated a self-signed certificate for localhost, SHA-256 fingerprint " + httpd_ssl.Fingerprint(cert))
		return startWssEchoServer(options{host: p.Host, port: p.Port, cert: cert, key: key, timing: t}, p.Log)
	}))
}

// checkTiming rejects delays that are not positive.
func checkTiming(t timing) error {
	for _, d := range []struct {
		name string
		v    any
		ok   bool
	}{
		{"-keep-alive-period", t.keepAlivePeriod, t.keepAlivePeriod > 0},
		{"-not-alive-after", t.notAliveAfter, t.notAliveAfter > 0},
		{"-hello-interval", t.helloInterval, t.helloInterval > 0},
	} {
		if !d.ok {
			return fmt.Errorf("invalid %s %v: must be positive", d.name, d.v)
		}
	}
	return nil
}
