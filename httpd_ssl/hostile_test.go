package httpd_ssl_test

// Hostile TLS clients (issue 8): old protocol versions and weak cipher
// suites are refused, checked with crypto/tls client configs one version and
// one suite at a time, and by an external scanner (Debian's sslscan, which
// .ci/run installs) whose findings are parsed and asserted. A control run
// against a deliberately weak crypto/tls listener proves the scanner sees
// what it is asked to find.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
)

// hstHandshake dials the server and completes a TLS handshake with cc; it
// returns the negotiated state.
func hstHandshake(address string, cc *tls.Config) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", address, cc)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

// hstAEAD reports whether a suite is an AEAD one (AES-GCM or
// ChaCha20-Poly1305), by its IANA name.
func hstAEAD(name string) bool {
	return strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20_POLY1305")
}

func TestHostileTLSOldVersionsRefused(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p))
	// Control: the same client configs complete a handshake with a plain
	// crypto/tls server that allows the old versions, so a refusal below
	// is the server's.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{p.server.TLS()}, MinVersion: tls.VersionTLS10})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	defer func() { ln.Close(); <-served }()
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		cc := clientConfig(p)
		cc.MinVersion, cc.MaxVersion = v, v
		if st, err := hstHandshake(ln.Addr().String(), cc); err != nil || st.Version != v {
			t.Fatalf("control server: %s handshake: %v", tls.VersionName(v), err)
		}
		st, err := hstHandshake(h.Addr().String(), cc)
		if err == nil {
			t.Errorf("%s accepted (suite %s)", tls.VersionName(v), tls.CipherSuiteName(st.CipherSuite))
			continue
		}
		if !strings.Contains(err.Error(), "protocol version") {
			t.Errorf("%s refused, but not with a protocol_version alert: %v", tls.VersionName(v), err)
		}
	}
	// The refusals cost nothing: 1.2 and 1.3 are still served.
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cc := clientConfig(p)
		cc.MinVersion, cc.MaxVersion = v, v
		st, err := hstHandshake(h.Addr().String(), cc)
		if err != nil || st.Version != v {
			t.Errorf("%s: %v (negotiated %s)", tls.VersionName(v), err, tls.VersionName(st.Version))
		}
	}
}

// TestHostileTLSOnlyAEADSuites offers every TLS 1.2 cipher suite crypto/tls
// knows, secure and insecure, one per handshake: only AEAD suites may be
// accepted.
func TestHostileTLSOnlyAEADSuites(t *testing.T) {
	p := newPKI()
	h := start(t, testConfig(p))
	var accepted, bad []string
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
			continue
		}
		cc := clientConfig(p)
		cc.MaxVersion = tls.VersionTLS12
		cc.CipherSuites = []uint16{s.ID}
		st, err := hstHandshake(h.Addr().String(), cc)
		if err != nil {
			continue
		}
		if st.CipherSuite != s.ID {
			t.Errorf("offered only %s, negotiated %s", s.Name, tls.CipherSuiteName(st.CipherSuite))
		}
		accepted = append(accepted, s.Name)
		if !hstAEAD(s.Name) {
			bad = append(bad, s.Name)
		}
	}
	t.Logf("TLS 1.2 suites accepted: %v", accepted)
	if len(accepted) == 0 {
		t.Fatal("no TLS 1.2 suite accepted at all")
	}
	if len(bad) > 0 {
		t.Fatalf("TLS 1.2 suites without AEAD accepted: %v", bad)
	}
}

// sslscan's --xml output: the parts asserted.
type hstScan struct {
	Test struct {
		Protocols []struct {
			Type    string `xml:"type,attr"`
			Version string `xml:"version,attr"`
			Enabled string `xml:"enabled,attr"`
		} `xml:"protocol"`
		Ciphers []struct {
			Status     string `xml:"status,attr"`
			SSLVersion string `xml:"sslversion,attr"`
			Cipher     string `xml:"cipher,attr"`
			Bits       string `xml:"bits,attr"`
		} `xml:"cipher"`
	} `xml:"ssltest"`
}

// hstSSLScan runs sslscan against address and parses its XML report.
func hstSSLScan(t *testing.T, address string) *hstScan {
	t.Helper()
	bin := exttool.Require(t, "sslscan")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--xml=-", "--no-colour", "--no-heartbleed", "--no-compression",
		"--no-check-certificate", "--timeout=3", address)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sslscan %s: %v\n%s\n%s", address, err, out, stderr.String())
	}
	// The XML document follows the human-readable report on stdout.
	i := bytes.Index(out, []byte("<?xml"))
	if i < 0 {
		t.Fatalf("sslscan printed no XML report:\n%s", out)
	}
	var scan hstScan
	if err := xml.Unmarshal(out[i:], &scan); err != nil {
		t.Fatalf("sslscan XML: %v\n%s", err, out[i:])
	}
	if len(scan.Test.Protocols) == 0 {
		t.Fatalf("sslscan reported no protocol:\n%s", out)
	}
	return &scan
}

