package extest

import (
	"fmt"
	"net"
	"testing"
)

func TestLogExpectInOrder(t *testing.T) {
	var l Log
	fmt.Fprintln(&l, "I (1) example: one")
	fmt.Fprintln(&l, "I (2) example: two 42")
	fmt.Fprintln(&l, "I (3) example: one")
	l.Expect(t, "one")
	if m := l.ExpectRegexp(t, `two (\d+)`); m[1] != "42" {
		t.Errorf("submatch %q, want 42", m[1])
	}
	mark := l.Mark()
	l.Expect(t, "one") // the second "one": matching moves forward
	l.NotSince(t, l.Mark(), "one")
	if got := l.Since(mark); got != "\nI (3) example: one\n" {
		t.Errorf("Since(mark) = %q", got)
	}
	go fmt.Fprintln(&l, "late line") // Expect waits for lines still to come
	l.Expect(t, "late line")
}

func TestConnKeepAliveAndClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, 4096)
		for range 2 {
			if _, err := nc.Read(buf); err != nil {
				return
			}
			nc.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		}
	}()
	c := Dial(t, ln.Addr().String())
	for range 2 {
		if r := c.Do("GET", "/", ""); r.Status != 200 || r.Body != "ok" {
			t.Fatalf("got %d %q", r.Status, r.Body)
		}
	}
	<-done
	c.ExpectClosed()
}

// TestLogLogger: the logger prints ESP-IDF console lines under its tag,
// debug lines included, where Expect finds them.
func TestLogLogger(t *testing.T) {
	var l Log
	log := l.Logger("example")
	log.Debug("a debug line")
	log.Info("an info line")
	l.ExpectRegexp(t, `D \(\d+\) example: a debug line`)
	l.ExpectRegexp(t, `I \(\d+\) example: an info line`)
}
