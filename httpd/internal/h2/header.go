package h2

import (
	"strconv"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2/hpack"
)

// validField checks a regular field per RFC 9113 8.2: a lowercase token
// name, a valid value, no connection-specific field, te only "trailers".
func validField(f hpack.HeaderField) bool {
	if !httpguts.ValidHeaderFieldName(f.Name) || !httpguts.ValidHeaderFieldValue(f.Value) {
		return false
	}
	for i := 0; i < len(f.Name); i++ {
		if b := f.Name[i]; 'A' <= b && b <= 'Z' {
			return false
		}
	}
	switch f.Name {
	case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
		return false
	case "te":
		return f.Value == "trailers"
	}
	return true
}

// parseRequest validates a request header list (RFC 9113 8.3.1) and fills
// ev's pseudo-header values and content length, but not ev.Header: fields
// is the reader's scratch. false means malformed (stream error
// PROTOCOL_ERROR).
func parseRequest(fields []hpack.HeaderField, ev *Event) bool {
	var seen [4]bool // method, scheme, authority, path
	regular := false
	for _, f := range fields {
		if f.IsPseudo() {
			if regular {
				return false
			}
			var i int
			switch f.Name {
			case ":method":
				i, ev.Method = 0, f.Value
			case ":scheme":
				i, ev.Scheme = 1, f.Value
			case ":authority":
				i, ev.Authority = 2, f.Value
			case ":path":
				i, ev.Path = 3, f.Value
			default:
				return false
			}
			if seen[i] || !httpguts.ValidHeaderFieldValue(f.Value) {
				return false
			}
			seen[i] = true
			continue
		}
		regular = true
		if !validField(f) {
			return false
		}
		if f.Name == "content-length" {
			n, err := strconv.ParseUint(f.Value, 10, 63)
			if err != nil || ev.ContentLength >= 0 && ev.ContentLength != int64(n) {
				return false
			}
			ev.ContentLength = int64(n)
		}
	}
	if !seen[0] || ev.Method == "" {
		return false
	}
	if ev.Method == "CONNECT" {
		// RFC 9113 8.5: only :method and :authority.
		if seen[1] || seen[3] || !seen[2] || ev.Authority == "" {
			return false
		}
	} else if !seen[1] || !seen[3] || ev.Path == "" || ev.Scheme == "" {
		return false
	}
	return true
}
