// Command idle opens many keep-alive connections to a server, sends one
// GET /hello on each and reads the answer, prints "READY n" and then holds
// every connection open and idle until its standard input closes or -hold
// passes. run.sh reads the server's RSS while the connections idle.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server host:port")
	n := flag.Int("n", 5000, "connections to open")
	par := flag.Int("par", 64, "connections opened at once")
	hold := flag.Duration("hold", 60*time.Second, "longest time to hold the connections")
	flag.Parse()

	conns := make([]net.Conn, *n)
	errs := make(chan error, *n)
	sem := make(chan struct{}, *par)
	var wg sync.WaitGroup
	req := []byte("GET /hello HTTP/1.1\r\nHost: " + *addr + "\r\n\r\n")
	for i := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := net.DialTimeout("tcp", *addr, 10*time.Second)
			if err != nil {
				errs <- err
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(req); err != nil {
				errs <- err
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			c.SetDeadline(time.Time{})
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err, ok := <-errs; ok {
		log.Fatalf("%d of %d connections failed, first: %v", len(errs)+1, *n, err)
	}
	fmt.Printf("READY %d\n", *n)

	stdinClosed := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	select {
	case <-stdinClosed:
	case <-time.After(*hold):
	}
	for _, c := range conns {
		c.Close()
	}
}
