// Command captive_portal is a port of ESP-IDF's
// examples/protocols/http_server/captive_portal, without its Wi-Fi access
// point: GET / serves the portal page, and every other URI is redirected
// to / with "302 Temporary Redirect" by a 404 error handler
// (RegisterErrHandler), so that an operating system's captive-portal probe
// lands on the page.
//
// With -dns-port it also runs the example's DNS server on that UDP port,
// answering every A question with the portal's IPv4 address (-dns-ip, by
// default -host), so that every name a client of the network looks up leads
// to the portal. The C example listens on port 53, which needs privileges;
// here it is off unless asked for.
//
//	go run ./examples/captive_portal [-host 127.0.0.1] [-port 8080] [-dns-port 5353 [-dns-ip 192.168.4.1]] [-v]
//	curl -i http://127.0.0.1:8080/generate_204
//	dig @127.0.0.1 -p 5353 example.com
//
// Log lines print as on the ESP-IDF console under the C example's tags
// (example, example_dns_redirect_server); the server's own lines (tag
// httpd) are limited to errors as in the C example, unless -v. SIGINT or
// SIGTERM stops it.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/examples/internal/exmain"
	"github.com/esphttpd/esphttpd/httpd"
)

// tag is the C example's log tag; dnsTag is its DNS server's.
const (
	tag    = "example"
	dnsTag = "example_dns_redirect_server"
)

// options are the example's command-line choices.
type options struct {
	host      string
	port      uint16
	dnsPort   uint16     // 0: no DNS server
	dnsAnswer netip.Addr // the address every A question is answered with
}

func main() {
	p := exmain.New("captive_portal", tag)
	flag.Lookup("v").Usage = "also print debug lines (ESP_LOGD) and the server's info lines"
	dnsPort := flag.Uint("dns-port", 0, "UDP port of the DNS server answering every A question with the portal's address (0: no DNS server)")
	dnsIP := flag.String("dns-ip", "", "IPv4 address the DNS server answers with (default: -host)")
	p.Parse()
	o, err := parseOptions(p.Host, p.Port, *dnsPort, *dnsIP)
	p.RefuseFlags(err)

	p.Exit(p.Serve("", func() (exmain.Server, error) { return start(o, p.Out, p.Log, p.Verbose) }))
}

// parseOptions checks the DNS flags: a port in range, and an IPv4 address
// for the answers when the DNS server is on. (exmain.Port already refused
// a -port outside 1..65535; -dns-port takes 0 for "off", so it is checked
// here.)
func parseOptions(host string, port uint16, dnsPort uint, dnsIP string) (options, error) {
	o := options{host: host, port: port}
	if dnsPort > 65535 {
		return o, fmt.Errorf("invalid -dns-port %d: must be 1-65535, or 0 for no DNS server", dnsPort)
	}
	o.dnsPort = uint16(dnsPort)
	if dnsPort == 0 {
		return o, nil
	}
	answer := dnsIP
	if answer == "" {
		answer = host
	}
	a, err := netip.ParseAddr(answer)
	if err != nil || !a.Unmap().Is4() || a.IsUnspecified() {
		if dnsIP == "" {
			return o, fmt.Errorf("-host %q is not one IPv4 address: give the address DNS answers carry with -dns-ip", host)
		}
		return o, fmt.Errorf("invalid -dns-ip %q: must be an IPv4 address", dnsIP)
	}
	o.dnsAnswer = a.Unmap()
	return o, nil
}

// portalServers are the running servers.
type portalServers struct {
	http *httpd.Handle
	dns  *dnsServer // nil when off
}

// start starts the web server, then the DNS server when asked for, as
// app_main does.
func start(o options, out io.Writer, log *slog.Logger, verbose bool) (*portalServers, error) {
	level := slog.LevelError
	if verbose {
		level = slog.LevelDebug
	}
	httpdLog := slog.New(espconsole.NewHandler(out, "httpd", &espconsole.Options{Level: level}))
	h, err := startWebserver(o.host, o.port, log, httpdLog)
	if err != nil {
		return nil, err
	}
	s := &portalServers{http: h}
	if o.dnsPort != 0 {
		s.dns, err = startDNSServer(o.host, o.dnsPort, o.dnsAnswer, espconsole.WithTag(log, dnsTag))
		if err != nil {
			h.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Stop stops the DNS server, then the web server.
func (s *portalServers) Stop() error {
	if s.dns != nil {
		s.dns.Stop()
	}
	return s.http.Stop()
}
