package httpd_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
)

// wsEchoFrameAsIs is ESP-IDF's ws_echo_server handler: each frame goes back
// as WSRecvFrame filled it in.
func wsEchoFrameAsIs(r *httpd.Req) error {
	if r.Method == httpd.GET {
		return nil
	}
	var f httpd.WSFrame
	if err := r.WSRecvFrame(&f, 0); err != nil {
		return err
	}
	if err := r.WSRecvFrame(&f, f.Len); err != nil {
		return err
	}
	return r.WSSendFrame(&f)
}

// wsEchoMessage echoes whole messages.
func wsEchoMessage(r *httpd.Req) error {
	if r.Method == httpd.GET {
		return nil
	}
	var m httpd.WSFrame
	if err := r.WSRecvMessage(&m, 0); err != nil {
		return err
	}
	return r.WSSendFrame(&m)
}

type wsFrameSpec struct {
	fin     bool
	op      byte
	payload string
}

func TestWSRecvFrameReproducesFragmentation(t *testing.T) {
	h := wsServer(t, testConfig(), wsEchoFrameAsIs, false)
	c := wsConnect(t, h, "/ws")
	msgs := [][]wsFrameSpec{
		{{false, 0x1, "fragment1"}, {true, 0x0, "fragment2"}},
		{{false, 0x2, "a"}, {false, 0x0, "b"}, {false, 0x0, ""}, {true, 0x0, "c"}},
		{{true, 0x1, "whole"}},
		// The first fragment ends inside "✓": still a valid prefix.
		{{false, 0x1, "\xe2\x9c"}, {true, 0x0, "\x93"}},
	}
	for _, msg := range msgs {
		for _, f := range msg {
			c.send(f.fin, f.op, []byte(f.payload))
		}
		for _, want := range msg {
			fin, op, p := c.read()
			if fin != want.fin || op != want.op || string(p) != want.payload {
				t.Fatalf("frame back: fin %v op %d %q, want %+v", fin, op, p, want)
			}
		}
	}
}

func TestWSRecvMessage(t *testing.T) {
	cases := []struct {
		name string
		send []wsFrameSpec
		// Frames expected back, in order; a close frame ends the case.
		want      []wsFrameSpec
		closeCode uint16 // the close code expected after want, 0 for none
	}{
		{"whole text", []wsFrameSpec{{true, 0x1, "hello"}}, []wsFrameSpec{{true, 0x1, "hello"}}, 0},
		{"empty binary", []wsFrameSpec{{true, 0x2, ""}}, []wsFrameSpec{{true, 0x2, ""}}, 0},
		{"three fragments", []wsFrameSpec{{false, 0x1, "frag"}, {false, 0x0, "ment"}, {true, 0x0, "ed"}},
			[]wsFrameSpec{{true, 0x1, "fragmented"}}, 0},
		{"ping between fragments", []wsFrameSpec{{false, 0x2, "ab"}, {true, 0x9, "p"}, {true, 0x0, "cd"}},
			[]wsFrameSpec{{true, 0xA, "p"}, {true, 0x2, "abcd"}}, 0},
		{"pong between fragments", []wsFrameSpec{{false, 0x2, "ab"}, {true, 0xA, "p"}, {true, 0x0, "cd"}},
			[]wsFrameSpec{{true, 0x2, "abcd"}}, 0},
		{"code point split", []wsFrameSpec{{false, 0x1, "\xe2"}, {false, 0x0, "\x9c"}, {true, 0x0, "\x93"}},
			[]wsFrameSpec{{true, 0x1, "✓"}}, 0},
		{"close between fragments", []wsFrameSpec{{false, 0x1, "ab"}, {true, 0x8, "\x03\xe8bye"}}, nil, 1000},
		{"bad close between fragments", []wsFrameSpec{{false, 0x1, "ab"}, {true, 0x8, "\x03"}}, nil, 1002},
		{"new message inside a message", []wsFrameSpec{{false, 0x1, "ab"}, {true, 0x2, "cd"}}, nil, 1002},
		// Nothing follows the invalid byte: the server must not wait
		// for the rest of the message to fail it.
		{"invalid utf-8 across fragments, fail fast", []wsFrameSpec{{false, 0x1, "ok\xe2"}, {false, 0x0, "\x28"}}, nil, 1007},
		{"invalid utf-8 in a frame, fail fast", []wsFrameSpec{{false, 0x1, "ok\xff"}}, nil, 1007},
		{"message ends inside a code point", []wsFrameSpec{{false, 0x1, "a"}, {true, 0x0, "\xe2\x9c"}}, nil, 1007},
		{"too big in fragments", []wsFrameSpec{{false, 0x2, string(make([]byte, 600))}, {true, 0x0, string(make([]byte, 600))}}, nil, 1009},
	}
	cfg := testConfig()
	cfg.WSMaxMessageLen = 1000
	h := wsServer(t, cfg, wsEchoMessage, false)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wsConnect(t, h, "/ws")
			c.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			for _, f := range tc.send {
				c.send(f.fin, f.op, []byte(f.payload))
			}
			for _, want := range tc.want {
				fin, op, p := c.read()
				if fin != want.fin || op != want.op || string(p) != want.payload {
					t.Fatalf("got fin %v op %d %q, want %+v", fin, op, p, want)
				}
			}
			if tc.closeCode != 0 {
				c.expectClose(tc.closeCode)
				return
			}
			c.send(true, 0x8, binary.BigEndian.AppendUint16(nil, 1000))
			c.expectClose(1000)
		})
	}
}

