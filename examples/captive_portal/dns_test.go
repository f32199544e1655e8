package main

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/extest"
	"golang.org/x/net/dns/dnsmessage"
)

// portalIP is the address the tests' DNS server answers with (the C
// example's softAP address).
var portalIP = netip.MustParseAddr("192.168.4.1")

// startDNS starts the DNS server on an ephemeral UDP port of 127.0.0.1.
func startDNS(t *testing.T) (string, *extest.Log) {
	t.Helper()
	out := &extest.Log{}
	log := out.Logger(dnsTag)
	s, err := startDNSServer("127.0.0.1", 0, portalIP, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port())), out
}

// lookup resolves name with Go's own DNS client, pointed at server: an
// independent client, which also checks the reply's ID, flags and question.
func lookup(t *testing.T, server, name string) string {
	t.Helper()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", server)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), extest.Timeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		t.Fatalf("look up %s: %v", name, err)
	}
	if len(addrs) != 1 {
		t.Fatalf("look up %s: %v, want one address", name, addrs)
	}
	return addrs[0].String()
}

// TestDNSAnswersEveryAQuestion: any name resolves to the portal.
func TestDNSAnswersEveryAQuestion(t *testing.T) {
	server, out := startDNS(t)
	for _, name := range []string{"www.google.com.", "captive.apple.com.", "a.b.c.d.e.example."} {
		if got := lookup(t, server, name); got != portalIP.String() {
			t.Errorf("%s resolved to %s, want %s", name, got, portalIP)
		}
	}
	out.Expect(t, "Received ")
	out.Expect(t, "| DNS reply with len: ")
}

// query builds a standard query for the questions.
func query(t *testing.T, id uint16, qs ...dnsmessage.Question) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.StartQuestions()
	for _, q := range qs {
		if err := b.Question(q); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func question(name string, typ dnsmessage.Type) dnsmessage.Question {
	return dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}
}

// exchange sends msg and returns the next reply.
func exchange(t *testing.T, c *net.UDPConn, msg []byte) dnsmessage.Message {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(extest.Timeout))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	return m
}

func dialDNS(t *testing.T, server string) *net.UDPConn {
	t.Helper()
	c, err := net.Dial("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.UDPConn)
}

// TestDNSReplyFields checks the replies field by field: A questions get the
// portal's address for 300 s, other types an empty answer, several
// questions one answer each.
func TestDNSReplyFields(t *testing.T) {
	server, _ := startDNS(t)
	c := dialDNS(t, server)
	for _, tc := range []struct {
		name    string
		qs      []dnsmessage.Question
		answers []string // the names answered, in order
	}{
		{"one A", []dnsmessage.Question{question("example.com.", dnsmessage.TypeA)}, []string{"example.com."}},
		{"AAAA", []dnsmessage.Question{question("example.com.", dnsmessage.TypeAAAA)}, nil},
		{"MX", []dnsmessage.Question{question("example.com.", dnsmessage.TypeMX)}, nil},
		{"two A", []dnsmessage.Question{question("a.example.", dnsmessage.TypeA), question("b.example.", dnsmessage.TypeA)},
			[]string{"a.example.", "b.example."}},
		{"A and AAAA", []dnsmessage.Question{question("a.example.", dnsmessage.TypeAAAA), question("b.example.", dnsmessage.TypeA)},
			[]string{"b.example."}},
	} {
		m := exchange(t, c, query(t, 0x1234, tc.qs...))
		if m.ID != 0x1234 || !m.Response || m.OpCode != 0 || m.RCode != dnsmessage.RCodeSuccess || !m.RecursionDesired {
			t.Errorf("%s: header %+v", tc.name, m.Header)
		}
		if len(m.Questions) != len(tc.qs) {
			t.Errorf("%s: %d questions echoed, want %d", tc.name, len(m.Questions), len(tc.qs))
		}
		if len(m.Answers) != len(tc.answers) {
			t.Errorf("%s: %d answers, want %d", tc.name, len(m.Answers), len(tc.answers))
			continue
		}
		for i, a := range m.Answers {
			rr, ok := a.Body.(*dnsmessage.AResource)
			if !ok || a.Header.Name.String() != tc.answers[i] || a.Header.TTL != answerTTL ||
				a.Header.Class != dnsmessage.ClassINET || netip.AddrFrom4(rr.A) != portalIP {
				t.Errorf("%s: answer %d: %+v %+v", tc.name, i, a.Header, a.Body)
			}
		}
	}
}

// TestDNSIgnoresMalformed sends what must not be answered, each followed by
// a good query: the first reply to arrive must be the good query's, so the
// bad one got none, and the server is still serving.
func TestDNSIgnoresMalformed(t *testing.T) {
	server, out := startDNS(t)
	c := dialDNS(t, server)
	good := query(t, 0, question("example.com.", dnsmessage.TypeA))
	header := func(flags0, flags1, qd byte) []byte {
		return []byte{0xab, 0xcd, flags0, flags1, 0, qd, 0, 0, 0, 0, 0, 0}
	}
	asResponse := query(t, 7, question("example.com.", dnsmessage.TypeA))
	asResponse[2] |= 0x80 // QR: a response must never be answered
	notQuery := query(t, 8, question("example.com.", dnsmessage.TypeA))
	notQuery[2] |= 2 << 3 // opcode STATUS
	truncated := query(t, 9, question("example.com.", dnsmessage.TypeA))
	truncated = truncated[:len(truncated)-3]
	for _, tc := range []struct {
		name string
		msg  []byte
	}{
		{"one byte", []byte{0}},
		{"short header", []byte{1, 2, 3, 4, 5}},
		{"header only, claims a question", header(0, 0, 1)},
		{"label runs past the end", append(header(0, 0, 1), 63, 'a', 'b')},
		{"pointer loop", append(header(0, 0, 1), 0xc0, 12, 0, 1, 0, 1)},
		{"pointer past the end", append(header(0, 0, 1), 0xc0, 0xff, 0, 1, 0, 1)},
		{"question cut short", truncated},
		{"a response", asResponse},
		{"opcode STATUS", notQuery},
		{"too long", append(header(0, 0, 1), make([]byte, dnsMaxLen)...)},
		{"255 questions claimed, one present", append(header(0, 0, 0xff), good[12:]...)},
		{"garbage", []byte(strings.Repeat("\xff\x00\x3f", 40))},
	} {
		mark := len(out.String())
		if _, err := c.Write(tc.msg); err != nil {
			t.Fatal(err)
		}
		id := uint16(0x4000 + mark%0x1000)
		good[0], good[1] = byte(id>>8), byte(id)
		if m := exchange(t, c, good); m.ID != id || len(m.Answers) != 1 {
			t.Errorf("%s: first reply after it has ID %#x and %d answers; want the good query's (%#x) with one",
				tc.name, m.ID, len(m.Answers), id)
		}
		// The server logged the bad message before it read the good one.
		if logged := out.String()[mark:]; !strings.Contains(logged, "Failed to prepare a DNS reply") {
			t.Errorf("%s: not logged as unanswerable:\n%s", tc.name, logged)
		}
	}
}
