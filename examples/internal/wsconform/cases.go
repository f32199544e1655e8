package wsconform

import (
	"fmt"
	"strconv"
)

// Case is one conformance case: an id after the Autobahn case it restates
// (with this package's sizes), what it checks, and its script.
type Case struct {
	ID   string
	Desc string
	Run  func(c *Conn) error
}

// MaxMessage is the message size limit the cases of section 9 assume: the
// server under test must accept messages up to it and fail a larger one
// with 1009.
const MaxMessage = 1 << 20

// step is one action or expectation of a case's script.
type step func(c *Conn) error

func script(steps ...step) func(c *Conn) error {
	return func(c *Conn) error {
		for i, s := range steps {
			if err := s(c); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
		return nil
	}
}

// send and sendChunked ignore write errors: a server may fail the
// connection and close it before everything was written, and what it
// answered decides the case.
func send(frames ...Frame) step { return func(c *Conn) error { c.Send(frames...); return nil } }
func sendChunked(chunk int, frames ...Frame) step {
	return func(c *Conn) error { c.SendChunked(chunk, frames...); return nil }
}
func expect(op byte, payload []byte) step {
	return func(c *Conn) error { return c.Expect(op, payload) }
}
func expectClose(codes ...uint16) step { return func(c *Conn) error { return c.ExpectClose(codes...) } }

// closeNormally ends a case whose server must still be in good standing.
func closeNormally() step { return func(c *Conn) error { return c.CloseNormally() } }

// The frames the cases are built from.
func text(fin bool, s string) Frame { return Frame{Fin: fin, Op: OpText, Payload: []byte(s)} }
func bin(fin bool, b []byte) Frame  { return Frame{Fin: fin, Op: OpBinary, Payload: b} }
func cont(fin bool, s string) Frame { return Frame{Fin: fin, Op: OpContinuation, Payload: []byte(s)} }
func ping(s string) Frame           { return Frame{Fin: true, Op: OpPing, Payload: []byte(s)} }
func pong(s string) Frame           { return Frame{Fin: true, Op: OpPong, Payload: []byte(s)} }
func closeFrame(p []byte) Frame     { return Frame{Fin: true, Op: OpClose, Payload: p} }

// echoOf sends a whole message and expects it back.
func echoOf(op byte, payload []byte) []step {
	return []step{send(Frame{Fin: true, Op: op, Payload: payload}), expect(op, payload)}
}

// Cases returns every case, in Autobahn's order.
func Cases() []Case {
	var cs []Case
	add := func(id, desc string, steps ...step) {
		cs = append(cs, Case{ID: id, Desc: desc, Run: script(steps...)})
	}
	addFraming(add)
	addPingPong(add)
	addReservedBits(add)
	addOpcodes(add)
	addFragmentation(add)
	addUTF8(add)
	addClose(add)
	addLimits(add)
	return cs
}

type adder func(id, desc string, steps ...step)

// 1: framing. Messages of every length encoding boundary echo whole.
func addFraming(add adder) {
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	for i, n := range sizes {
		add("1.1."+strconv.Itoa(i+1), fmt.Sprintf("text message of %d bytes", n),
			append(echoOf(OpText, repeat("*", n)), closeNormally())...)
		add("1.2."+strconv.Itoa(i+1), fmt.Sprintf("binary message of %d bytes", n),
			append(echoOf(OpBinary, repeat("\xfe", n)), closeNormally())...)
	}
	add("1.1.8", "text message of 65535 bytes written in 997-byte pieces",
		sendChunked(997, text(true, string(repeat("*", 65535)))), expect(OpText, repeat("*", 65535)), closeNormally())
	add("1.2.8", "binary message of 65535 bytes written in 997-byte pieces",
		sendChunked(997, bin(true, repeat("\xfe", 65535))), expect(OpBinary, repeat("\xfe", 65535)), closeNormally())
}

// 2: pings and pongs.
func addPingPong(add adder) {
	add("2.1", "ping without payload", send(ping("")), expect(OpPong, nil), closeNormally())
	add("2.2", "ping with a text payload", send(ping("Hello, world!")), expect(OpPong, []byte("Hello, world!")), closeNormally())
	add("2.3", "ping with a binary payload", send(ping("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
		expect(OpPong, []byte("\x00\xff\xfe\xfd\xfc\xfb\x00\xff")), closeNormally())
	add("2.4", "ping with 125 bytes", send(ping(string(repeat("\xfe", 125)))), expect(OpPong, repeat("\xfe", 125)), closeNormally())
	add("2.5", "ping with 126 bytes fails the connection", send(Frame{Fin: true, Op: OpPing, Payload: repeat("\xfe", 126)}), expectClose(1002))
	add("2.6", "ping with 125 bytes written a byte at a time", sendChunked(1, ping(string(repeat("\xfe", 125)))),
		expect(OpPong, repeat("\xfe", 125)), closeNormally())
	// Unsolicited pongs get no answer: closeNormally fails on anything
	// before the close frame.
	add("2.7", "unsolicited pong without payload", send(pong("")), closeNormally())
	add("2.8", "unsolicited pong with payload", send(pong("unsolicited pong payload")), closeNormally())
	add("2.9", "unsolicited pong, then ping", send(pong("unsolicited pong payload"), ping("ping payload")),
		expect(OpPong, []byte("ping payload")), closeNormally())
	var ten, tenPongs []step
	var pings []Frame
	for i := range 10 {
		p := "payload-" + strconv.Itoa(i)
		pings = append(pings, ping(p))
		tenPongs = append(tenPongs, expect(OpPong, []byte(p)))
	}
	ten = append([]step{send(pings...)}, tenPongs...)
	add("2.10", "10 pings in one write", append(ten, closeNormally())...)
	add("2.11", "10 pings written a byte at a time", append(append([]step{sendChunked(1, pings...)}, tenPongs...), closeNormally())...)
}

// 3: reserved bits without an extension fail the connection with 1002.
func addReservedBits(add adder) {
	rsv := func(f Frame, bits byte) Frame { f.RSV = bits; return f }
	add("3.1", "RSV1 on a text frame", send(rsv(text(true, "Hello, world!"), 1)), expectClose(1002))
	add("3.2", "RSV2 on a text frame after a good one", send(text(true, "Hello, world!")), expect(OpText, []byte("Hello, world!")),
		send(rsv(text(true, "Hello, world!"), 2)), expectClose(1002))
	add("3.3", "RSV3 on a text frame written with a good one and a ping",
		send(text(true, "Hello, world!"), rsv(text(true, "Hello, world!"), 4), ping("")),
		expect(OpText, []byte("Hello, world!")), expectClose(1002))
	add("3.4", "RSV1|RSV2 on a text frame, written a byte at a time",
		sendChunked(1, text(true, "Hello, world!"), rsv(text(true, "Hello, world!"), 3), ping("")),
		expect(OpText, []byte("Hello, world!")), expectClose(1002))
	add("3.5", "RSV1|RSV3 on a binary frame", send(rsv(bin(true, []byte{0, 0xff, 0xfe}), 5)), expectClose(1002))
	add("3.6", "RSV2|RSV3 on a ping", send(rsv(ping("Hello, world!"), 6)), expectClose(1002))
	add("3.7", "all reserved bits on a close frame", send(rsv(closeFrame(closePayload(1000, "")), 7)), expectClose(1002))
}

// 4: reserved opcodes fail the connection with 1002.
func addOpcodes(add adder) {
	for i, op := range []byte{3, 4, 5, 6, 7} {
		f := Frame{Fin: true, Op: op}
		if i%2 == 1 {
			f.Payload = []byte("reserved")
		}
		add("4.1."+strconv.Itoa(i+1), fmt.Sprintf("reserved data opcode %d after a good message", op),
			send(text(true, "Hello"), f, ping("")), expect(OpText, []byte("Hello")), expectClose(1002))
	}
	for i, op := range []byte{11, 12, 13, 14, 15} {
		f := Frame{Fin: true, Op: op}
		if i%2 == 1 {
			f.Payload = []byte("reserved")
		}
		add("4.2."+strconv.Itoa(i+1), fmt.Sprintf("reserved control opcode %d after a good message", op),
			send(text(true, "Hello"), f, ping("")), expect(OpText, []byte("Hello")), expectClose(1002))
	}
}

// 5: fragmentation.
func addFragmentation(add adder) {
	add("5.1", "fragmented ping", send(Frame{Op: OpPing, Payload: []byte("frag")}, cont(true, "ment")), expectClose(1002))
	add("5.2", "fragmented pong", send(Frame{Op: OpPong, Payload: []byte("frag")}, cont(true, "ment")), expectClose(1002))
	frags := []Frame{text(false, "fragment1"), cont(true, "fragment2")}
	add("5.3", "text in two fragments", send(frags...), expect(OpText, []byte("fragment1fragment2")), closeNormally())
	add("5.4", "text in two fragments, written in pieces", sendChunked(4, frags...), expect(OpText, []byte("fragment1fragment2")), closeNormally())
	add("5.5", "text in two fragments, written a byte at a time", sendChunked(1, frags...), expect(OpText, []byte("fragment1fragment2")), closeNormally())
	withPing := []Frame{text(false, "fragment1"), ping("pongme!"), cont(true, "fragment2")}
	pongThenMsg := []step{expect(OpPong, []byte("pongme!")), expect(OpText, []byte("fragment1fragment2")), closeNormally()}
	add("5.6", "ping between two fragments", append([]step{send(withPing...)}, pongThenMsg...)...)
	add("5.7", "ping between two fragments, written in pieces", append([]step{sendChunked(4, withPing...)}, pongThenMsg...)...)
	add("5.8", "ping between two fragments, written a byte at a time", append([]step{sendChunked(1, withPing...)}, pongThenMsg...)...)
	// A continuation with no message in progress, then a good message
	// the server must not echo.
	noMsg := []Frame{cont(true, "non-continuation payload"), text(true, "Hello, world!")}
	add("5.9", "continuation frame (FIN) without a message", send(noMsg...), expectClose(1002))
	add("5.10", "continuation frame (FIN) without a message, written in pieces", sendChunked(4, noMsg...), expectClose(1002))
	add("5.11", "continuation frame (FIN) without a message, a byte at a time", sendChunked(1, noMsg...), expectClose(1002))
	noMsg2 := []Frame{cont(false, "non-continuation payload"), text(true, "Hello, world!")}
	add("5.12", "continuation frame (no FIN) without a message", send(noMsg2...), expectClose(1002))
	add("5.13", "continuation frame (no FIN) without a message, written in pieces", sendChunked(4, noMsg2...), expectClose(1002))
	add("5.14", "continuation frame (no FIN) without a message, a byte at a time", sendChunked(1, noMsg2...), expectClose(1002))
	add("5.15", "a whole fragmented message, then a continuation without one",
		send(text(false, "fragment1"), cont(true, "fragment2"), cont(false, "fragment3"), text(true, "fragment4")),
		expect(OpText, []byte("fragment1fragment2")), expectClose(1002))
	add("5.16", "continuation, text, continuation: no message ever begins properly",
		send(cont(false, "fragment1"), text(false, "fragment2"), cont(true, "fragment3")), expectClose(1002))
	add("5.17", "the same with FIN set on the first continuation",
		send(cont(true, "fragment1"), text(false, "fragment2"), cont(true, "fragment3")), expectClose(1002))
	add("5.18", "a new text message inside a fragmented one", send(text(false, "fragment1"), text(true, "fragment2")), expectClose(1002))
	// 5.19/5.20: five fragments with pings between them, sent frame by
	// frame: each ping is answered before the message is complete.
	five := func(chunk int) []step {
		steps := []step{send(text(false, "fragment1")), send(cont(false, "fragment2")), send(ping("pongme 1!")),
			expect(OpPong, []byte("pongme 1!")), send(cont(false, "fragment3")), send(ping("pongme 2!")),
			expect(OpPong, []byte("pongme 2!")), send(cont(false, "fragment4")), sendChunked(chunk, cont(true, "fragment5")),
			expect(OpText, []byte("fragment1fragment2fragment3fragment4fragment5")), closeNormally()}
		return steps
	}
	add("5.19", "five fragments, two pings answered while the message is open", five(100)...)
	add("5.20", "the same, last fragment written a byte at a time", five(1)...)
}

// 6: UTF-8 in text messages.
func addUTF8(add adder) {
	add("6.1.1", "empty text message", append(echoOf(OpText, []byte{}), closeNormally())...)
	add("6.1.2", "empty text message in three empty fragments", send(text(false, ""), cont(false, ""), cont(true, "")),
		expect(OpText, []byte{}), closeNormally())
	add("6.1.3", "text message of empty, one, empty fragments", send(text(false, ""), cont(false, "middle"), cont(true, "")),
		expect(OpText, []byte("middle")), closeNormally())
	hello := "Hello-µ@ßöäüàá-UTF-8!!"
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5" // κόσμε
	for i, s := range []string{hello, kosme} {
		n := strconv.Itoa(i + 1)
		add("6.2."+n+".1", fmt.Sprintf("valid UTF-8 %q in one frame", s), append(echoOf(OpText, []byte(s)), closeNormally())...)
		add("6.2."+n+".2", fmt.Sprintf("valid UTF-8 %q, one byte per fragment (code points split)", s),
			send(byteFragments(s)...), expect(OpText, []byte(s)), closeNormally())
		add("6.2."+n+".3", fmt.Sprintf("valid UTF-8 %q written a byte at a time", s),
			sendChunked(1, text(true, s)), expect(OpText, []byte(s)), closeNormally())
	}
	for i, s := range validUTF8 {
		n := strconv.Itoa(i + 1)
		add("6.5."+n+".1", fmt.Sprintf("valid %q in one frame", s), append(echoOf(OpText, []byte(s)), closeNormally())...)
		add("6.5."+n+".2", fmt.Sprintf("valid %q, one byte per fragment", s),
			send(byteFragments(s)...), expect(OpText, []byte(s)), closeNormally())
	}
	for i, s := range invalidUTF8 {
		n := strconv.Itoa(i + 1)
		add("6.6."+n+".1", fmt.Sprintf("invalid %q in one frame", s), send(text(true, s)), expectClose(1007))
		add("6.6."+n+".2", fmt.Sprintf("invalid %q, one byte per fragment", s), send(byteFragments(s)...), expectClose(1007))
	}
	// 6.4: fail fast. The rest of the message is never sent: a server that
	// waits for it before failing the connection times the case out.
	add("6.4.1", "invalid byte in the second of three fragments",
		send(text(false, kosme), cont(false, "\xf4\x90\x80\x80")), expectClose(1007))
	add("6.4.2", "code point split across fragments, invalid in the second",
		send(text(false, kosme+"\xf4"), cont(false, "\x90\x80\x80")), expectClose(1007))
	add("6.4.3", "invalid bytes inside a frame whose rest never comes",
		sendPrefix(text(true, kosme+"\xf4\x90\x80\x80"+kosme+"edited"), 6+len(kosme)+4), expectClose(1007))
	add("6.4.4", "a frame cut one byte after an invalid lead byte",
		sendPrefix(text(true, kosme+"\xf4\x90\x80\x80"+kosme+"edited"), 6+len(kosme)+2), expectClose(1007))
	add("6.4.5", "invalid bytes in a large frame (read in pieces) whose rest never comes",
		sendPrefix(text(true, string(repeat("a", 64<<10))+"\xc0\xaf"+string(repeat("b", 64<<10))), 14+64<<10+2), expectClose(1007))
}

// sendPrefix writes only the first n bytes of f's encoding.
func sendPrefix(f Frame, n int) step {
	return func(c *Conn) error {
		c.nc.Write(Encode(f)[:n])
		return nil
	}
}

// byteFragments is a text message with one byte per fragment.
func byteFragments(s string) []Frame {
	var fs []Frame
	for i := range len(s) {
		f := cont(i == len(s)-1, s[i:i+1])
		if i == 0 {
			f.Op = OpText
		}
		fs = append(fs, f)
	}
	return fs
}

// validUTF8 are boundary cases from Markus Kuhn's UTF-8 decoder test, as
// Autobahn's 6.5 to 6.23 use them.
var validUTF8 = []string{
	"\x00", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xef\xbf\xbf",
	"\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", // U+10000, U+10FFFF
	"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", // around the surrogates, U+FFFD
	"\xef\xbf\xbe", "\xef\xbf\xbf", // noncharacters are valid UTF-8
}

var invalidUTF8 = []string{
	"\x80", "\xbf", "\x80\xbf", // lone continuation bytes
	"\xc0", "\xe0\x80", "\xf0\x80\x80", // sequences missing their last byte
	"\xc2 ", "\xe1\x80 ", // a lead byte followed by a space
	"\xfe", "\xff", "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80", // impossible bytes, 5 and 6-byte forms
	"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", // overlong forms
	"\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\x80\xed\xb0\x80", // surrogates, alone and paired
	"\xf4\x90\x80\x80", "\xf7\xbf\xbf\xbf", // beyond U+10FFFF
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // valid, then a surrogate
}

// 7: close handling.
func addClose(add adder) {
	add("7.1.1", "echo, then a normal close", send(text(true, "Hello World!")), expect(OpText, []byte("Hello World!")), closeNormally())
	add("7.1.2", "a second close frame after the first is ignored",
		send(closeFrame(closePayload(1000, "")), closeFrame(closePayload(1000, ""))), expectClose(1000))
	add("7.1.3", "a ping after the close frame gets no pong", send(closeFrame(closePayload(1000, "")), ping("")), expectClose(1000))
	add("7.1.4", "a text frame after the close frame is not echoed",
		send(closeFrame(closePayload(1000, "")), text(true, "Hello World!")), expectClose(1000))
	add("7.1.5", "a close frame inside a fragmented message ends it unechoed",
		send(text(false, "fragment1"), closeFrame(closePayload(1000, "")), cont(true, "fragment2")), expectClose(1000))
	add("7.1.6", "a large message, then close, then ping: the message may be echoed, the ping is not",
		send(text(true, string(repeat("BAsd7&jh23", 256<<10))), closeFrame(closePayload(1000, "")), ping("")),
		expect(OpText, repeat("BAsd7&jh23", 256<<10)), expectClose(1000))
	add("7.3.1", "close without payload", send(closeFrame(nil)), expectClose(0, 1000))
	add("7.3.2", "close with a 1-byte payload", send(closeFrame([]byte{0x03})), expectClose(1002))
	add("7.3.3", "close 1000 without reason", send(closeFrame(closePayload(1000, ""))), expectClose(1000))
	add("7.3.4", "close 1000 with a reason", send(closeFrame(closePayload(1000, "Hello World!"))), expectClose(1000))
	add("7.3.5", "close 1000 with a 123-byte reason", send(closeFrame(closePayload(1000, string(repeat("*", 123))))), expectClose(1000))
	add("7.3.6", "close with a 124-byte reason (payload 126) fails the connection",
		send(closeFrame(closePayload(1000, string(repeat("*", 124))))), expectClose(1002))
	add("7.5.1", "close reason that is not UTF-8", send(closeFrame(closePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"))),
		expectClose(1002, 1007))
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		add("7.7."+strconv.Itoa(i+1), fmt.Sprintf("valid close code %d is echoed", code),
			send(closeFrame(closePayload(code, ""))), expectClose(code))
	}
	// 1012 to 1014 were registered after RFC 6455 and implementations
	// disagree on them: left out.
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999} {
		add("7.9."+strconv.Itoa(i+1), fmt.Sprintf("invalid close code %d", code),
			send(closeFrame(closePayload(code, ""))), expectClose(1002))
	}
	for i, code := range []uint16{5000, 65535} {
		add("7.13."+strconv.Itoa(i+1), fmt.Sprintf("close code %d beyond the registry", code),
			send(closeFrame(closePayload(code, ""))), expectClose(1002))
	}
}

// 9: limits, at sizes up to MaxMessage.
func addLimits(add adder) {
	sizes := []int{64 << 10, 256 << 10, MaxMessage}
	for i, n := range sizes {
		add("9.1."+strconv.Itoa(i+1), fmt.Sprintf("text message of %d bytes", n),
			append(echoOf(OpText, repeat("BAsd7&jh23", n)), closeNormally())...)
		add("9.2."+strconv.Itoa(i+1), fmt.Sprintf("binary message of %d bytes", n),
			append(echoOf(OpBinary, repeat("\xfe", n)), closeNormally())...)
	}
	const fragMsg = 256 << 10
	for i, frag := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10} {
		payload := repeat("*", fragMsg)
		add("9.3."+strconv.Itoa(i+1), fmt.Sprintf("text message of %d bytes in %d-byte fragments", fragMsg, frag),
			send(fragments(OpText, payload, frag)...), expect(OpText, payload), closeNormally())
		add("9.4."+strconv.Itoa(i+1), fmt.Sprintf("binary message of %d bytes in %d-byte fragments", fragMsg, frag),
			send(fragments(OpBinary, payload, frag)...), expect(OpBinary, payload), closeNormally())
	}
	for i, chunk := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10} {
		payload := repeat("*", 128<<10)
		add("9.5."+strconv.Itoa(i+1), fmt.Sprintf("text message of %d bytes written in %d-byte pieces", len(payload), chunk),
			sendChunked(chunk, text(true, string(payload))), expect(OpText, payload), closeNormally())
		add("9.6."+strconv.Itoa(i+1), fmt.Sprintf("binary message of %d bytes written in %d-byte pieces", len(payload), chunk),
			sendChunked(chunk, bin(true, payload)), expect(OpBinary, payload), closeNormally())
	}
	for i, n := range []int{0, 16, 64, 256, 1 << 10, 4 << 10} {
		add("9.7."+strconv.Itoa(i+1), fmt.Sprintf("200 text messages of %d bytes, then their echoes", n), many(OpText, n)...)
		add("9.8."+strconv.Itoa(i+1), fmt.Sprintf("200 binary messages of %d bytes, then their echoes", n), many(OpBinary, n)...)
	}
	add("9.9.1", fmt.Sprintf("a message of %d bytes, one over the limit, fails the connection", MaxMessage+1),
		send(bin(true, repeat("\xfe", MaxMessage+1))), expectClose(1009))
	add("9.9.2", "the limit counts all fragments of a message",
		send(fragments(OpBinary, repeat("\xfe", MaxMessage+1), 64<<10)...), expectClose(1009))
}

// fragments cuts a message into fragments of size bytes.
func fragments(op byte, payload []byte, size int) []Frame {
	var fs []Frame
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := Frame{Fin: end == len(payload), Op: OpContinuation, Payload: payload[off:end]}
		if off == 0 {
			f.Op = op
		}
		fs = append(fs, f)
	}
	return fs
}

// many sends 200 messages without waiting, reading their echoes as they
// come (a writer that waited for all of them to be written could block
// against the server's echoes).
func many(op byte, n int) []step {
	var frames []Frame
	var payloads [][]byte
	for i := range 200 {
		p := repeat(strconv.Itoa(i%10), n)
		frames = append(frames, Frame{Fin: true, Op: op, Payload: p})
		payloads = append(payloads, p)
	}
	return []step{func(c *Conn) error {
		sent := make(chan error, 1)
		go func() { sent <- c.Send(frames...) }()
		for i, p := range payloads {
			if err := c.Expect(op, p); err != nil {
				<-sent
				return fmt.Errorf("message %d: %w", i, err)
			}
		}
		return <-sent
	}, closeNormally()}
}
