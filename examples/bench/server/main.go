// Command server serves the benchmark endpoints with one implementation
// until it is killed:
//
//	server -impl esphttpd|nethttp|fasthttp -addr 127.0.0.1:8080 [-cpuprofile FILE]
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
	flag.Parse()
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
	srv, err := bench.Start(*impl, *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s listening on %s\n", *impl, srv.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	srv.Close()
}
