package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/net/dns/dnsmessage"
)

// The DNS server's limits and answer, as the C example's dns_server.c sets
// them.
const (
	// dnsMaxLen bounds a query and its reply: plain DNS over UDP (RFC 1035
	// section 2.3.4); the C example stops at 256 bytes.
	dnsMaxLen = 512
	// answerTTL is the answers' time to live in seconds (ANS_TTL_SEC).
	answerTTL = 300
)

// dnsServer answers every A question with one IPv4 address, so that a
// client of the portal's network resolves any name to the portal
// (components/dns_server with the rule "*").
type dnsServer struct {
	log  *slog.Logger
	ip   [4]byte
	conn *net.UDPConn
	done sync.WaitGroup
}

// startDNSServer is start_dns_server: it binds UDP host:port and answers
// from a goroutine of its own until Stop.
func startDNSServer(host string, port uint16, answer netip.Addr, log *slog.Logger) (*dnsServer, error) {
	if !answer.Is4() {
		return nil, fmt.Errorf("DNS answer address %v is not IPv4", answer)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(hostAddr(host), port)))
	if err != nil {
		log.Error("Socket unable to bind: " + err.Error())
		return nil, err
	}
	log.Info("Socket created")
	log.Info("Socket bound, port " + strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port))
	s := &dnsServer{log: log, ip: answer.As4(), conn: conn}
	s.done.Add(1)
	go s.serve()
	return s, nil
}

// hostAddr is the address to bind for host: every interface when host is
// empty, as the C task binds INADDR_ANY.
func hostAddr(host string) netip.Addr {
	if a, err := netip.ParseAddr(host); err == nil {
		return a
	}
	return netip.IPv4Unspecified()
}

// Port returns the UDP port the server listens on.
func (s *dnsServer) Port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// Stop is stop_dns_server: it closes the socket and waits for the task.
func (s *dnsServer) Stop() {
	s.conn.Close()
	s.done.Wait()
}

// serve is dns_server_task: one datagram at a time, each answered or
// dropped.
func (s *dnsServer) serve() {
	defer s.done.Done()
	// One byte more than the largest query accepted, so that a longer one
	// is seen as such instead of being cut to a well-formed prefix.
	rx := make([]byte, dnsMaxLen+1)
	reply := make([]byte, 0, dnsMaxLen)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(rx)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("recvfrom failed: " + err.Error())
			}
			s.log.Info("Shutting down socket")
			return
		}
		out, err := s.answer(rx[:n], reply[:0])
		s.log.Info(fmt.Sprintf("Received %d bytes from %s | DNS reply with len: %d", n, from.Addr().Unmap(), len(out)))
		if err != nil || len(out) == 0 {
			s.log.Error("Failed to prepare a DNS reply", "reason", reasonOf(err))
			continue
		}
		if _, err := s.conn.WriteToUDPAddrPort(out, from); err != nil {
			s.log.Error("Error occurred during sending: " + err.Error())
		}
	}
}

// reasonOf names why no reply was sent.
func reasonOf(err error) string {
	if err == nil {
		return "not a standard query"
	}
	return err.Error()
}

// errTooLong is a query or reply over dnsMaxLen.
var errTooLong = errors.New("message longer than " + strconv.Itoa(dnsMaxLen) + " bytes")

// answer is parse_dns_request: the reply to query built in dst, or nothing
// (nil, nil) for a message that must not be answered: a response, so that a
// spoofed one cannot make two servers answer each other for ever, or an
// opcode other than QUERY. A malformed query is an error.
func (s *dnsServer) answer(query, dst []byte) ([]byte, error) {
	if len(query) > dnsMaxLen {
		return nil, errTooLong
	}
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	s.log.Debug(fmt.Sprintf("DNS query with header id: 0x%X, opcode: %d, response: %v", h.ID, h.OpCode, h.Response))
	if h.Response || h.OpCode != 0 {
		return nil, nil
	}
	questions, err := p.AllQuestions()
	if err != nil {
		return nil, fmt.Errorf("parse DNS question: %w", err)
	}

	b := dnsmessage.NewBuilder(dst, dnsmessage.Header{ID: h.ID, Response: true, RecursionDesired: h.RecursionDesired})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	for _, q := range questions {
		if err := b.Question(q); err != nil {
			return nil, err
		}
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	for _, q := range questions {
		s.log.Debug(fmt.Sprintf("Received type: %d | Class: %d | Question for: %s", q.Type, q.Class, strings.TrimSuffix(q.Name.String(), ".")))
		if q.Type != dnsmessage.TypeA {
			continue // only A questions are answered; the others get an empty answer
		}
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: q.Class, TTL: answerTTL}
		if err := b.AResource(rh, dnsmessage.AResource{A: s.ip}); err != nil {
			return nil, err
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil, err
	}
	if len(out) > dnsMaxLen {
		return nil, errTooLong
	}
	return out, nil
}
