// Command h2specserver serves the h2 engine's test server for h2spec:
//
//	go run ./httpd/internal/h2/internal/h2specserver -addr 127.0.0.1:8080 &
//	h2spec -p 8080 -h 127.0.0.1
//
// With -tls: h2spec -t -k -p 8080 -h 127.0.0.1.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/esphttpd/esphttpd/httpd/internal/h2/internal/testserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	useTLS := flag.Bool("tls", false, "serve TLS (ALPN h2, http/1.1) with a self-signed certificate")
	flag.Parse()
	start := testserver.Start
	if *useTLS {
		start = testserver.StartTLS
	}
	s, err := start(*addr, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("listening on", s.Addr())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	<-ch
	s.Close()
}