func TestWSRecvMessageLimitAndContinuation(t *testing.T) {
	errs := make(chan error, 4)
	h := wsServer(t, testConfig(), func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		var f httpd.WSFrame
		if err := r.WSRecvFrame(&f, 0); err != nil || f.Type != httpd.WSTypeContinue {
			// The first fragment: read it frame-wise.
			return r.WSRecvFrame(&f, 100)
		}
		// The second fragment: its message began in another call.
		var m httpd.WSFrame
		errs <- r.WSRecvMessage(&m, 0)
		return nil
	}, false)
	c := wsConnect(t, h, "/ws")
	c.send(false, 0x1, []byte("a"))
	c.send(true, 0x0, []byte("b"))
	if err := <-errs; err != httpd.ErrInvalidState {
		t.Fatalf("WSRecvMessage on a continuation frame: %v, want ErrInvalidState", err)
	}

	h2 := wsServer(t, testConfig(), func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		var m httpd.WSFrame
		err := r.WSRecvMessage(&m, 4)
		errs <- err
		return err
	}, false)
	c = wsConnect(t, h2, "/ws")
	c.send(false, 0x2, []byte("abc"))
	c.send(true, 0x0, []byte("de"))
	if err := <-errs; err != httpd.ErrInvalidSize {
		t.Fatalf("5-byte message with maxLen 4: %v, want ErrInvalidSize", err)
	}
	c.expectClose(1009)
}

// TestWSRecvMessageNestedControlCall: with HandleWSControlFrames, a ping
// inside a message reaches the handler in a call of its own while the
// message's call waits, and the message still arrives whole.
func TestWSRecvMessageNestedControlCall(t *testing.T) {
	type call struct {
		typ     httpd.WSType
		payload string
		depth   int
	}
	var calls []call
	depth := 0
	h := wsServer(t, testConfig(), func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		depth++
		defer func() { depth-- }()
		var m httpd.WSFrame
		if err := r.WSRecvMessage(&m, 0); err != nil {
			return err
		}
		calls = append(calls, call{m.Type, string(m.Payload), depth})
		if m.Type == httpd.WSTypePing {
			return r.WSSendFrame(&httpd.WSFrame{Type: httpd.WSTypePong, Payload: []byte("handler pong")})
		}
		return r.WSSendFrame(&m)
	}, true)
	c := wsConnect(t, h, "/ws")
	c.send(false, 0x1, []byte("one "))
	c.send(true, 0x9, []byte("ping"))
	c.send(true, 0x0, []byte("two"))
	if _, op, p := c.read(); op != 0xA || string(p) != "handler pong" {
		t.Fatalf("got %d %q, want the handler's pong", op, p)
	}
	if _, op, p := c.read(); op != 0x1 || string(p) != "one two" {
		t.Fatalf("got %d %q, want the message", op, p)
	}
	want := []call{{httpd.WSTypePing, "ping", 2}, {httpd.WSTypeText, "one two", 1}}
	if len(calls) != len(want) || calls[0] != want[0] || calls[1] != want[1] {
		t.Fatalf("calls %+v, want %+v", calls, want)
	}
}

// TestWSRecvMessageStalledPeer: a peer that stops inside a message costs
// the worker at most RecvWaitTimeout, then the session ends and other
// sessions are served again.
func TestWSRecvMessageStalledPeer(t *testing.T) {
	cfg := testConfig()
	cfg.RecvWaitTimeout = 300 * time.Millisecond
	errs := make(chan error, 1)
	h := wsServer(t, cfg, func(r *httpd.Req) error {
		if r.Method == httpd.GET {
			return nil
		}
		var m httpd.WSFrame
		err := r.WSRecvMessage(&m, 0)
		if err != nil {
			errs <- err
			return err
		}
		return r.WSSendFrame(&m)
	}, false)
	c := wsConnect(t, h, "/ws")
	other := wsConnect(t, h, "/ws")
	c.send(false, 0x1, []byte("half"))
	err := <-errs
	if !errors.Is(err, httpd.ErrSockTimeout) {
		t.Fatalf("WSRecvMessage: %v, want ErrSockTimeout", err)
	}
	if _, err := c.br.ReadByte(); err == nil {
		t.Fatal("stalled session still open")
	}
	other.send(true, 0x2, []byte("next"))
	if _, op, p := other.read(); op != 0x2 || !bytes.Equal(p, []byte("next")) {
		t.Fatalf("other session: %d %q", op, p)
	}
}
