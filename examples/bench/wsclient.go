package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WSLoad describes a WebSocket load: Conns connections, each repeating one
// operation, Batch messages of Size bytes sent and their echoes read back,
// until Duration has passed or each connection has done Ops operations.
// The client is gorilla/websocket for every server, with a write buffer
// large enough that each message leaves as one frame, as browsers send
// them.
type WSLoad struct {
	URL      string // ws:// or wss:// (the certificate is not verified: loopback only)
	Conns    int
	Size     int
	Text     bool // text messages (checked as UTF-8 by the server); binary otherwise
	Batch    int  // messages per operation; their echoes are read while they are sent
	Duration time.Duration
	Ops      int // per connection; 0 means until Duration
}

// WSResult is what RunWS measured: operations completed, the time from the
// first operation's start to the last one's end, and the latency of an
// operation at the 50th and 99th percentile. Errors counts connections
// that ended with an error.
type WSResult struct {
	Ops      int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Errors   int
}

// RunWS opens every connection first, then runs the load. It fails when a
// connection cannot be opened or when nothing at all was echoed; an echo
// that differs from what was sent ends its connection as an error.
func RunWS(ctx context.Context, l WSLoad) (WSResult, error) {
	if l.Conns < 1 || l.Size < 0 || l.Batch < 1 || (l.Duration <= 0 && l.Ops <= 0) {
		return WSResult{}, fmt.Errorf("bad load %+v: want Conns and Batch >= 1 and a Duration or Ops", l)
	}
	d := websocket.Dialer{
		TLSClientConfig:  &tls.Config{InsecureSkipVerify: true},
		ReadBufferSize:   64 << 10,
		WriteBufferSize:  l.Size + 64, // room for the frame header: one frame per message
		HandshakeTimeout: 10 * time.Second,
	}
	conns := make([]*websocket.Conn, 0, l.Conns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range l.Conns {
		c, resp, err := d.DialContext(ctx, l.URL, nil)
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
			}
			return WSResult{}, fmt.Errorf("dial %s: %w", l.URL, err)
		}
		conns = append(conns, c)
	}
	msg, typ := payload(l.Size, l.Text)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		lats    []time.Duration
		errs    int
		lastErr error
	)
	start := time.Now()
	deadline := start.Add(l.Duration)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine, err := echoLoop(c, msg, typ, l, deadline)
			mu.Lock()
			defer mu.Unlock()
			lats = append(lats, mine...)
			if err != nil {
				errs++
				lastErr = err
			}
		}()
	}
	wg.Wait()
	r := WSResult{Ops: len(lats), Elapsed: time.Since(start), Errors: errs}
	if r.Ops == 0 {
		return r, fmt.Errorf("no message was echoed: %w", lastErr)
	}
	slices.Sort(lats)
	r.P50, r.P99 = lats[len(lats)*50/100], lats[len(lats)*99/100]
	return r, nil
}

// payload is the message every operation sends: printable ASCII, so that
// it is valid as text too.
func payload(size int, text bool) ([]byte, int) {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	if text {
		return b, websocket.TextMessage
	}
	return b, websocket.BinaryMessage
}

// echoLoop runs operations on c and returns their latencies.
func echoLoop(c *websocket.Conn, msg []byte, typ int, l WSLoad, deadline time.Time) ([]time.Duration, error) {
	var lats []time.Duration
	var got bytes.Buffer
	for n := 0; l.Ops == 0 || n < l.Ops; n++ {
		t0 := time.Now()
		if l.Ops == 0 && !t0.Before(deadline) {
			break
		}
		sent := make(chan error, 1)
		if l.Batch == 1 {
			sent <- c.WriteMessage(typ, msg)
		} else {
			// Write while reading: the echoes of a large batch do not fit
			// in the socket buffers, and the server stops reading while it
			// cannot write.
			go func() {
				for range l.Batch {
					if err := c.WriteMessage(typ, msg); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
		}
		for range l.Batch {
			if err := readEcho(c, &got, msg, typ); err != nil {
				c.Close() // unblocks the writer
				<-sent
				return lats, err
			}
		}
		if err := <-sent; err != nil {
			return lats, err
		}
		lats = append(lats, time.Since(t0))
	}
	return lats, nil
}

// readEcho reads one message and checks it is msg, with its type.
func readEcho(c *websocket.Conn, got *bytes.Buffer, msg []byte, typ int) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	gotTyp, rd, err := c.NextReader()
	if err != nil {
		return err
	}
	got.Reset()
	if _, err := got.ReadFrom(rd); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if gotTyp != typ || !bytes.Equal(got.Bytes(), msg) {
		return fmt.Errorf("echo: type %d, %d bytes; sent type %d, %d bytes", gotTyp, got.Len(), typ, len(msg))
	}
	return nil
}
