// Command server serves the benchmark endpoints with one implementation
// until it is killed:
//
//	server -impl esphttpd|nethttp|fasthttp -addr 127.0.0.1:8080 [-tls] [-tickets default|on|off]
//	       [-h2c] [-handles N] [-cpuprofile FILE] [-maxreqhdrlen N]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/esphttpd/esphttpd/examples/bench"
)

func main() {
	impl := flag.String("impl", "esphttpd", "esphttpd, nethttp or fasthttp")
	addr := flag.String("addr", "127.0.0.1:8080", "host:port to listen on")
	flag.IntVar(&bench.ESPMaxReqHdrLen, "maxreqhdrlen", bench.ESPMaxReqHdrLen, "esphttpd's Config.MaxReqHdrLen")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	var o bench.Options
	flag.BoolVar(&o.TLS, "tls", false, "serve HTTPS (and h2 by ALPN for esphttpd and nethttp) with a fresh self-signed certificate")
	tickets := flag.String("tickets", string(bench.TicketsDefault), "TLS session tickets: default (each implementation's), on or off")
	flag.BoolVar(&o.H2C, "h2c", false, "nethttp: serve prior-knowledge h2c (http.Server.Protocols; esphttpd always does)")
	flag.IntVar(&o.Handles, "handles", 1, "esphttpd: handles sharing the port (Config.ReusePort)")
	flag.Parse()
	o.Tickets = bench.Tickets(*tickets)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	srv, err := bench.Start(*impl, *addr, o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s listening on %s (tls %v, tickets %s, h2c %v, handles %d)\n", *impl, srv.Addr(), o.TLS, o.Tickets, o.H2C, o.Handles)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	srv.Close()
}
