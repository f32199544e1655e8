package httpd_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2cUpgradeDo sends one request over HTTP/1.1 asking to upgrade to h2c
// (RFC 7540 section 3.2) and reads the response as stream 1 of the HTTP/2
// connection that follows the 101. Go's own clients do not upgrade, so this
// one is written out with x/net's framer; it fails when the server declines.
func h2cUpgradeDo(addr, method, path string, hdr http.Header, body []byte) (*http.Response, []byte, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	// Our stream windows are 16 MiB from the start (the settings the
	// upgrade carries), and the connection window is raised to match
	// after the preface, so a response of a few MiB needs no more credit.
	const window = 16 << 20
	var settings [6]byte
	binary.BigEndian.PutUint16(settings[:2], uint16(http2.SettingInitialWindowSize))
	binary.BigEndian.PutUint32(settings[2:], window)
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: %s\r\n",
		method, path, addr, base64.RawURLEncoding.EncodeToString(settings[:]))
	if len(body) > 0 || method == "POST" || method == "PUT" {
		fmt.Fprintf(&req, "Content-Length: %d\r\n", len(body))
	}
	for name, values := range hdr {
		for _, v := range values {
			fmt.Fprintf(&req, "%s: %s\r\n", name, v)
		}
	}
	req.WriteString("\r\n")
	req.Write(body)
	if _, err := nc.Write(req.Bytes()); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(nc)
	up, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, nil, err
	}
	if up.StatusCode != http.StatusSwitchingProtocols {
		return nil, nil, fmt.Errorf("upgrade declined: %s", up.Status)
	}
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		return nil, nil, err
	}
	fr := http2.NewFramer(nc, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	fr.MaxHeaderListSize = 1 << 20
	if err := fr.WriteSettings(); err != nil {
		return nil, nil, err
	}
	if err := fr.WriteWindowUpdate(0, window); err != nil {
		return nil, nil, err
	}
	resp := &http.Response{Proto: "HTTP/2.0", ProtoMajor: 2, Header: http.Header{}}
	var got bytes.Buffer
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return nil, nil, err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				fr.WritePing(true, f.Data)
			}
		case *http2.GoAwayFrame:
			return nil, nil, fmt.Errorf("GOAWAY %v", f.ErrCode)
		case *http2.RSTStreamFrame:
			return nil, nil, fmt.Errorf("RST_STREAM %v on stream %d", f.ErrCode, f.StreamID)
		case *http2.MetaHeadersFrame:
			if f.StreamID != 1 {
				continue
			}
			resp.StatusCode, _ = strconv.Atoi(f.PseudoValue("status"))
			resp.Status = strconv.Itoa(resp.StatusCode)
			for _, hf := range f.RegularFields() {
				resp.Header.Add(hf.Name, hf.Value)
			}
			if f.StreamEnded() {
				return resp, got.Bytes(), nil
			}
		case *http2.DataFrame:
			if f.StreamID != 1 {
				continue
			}
			got.Write(f.Data())
			if f.StreamEnded() {
				return resp, got.Bytes(), nil
			}
		}
	}
}