// findings sums up a scan: enabled protocols, and accepted suites with
// their protocol, those without AEAD apart.
func (s *hstScan) findings() (protocols, accepted, weak []string) {
	for _, p := range s.Test.Protocols {
		if p.Enabled == "1" {
			protocols = append(protocols, p.Type+p.Version)
		}
	}
	for _, c := range s.Test.Ciphers {
		if c.Status != "accepted" && c.Status != "preferred" {
			continue
		}
		name := c.SSLVersion + " " + c.Cipher
		accepted = append(accepted, name)
		if !hstScanAEAD(c.Cipher) {
			weak = append(weak, name)
		}
	}
	return protocols, accepted, weak
}

// hstScanAEAD classifies a suite as sslscan names it: OpenSSL names for
// TLS 1.2 ("ECDHE-ECDSA-AES128-GCM-SHA256"), IANA names for TLS 1.3
// ("TLS_CHACHA20_POLY1305_SHA256"). AEAD means AES-GCM, AES-CCM or
// ChaCha20-Poly1305; CBC (names ending in SHA, SHA256, SHA384 without
// them), RC4, 3DES and NULL suites are not.
func hstScanAEAD(cipher string) bool {
	toks := strings.FieldsFunc(cipher, func(r rune) bool { return r == '-' || r == '_' })
	aead := false
	for i, tok := range toks {
		switch {
		case tok == "GCM" || tok == "CCM" || tok == "CCM8":
			aead = true
		case tok == "CHACHA20" && i+1 < len(toks) && toks[i+1] == "POLY1305":
			aead = true
		case tok == "RC4" || tok == "DES" || tok == "3DES" || tok == "CBC3" || tok == "NULL" || tok == "CBC" || tok == "EXP":
			return false
		}
	}
	return aead
}

// TestHostileTLSScanner runs sslscan against an httpd_ssl server and
// asserts: no SSLv2/SSLv3/TLS 1.0/TLS 1.1, no suite without AEAD, and TLS 1.2
// and 1.3 available.
func TestHostileTLSScanner(t *testing.T) {
	// Control: the scanner must find a weak server weak, or a clean report
	// below would prove nothing (a client built without TLS 1.0 or CBC).
	t.Run("control", func(t *testing.T) {
		p := newPKI()
		cert := p.server.TLS()
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS10,
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					c.SetDeadline(time.Now().Add(5 * time.Second))
					c.(*tls.Conn).Handshake()
					c.Close()
				}()
			}
		}()
		defer func() { ln.Close(); <-done }()
		protocols, accepted, weak := hstSSLScan(t, ln.Addr().String()).findings()
		t.Logf("control: protocols %v, accepted %v", protocols, accepted)
		if !slices.Contains(protocols, "tls1.0") {
			t.Errorf("sslscan did not see TLS 1.0 on a server that enables it: %v", protocols)
		}
		if len(weak) == 0 {
			t.Errorf("sslscan did not see the CBC suite the control server accepts: %v", accepted)
		}
	})

	p := newPKI()
	cfg := testConfig(p)
	cfg.HandshakeTimeout = 3 * time.Second
	h := start(t, cfg)
	scan := hstSSLScan(t, h.Addr().String())
	protocols, accepted, weak := scan.findings()
	t.Logf("httpd_ssl: protocols %v, accepted %v", protocols, accepted)
	for _, old := range []string{"ssl2", "ssl3", "tls1.0", "tls1.1"} {
		if slices.Contains(protocols, old) {
			t.Errorf("sslscan: %s enabled", old)
		}
	}
	for _, want := range []string{"tls1.2", "tls1.3"} {
		if !slices.Contains(protocols, want) {
			t.Errorf("sslscan: %s not enabled (%v)", want, protocols)
		}
	}
	for _, a := range accepted {
		if strings.HasPrefix(a, "SSLv") || strings.HasPrefix(a, "TLSv1.0 ") || strings.HasPrefix(a, "TLSv1.1 ") {
			t.Errorf("sslscan: suite accepted on an old protocol: %s", a)
		}
	}
	if len(accepted) == 0 {
		t.Fatal("sslscan found no accepted suite")
	}
	// The server still serves after the scan's hundreds of handshakes.
	if _, err := tlsGet(t, h, clientConfig(p), 1); err != nil {
		t.Errorf("after the scan: %v", err)
	}
	if len(weak) > 0 {
		t.Fatalf("sslscan found suites without AEAD accepted: %v", weak)
	}
}
