// Command wsload is run.sh's WebSocket load client (bench.RunWS): it prints
// the line run.sh reads,
//
//	BENCH <operations> <duration us> <p50 us> <p99 us> <errors> 0
//
// for example 32 connections each echoing 64-byte binary messages for 3 s:
//
//	wsload -url ws://127.0.0.1:8080/ws -conns 32 -size 64 -dur 3s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/esphttpd/esphttpd/examples/bench"
)

func main() {
	var l bench.WSLoad
	flag.StringVar(&l.URL, "url", "ws://127.0.0.1:8080/ws", "ws:// or wss:// URL (the certificate is not verified)")
	flag.IntVar(&l.Conns, "conns", 1, "connections")
	flag.IntVar(&l.Size, "size", 64, "message size in bytes")
	flag.BoolVar(&l.Text, "text", false, "text messages instead of binary")
	flag.IntVar(&l.Batch, "batch", 1, "messages sent per operation before its echoes are all read")
	flag.DurationVar(&l.Duration, "dur", 3*time.Second, "how long to run")
	flag.Parse()
	r, err := bench.RunWS(context.Background(), l)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsload:", err)
		os.Exit(1)
	}
	fmt.Printf("BENCH %d %d %d %d %d 0\n", r.Ops, r.Elapsed.Microseconds(), r.P50.Microseconds(), r.P99.Microseconds(), r.Errors)
}
