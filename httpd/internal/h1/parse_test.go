package h1

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var small = Limits{MaxURILen: 16, MaxHeaderBytes: 32}

type okCase struct {
	name   string
	limits Limits
	in     string
	n      int // 0: len(in)
	want   view
}

func okCases() []okCase {
	get := func(v view) view {
		if v.Method == "" {
			v.Method = "GET"
		}
		if v.URI == "" {
			v.URI = "/"
		}
		return v
	}
	return []okCase{
		{name: "minimal", in: "GET / HTTP/1.1\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1})},
		{name: "no Host on HTTP/1.1", in: "GET /x HTTP/1.1\r\nA: b\r\n\r\n",
			want: get(view{URI: "/x", ProtoMinor: 1, ContentLength: -1, Headers: []string{"A: b"}})},
		{name: "bare LF", in: "GET /a?b=c HTTP/1.1\nHost: h\nX: y\n\n",
			want: get(view{URI: "/a?b=c", ProtoMinor: 1, ContentLength: -1, Headers: []string{"Host: h", "X: y"}})},
		{name: "mixed line endings", in: "GET / HTTP/1.1\nHost: h\r\nX: y\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"Host: h", "X: y"}})},
		{name: "leading CRLF skipped and counted", in: "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1})},
		{name: "four leading empty lines", in: "\r\n\r\n\n\r\nGET / HTTP/1.1\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1})},
		{name: "body and next request follow", in: "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n",
			n:    len("POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\n"),
			want: view{Method: "POST", URI: "/p", ProtoMinor: 1, ContentLength: 3, Headers: []string{"Content-Length: 3"}}},
		{name: "OWS trimmed, inner space kept", in: "GET / HTTP/1.1\r\nA: \t x  y \t\r\nB:z\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"A: x  y", "B: z"}})},
		{name: "empty values", in: "GET / HTTP/1.1\r\nA:\r\nB:   \r\nC:\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"A: ", "B: ", "C: "}})},
		{name: "obs-text and HTAB in value", in: "GET / HTTP/1.1\r\nA: caf\xc3\xa9\tok\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"A: caf\xc3\xa9\tok"}})},
		{name: "token characters in name", in: "GET / HTTP/1.1\r\nX-!#$%&'*+-.^_`|~09az: v\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"X-!#$%&'*+-.^_`|~09az: v"}})},
		{name: "HTTP/1.0 closes by default", in: "GET / HTTP/1.0\r\n\r\n",
			want: get(view{ProtoMinor: 0, ContentLength: -1, Close: true})},
		{name: "HTTP/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			want: get(view{ProtoMinor: 0, ContentLength: -1, Headers: []string{"Connection: Keep-Alive"}})},
		{name: "HTTP/1.0 keep-alive then close", in: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
			want: get(view{ProtoMinor: 0, ContentLength: -1, Close: true, Headers: []string{"Connection: keep-alive, close"}})},
		{name: "HTTP/1.1 close", in: "GET / HTTP/1.1\r\nconnection: CLOSE\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Close: true, Headers: []string{"connection: CLOSE"}})},
		{name: "Connection list", in: "GET / HTTP/1.1\r\nConnection: Upgrade ,\tclose,\r\nUpgrade: websocket\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Close: true, Upgrade: strp("websocket"),
				Headers: []string{"Connection: Upgrade ,\tclose,", "Upgrade: websocket"}})},
		{name: "Connection token inside another is not close", in: "GET / HTTP/1.1\r\nConnection: closed, x-close\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"Connection: closed, x-close"}})},
		{name: "first Upgrade wins, empty is not absent", in: "GET / HTTP/1.1\r\nUPGRADE:\r\nUpgrade: h2c\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Upgrade: strp(""), Headers: []string{"UPGRADE: ", "Upgrade: h2c"}})},
		{name: "Expect 100-continue", in: "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 10\r\n\r\n",
			want: view{Method: "PUT", URI: "/f", ProtoMinor: 1, ContentLength: 10, Expect100: true,
				Headers: []string{"Expect: 100-Continue", "Content-Length: 10"}}},
		{name: "Expect ignored from HTTP/1.0", in: "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\n\r\n",
			want: view{Method: "PUT", URI: "/f", ProtoMinor: 0, ContentLength: -1, Close: true,
				Headers: []string{"Expect: 100-continue"}}},
		{name: "other expectation ignored", in: "GET / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"Expect: 200-ok"}})},
		{name: "Content-Length zero", in: "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
			want: view{Method: "POST", URI: "/", ProtoMinor: 1, ContentLength: 0, Headers: []string{"Content-Length: 0"}}},
		{name: "Content-Length max int64", in: "POST / HTTP/1.1\r\ncontent-length: 9223372036854775807\r\n\r\n",
			want: view{Method: "POST", URI: "/", ProtoMinor: 1, ContentLength: 9223372036854775807,
				Headers: []string{"content-length: 9223372036854775807"}}},
		{name: "Content-Length identical duplicates", in: "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 005\r\n\r\n",
			want: view{Method: "POST", URI: "/", ProtoMinor: 1, ContentLength: 5,
				Headers: []string{"Content-Length: 5", "Content-Length: 005"}}},
		{name: "chunked", in: "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
			want: view{Method: "POST", URI: "/u", ProtoMinor: 1, ContentLength: -1, Chunked: true,
				Headers: []string{"Transfer-Encoding: chunked"}}},
		{name: "chunked any case, empty elements", in: "POST /u HTTP/1.1\r\ntransfer-encoding: , CHUNKED ,\r\n\r\n",
			want: view{Method: "POST", URI: "/u", ProtoMinor: 1, ContentLength: -1, Chunked: true,
				Headers: []string{"transfer-encoding: , CHUNKED ,"}}},
		{name: "HTTP/1.0 chunked closes", in: "POST /u HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
			want: view{Method: "POST", URI: "/u", ProtoMinor: 0, ContentLength: -1, Chunked: true, Close: true,
				Headers: []string{"Connection: keep-alive", "Transfer-Encoding: chunked"}}},
		{name: "SSDP NOTIFY *", in: "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n",
			want: view{Method: "NOTIFY", URI: "*", ProtoMinor: 1, ContentLength: -1, Headers: []string{"NT: upnp:rootdevice"}}},
		{name: "OPTIONS *", in: "OPTIONS * HTTP/1.1\r\n\r\n",
			want: view{Method: "OPTIONS", URI: "*", ProtoMinor: 1, ContentLength: -1}},
		{name: "absolute-form", in: "GET http://example.com/a?b HTTP/1.1\r\n\r\n",
			want: get(view{URI: "http://example.com/a?b", ProtoMinor: 1, ContentLength: -1})},
		{name: "absolute-form https any case", in: "GET HTTPS://h HTTP/1.1\r\n\r\n",
			want: get(view{URI: "HTTPS://h", ProtoMinor: 1, ContentLength: -1})},
		{name: "CONNECT authority-form", in: "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
			want: view{Method: "CONNECT", URI: "example.com:443", ProtoMinor: 1, ContentLength: -1}},
		{name: "M-SEARCH", in: "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n",
			want: view{Method: "M-SEARCH", URI: "*", ProtoMinor: 1, ContentLength: -1, Headers: []string{"ST: ssdp:all"}}},
		{name: "longest method", in: "UNSUBSCRIBE /e HTTP/1.1\r\n\r\n",
			want: view{Method: "UNSUBSCRIBE", URI: "/e", ProtoMinor: 1, ContentLength: -1}},
		{name: "raw UTF-8 and odd bytes in target", in: "GET /caf\xc3\xa9/{x}|\"#f HTTP/1.1\r\n\r\n",
			want: get(view{URI: "/caf\xc3\xa9/{x}|\"#f", ProtoMinor: 1, ContentLength: -1})},
		{name: "target exactly MaxURILen", limits: small, in: "GET /234567890123456 HTTP/1.1\r\n\r\n",
			want: get(view{URI: "/234567890123456", ProtoMinor: 1, ContentLength: -1})},
		{name: "header section exactly MaxHeaderBytes", limits: small,
			in:   "GET / HTTP/1.1\r\n" + "A: 23456789012\r\n" + "B: 23456789\r\n" + "C:\n" + "\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"A: 23456789012", "B: 23456789", "C: "}})},
		{name: "header section exact, two fields", limits: small,
			in:   "GET / HTTP/1.1\r\n" + "A: 23456789012\r\n" + "B: 23456789012\r\n" + "\r\n",
			want: get(view{ProtoMinor: 1, ContentLength: -1, Headers: []string{"A: 23456789012", "B: 23456789012"}})},
		{name: "zero limits mean 512", in: "GET /" + strings.Repeat("a", 511) + " HTTP/1.1\r\n\r\n",
			want: get(view{URI: "/" + strings.Repeat("a", 511), ProtoMinor: 1, ContentLength: -1})},
	}
}

func TestParseAccepts(t *testing.T) {
	for _, tc := range okCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.n
			if want == 0 {
				want = len(tc.in)
			}
			got := parseWhole(tc.limits, []byte(tc.in))
			if got.err != nil || got.n != want {
				t.Fatalf("Parse = %d, %v; want %d, nil", got.n, got.err, want)
			}
			if diff := cmp.Diff(tc.want, got.req); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

type errCase struct {
	name   string
	limits Limits
	in     string
	status int
	// incomplete marks heads refused before their end arrived; the
	// others are also checked with a terminator appended.
	incomplete bool
}

func errCases() []errCase {
	long := strings.Repeat("a", 600)
	return []errCase{
		// Request line.
		{name: "no target", in: "GET\r\n\r\n", status: 400},
		{name: "no version", in: "GET /\r\n\r\n", status: 400},
		{name: "HTTP/0.9 simple request", in: "GET /\n", status: 400},
		{name: "empty method", in: " / HTTP/1.1\r\n\r\n", status: 400},
		{name: "two spaces after method", in: "GET  / HTTP/1.1\r\n\r\n", status: 400},
		{name: "two spaces before version", in: "GET /  HTTP/1.1\r\n\r\n", status: 400},
		{name: "space in target", in: "GET /a b HTTP/1.1\r\n\r\n", status: 400},
		{name: "trailing space", in: "GET / HTTP/1.1 \r\n\r\n", status: 400},
		{name: "tab separator", in: "GET\t/ HTTP/1.1\r\n\r\n", status: 400},
		{name: "control char in target", in: "GET /a\x01b HTTP/1.1\r\n\r\n", status: 400},
		{name: "DEL in target", in: "GET /a\x7fb HTTP/1.1\r\n\r\n", status: 400},
		{name: "NUL in target", in: "GET /\x00 HTTP/1.1\r\n\r\n", status: 400},
		{name: "relative target", in: "GET a/b HTTP/1.1\r\n\r\n", status: 400},
		{name: "star for GET", in: "GET * HTTP/1.1\r\n\r\n", status: 400},
		{name: "star with more", in: "OPTIONS *x HTTP/1.1\r\n\r\n", status: 400},
		{name: "other scheme", in: "GET ftp://h/ HTTP/1.1\r\n\r\n", status: 400},
		{name: "method with bad byte", in: "G(T / HTTP/1.1\r\n\r\n", status: 400},
		{name: "binary method", in: "\x16\x03\x01\x02\x00\x01\x00", status: 400},
		{name: "lowercase version", in: "GET / http/1.1\r\n\r\n", status: 400},
		{name: "version letters", in: "GET / HTTP/1.x\r\n\r\n", status: 400},
		{name: "version no dot", in: "GET / HTTP/11\r\n\r\n", status: 400},
		{name: "version two digits", in: "GET / HTTP/1.10\r\n\r\n", status: 400},
		{name: "version major two digits", in: "GET / HTTP/10.1\r\n\r\n", status: 400},
		{name: "bare version line", in: "HTTP/1.1\r\n\r\n", status: 400},
		{name: "CR alone ends request line", in: "GET / HTTP/1.1\rHost: h\r\n\r\n", status: 400},
		{name: "CR CR LF", in: "GET / HTTP/1.1\r\r\n\r\n", status: 400},
		{name: "CR alone in leading line", in: "\rGET / HTTP/1.1\r\n\r\n", status: 400},
		{name: "too many leading empty lines", in: "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", status: 400},
		{name: "unknown method", in: "FOO / HTTP/1.1\r\n\r\n", status: 501},
		{name: "lowercase method", in: "get / HTTP/1.1\r\n\r\n", status: 501},
		{name: "method longer than any known", in: "UNSUBSCRIBES / HTTP/1.1\r\n\r\n", status: 501},
		{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\n\r\n", status: 505},
		{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\n\r\n", status: 505},
		{name: "HTTP/0.9", in: "GET / HTTP/0.9\r\n\r\n", status: 505},
		{name: "HTTP/9.9", in: "GET / HTTP/9.9\n\n", status: 505},
		{name: "target too long", limits: small, in: "GET /2345678901234567 HTTP/1.1\r\n\r\n", status: 414},
		{name: "target too long, default", in: "GET /" + long + " HTTP/1.1\r\n\r\n", status: 414},

		// Header fields.
		{name: "no colon", in: "GET / HTTP/1.1\r\nHost\r\n\r\n", status: 400},
		{name: "no colon LF", in: "GET / HTTP/1.1\nHost h\n\n", status: 400},
		{name: "empty name", in: "GET / HTTP/1.1\r\n: v\r\n\r\n", status: 400},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400},
		{name: "tab before colon", in: "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", status: 400},
		{name: "non-token in name", in: "GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", status: 400},
		{name: "UTF-8 in name", in: "GET / HTTP/1.1\r\nH\xc3\xa9: h\r\n\r\n", status: 400},
		{name: "control in name start", in: "GET / HTTP/1.1\r\n\x01A: h\r\n\r\n", status: 400},
		{name: "NUL in value", in: "GET / HTTP/1.1\r\nA: x\x00y\r\n\r\n", status: 400},
		{name: "control in value", in: "GET / HTTP/1.1\r\nA: x\x1by\r\n\r\n", status: 400},
		{name: "DEL in value", in: "GET / HTTP/1.1\r\nA: x\x7f\r\n\r\n", status: 400},
		{name: "CR in value", in: "GET / HTTP/1.1\r\nA: x\ry\r\n\r\n", status: 400},
		{name: "CR alone ends field", in: "GET / HTTP/1.1\r\nA: x\rB: y\r\n\r\n", status: 400},
		{name: "CR alone ends head", in: "GET / HTTP/1.1\r\nA: x\r\n\r\r\n", status: 400},
		{name: "obs-fold SP", in: "GET / HTTP/1.1\r\nA: x\r\n y\r\n\r\n", status: 400},
		{name: "obs-fold HTAB", in: "GET / HTTP/1.1\r\nA: x\r\n\ty\r\n\r\n", status: 400},
		{name: "space before first field", in: "GET / HTTP/1.1\r\n Host: h\r\n\r\n", status: 400},

		// Content-Length.
		{name: "CL negative", in: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", status: 400},
		{name: "CL plus sign", in: "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", status: 400},
		{name: "CL hex", in: "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", status: 400},
		{name: "CL empty", in: "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", status: 400},
		{name: "CL space inside", in: "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", status: 400},
		{name: "CL list form", in: "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", status: 400},
		{name: "CL decimal point", in: "POST / HTTP/1.1\r\nContent-Length: 1.0\r\n\r\n", status: 400},
		{name: "CL overflow", in: "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", status: 400},
		{name: "CL huge", in: "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", status: 400},
		{name: "CL conflicting", in: "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", status: 400},
		{name: "CL then TE", in: "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
		{name: "TE then CL", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", status: 400},

		// Transfer-Encoding.
		{name: "TE chunked twice in a field", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", status: 400},
		{name: "TE chunked twice in two fields", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
		{name: "TE chunked not last", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400},
		{name: "TE chunked not last across fields", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", status: 400},
		{name: "TE empty", in: "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", status: 400},
		{name: "TE only commas", in: "POST / HTTP/1.1\r\nTransfer-Encoding: , ,\r\n\r\n", status: 400},
		{name: "TE gzip", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", status: 501},
		{name: "TE identity", in: "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", status: 501},
		{name: "TE gzip, chunked", in: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501},
		{name: "TE chunked with parameter", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", status: 501},
		{name: "TE chunkedx", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", status: 501},

		// Header section size.
		{name: "header section over in value", limits: small,
			in: "GET / HTTP/1.1\r\n" + "A: 23456789012\r\n" + "B: 23456789012345\r\n" + "\r\n", status: 431},
		{name: "header section over at CR", limits: small,
			in: "GET / HTTP/1.1\r\n" + "A: 23456789012\r\n" + "B: 2345678901234\r\n" + "\r\n", status: 431},
		{name: "header section over at LF", limits: small,
			in: "GET / HTTP/1.1\r\n" + "A: 23456789012\r\n" + "B: 234567890123\r\n" + "\r\n", status: 431},
		{name: "header section over at line start", limits: small,
			in: "GET / HTTP/1.1\r\n" + "A: 23456789012\r\n" + "B: 23456789012\r\n" + "C:\n" + "\r\n", status: 431},
		{name: "header section too large, default", in: "GET / HTTP/1.1\r\nA: " + long + "\r\n\r\n", status: 431},

		// Refused before the end of the head arrives.
		{name: "endless target", limits: small, in: "GET /" + strings.Repeat("x", 16), status: 414, incomplete: true},
		{name: "endless target, default", in: "GET /" + long, status: 414, incomplete: true},
		{name: "endless target after bad method", in: "GE\x01T /" + long, status: 400, incomplete: true},
		{name: "endless method", in: strings.Repeat("A", 40), status: 501, incomplete: true},
		{name: "endless version", in: "GET / HTTP/1.11111", status: 400, incomplete: true},
		{name: "endless field", limits: small, in: "GET / HTTP/1.1\r\nA: " + strings.Repeat("x", 40), status: 431, incomplete: true},
		{name: "endless field name", limits: small, in: "GET / HTTP/1.1\r\n" + strings.Repeat("x", 40), status: 431, incomplete: true},
		{name: "endless OWS", limits: small, in: "GET / HTTP/1.1\r\nA:" + strings.Repeat(" ", 40), status: 431, incomplete: true},
		{name: "endless fields, default", in: "GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", 100), status: 431, incomplete: true},
		{name: "endless leading lines", in: strings.Repeat("\r\n", 10), status: 400, incomplete: true},
		{name: "endless bad field", in: "GET / HTTP/1.1\r\nA: b\r\nC\x00", status: 400, incomplete: true},
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errCases() {
		t.Run(tc.name, func(t *testing.T) {
			inputs := []string{tc.in}
			if tc.incomplete {
				inputs = append(inputs, tc.in+" HTTP/1.1\r\nA: b\r\n\r\n")
			}
			for _, in := range inputs {
				got := parseWhole(tc.limits, []byte(in))
				if got.err == nil || got.err == ErrIncomplete {
					t.Fatalf("Parse(%q) = %d, %v; want status %d", in, got.n, got.err, tc.status)
				}
				if s := statusOf(got.err); s != tc.status {
					t.Errorf("Parse(%q) = %v, status %d; want %d", in, got.err, s, tc.status)
				}
				if !strings.HasPrefix(got.err.Error(), "h1: ") {
					t.Errorf("error text %q lacks the h1: prefix", got.err)
				}
			}
		})
	}
}

// TestParsePrefixes checks that no prefix of a head succeeds, that a
// prefix either needs more bytes or already has the final verdict, and
// that the verdict is the same however the head is split into calls.
func TestParsePrefixes(t *testing.T) {
	type tcase struct {
		name   string
		limits Limits
		in     string
	}
	var all []tcase
	for _, c := range okCases() {
		all = append(all, tcase{c.name, c.limits, c.in})
	}
	for _, c := range errCases() {
		all = append(all, tcase{c.name, c.limits, c.in})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			checkPrefixes(t, tc.limits, []byte(tc.in))
			whole := parseWhole(tc.limits, []byte(tc.in))
			if got := parseSplit(tc.limits, []byte(tc.in), []int{1}); !got.equal(whole) {
				t.Errorf("byte by byte: %v\nwhole: %v", got, whole)
			}
			for range 20 {
				steps := []int{rng.IntN(8) + 1, rng.IntN(40) + 1, rng.IntN(3) + 1}
				if got := parseSplit(tc.limits, []byte(tc.in), steps); !got.equal(whole) {
					t.Errorf("steps %v: %v\nwhole: %v", steps, got, whole)
				}
			}
		})
	}
}

// checkPrefixes parses every prefix of buf with a fresh parser: each must
// be ErrIncomplete until the first that is not, and every longer one must
// give that same result.
func checkPrefixes(t *testing.T, l Limits, buf []byte) {
	t.Helper()
	var first *result
	for k := 0; k <= len(buf); k++ {
		r := parseWhole(l, buf[:k])
		if first == nil {
			if r.err != ErrIncomplete {
				first = &r
			}
			continue
		}
		if !r.equal(*first) {
			t.Fatalf("prefix %d: %v; a shorter prefix had %v", k, r, *first)
		}
	}
}

func TestParseStickyAndReset(t *testing.T) {
	var p Parser
	var req Request
	in := []byte("GET /a HTTP/1.1\r\nA: b\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
	n, err := p.Parse(in, &req)
	if err != nil || string(req.URI) != "/a" {
		t.Fatalf("first: %d, %v, %q", n, err, req.URI)
	}
	// Asking again without Reset gives the same head.
	if n2, err := p.Parse(in, &req); n2 != n || err != nil || string(req.URI) != "/a" {
		t.Fatalf("again: %d, %v, %q", n2, err, req.URI)
	}
	p.Reset()
	n2, err := p.Parse(in[n:], &req)
	if err != nil || n2 != len(in)-n || string(req.URI) != "/b" || len(req.Headers) != 0 || !req.Close {
		t.Fatalf("second: %d, %v, %+v", n2, err, viewOf(&req))
	}

	p.Reset()
	_, err = p.Parse([]byte("BREW / HTTP/1.1\r\n"), &req)
	if statusOf(err) != 501 {
		t.Fatalf("BREW: %v", err)
	}
	if _, err2 := p.Parse([]byte("BREW / HTTP/1.1\r\n\r\n"), &req); err2 != err {
		t.Fatalf("error not sticky: %v", err2)
	}
	p.Reset()
	if _, err := p.Parse([]byte("GET / HTTP/1.1\r\n\r\n"), &req); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestParseLeavesRequestAloneUntilDone(t *testing.T) {
	var p Parser
	req := Request{URI: []byte("old"), Method: MethodPut}
	in := "GET /new HTTP/1.1\r\nA: b\r\n"
	for k := 1; k <= len(in); k++ {
		if _, err := p.Parse([]byte(in[:k]), &req); err != ErrIncomplete {
			t.Fatalf("prefix %d: %v", k, err)
		}
	}
	if string(req.URI) != "old" || req.Method != MethodPut {
		t.Fatalf("request changed before the head was complete: %+v", viewOf(&req))
	}
}

// TestParseShrunkBuffer covers a caller that breaks the growing-buffer
// contract: the parser must start over, not index past the end.
func TestParseShrunkBuffer(t *testing.T) {
	var p Parser
	var req Request
	if _, err := p.Parse([]byte("GET /abcdef HTTP/1.1\r\nA: b"), &req); err != ErrIncomplete {
		t.Fatal(err)
	}
	n, err := p.Parse([]byte("GET / HTTP/1.1\n\n"), &req)
	if err != nil || n != 16 || string(req.URI) != "/" {
		t.Fatalf("%d, %v, %q", n, err, req.URI)
	}
}

func TestParseSlicesAreCapped(t *testing.T) {
	var p Parser
	var req Request
	in := []byte("GET /a HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n")
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	_ = append(req.Headers[0].Value, "XXXX"...)
	_ = append(req.Headers[0].Name, "XXXX"...)
	_ = append(req.URI, "XXXX"...)
	if !bytes.Equal(in, []byte("GET /a HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n")) {
		t.Fatalf("append through a parsed slice changed the buffer: %q", in)
	}
}

func TestRequestHeader(t *testing.T) {
	var p Parser
	var req Request
	in := []byte("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nx-dup: 2\r\nEmpty:\r\n\r\n")
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"host", "h", true},
		{"HOST", "h", true},
		{"X-DUP", "1", true},
		{"empty", "", true},
		{"Hos", "", false},
		{"Hostt", "", false},
		{"", "", false},
	} {
		v, ok := req.Header(tc.name)
		if ok != tc.ok || string(v) != tc.want {
			t.Errorf("Header(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.ok)
		}
	}
	// Case folding is ASCII only: '@' and '`' differ by 0x20 too.
	req.Headers = []Header{{Name: []byte("@"), Value: []byte("x")}}
	if _, ok := req.Header("`"); ok {
		t.Error(`"@" matched "` + "`" + `"`)
	}
}

// TestParseDripIsLinear drips a large head one byte at a time. A parser
// that rescanned from the start on every call would need about
// size²/2 = 5·10¹⁰ byte visits here and take minutes; a linear one takes
// milliseconds, so the generous bound cannot flake.
func TestParseDripIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const size = 320 << 10
	var b bytes.Buffer
	b.WriteString("GET /" + strings.Repeat("u", 60<<10) + " HTTP/1.1\r\n")
	for b.Len() < size-100 {
		b.WriteString("X-Filler: " + strings.Repeat("v", 1000) + "\r\n")
	}
	b.WriteString("\r\n")
	head := b.Bytes()
	p := Parser{Limits: Limits{MaxURILen: 64 << 10, MaxHeaderBytes: size}}
	var req Request
	start := time.Now()
	for k := 1; k < len(head); k++ {
		if _, err := p.Parse(head[:k], &req); err != ErrIncomplete {
			t.Fatalf("prefix %d: %v", k, err)
		}
	}
	if n, err := p.Parse(head, &req); err != nil || n != len(head) {
		t.Fatalf("whole: %d, %v", n, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dripping %d bytes took %v: the parser rescans", len(head), d)
	}
}

// TestSkipRuns checks the word-at-a-time scans against byte-by-byte
// definitions, with every byte value at every offset of a word and random
// words mixing the bytes around the thresholds.
func TestSkipRuns(t *testing.T) {
	naive := func(b []byte, i, end int, ok func(byte) bool) int {
		for i < end && ok(b[i]) {
			i++
		}
		return i
	}
	check := func(b []byte) {
		t.Helper()
		for i := range min(len(b), 9) + 1 {
			for _, end := range []int{len(b), max(i, len(b)-3)} {
				if got, want := skipValue(b, i, end), naive(b, i, end, isValueByte); got != want {
					t.Fatalf("skipValue(%q, %d, %d) = %d, want %d", b, i, end, got, want)
				}
				if got, want := skipTarget(b, i, end), naive(b, i, end, isTargetByte); got != want {
					t.Fatalf("skipTarget(%q, %d, %d) = %d, want %d", b, i, end, got, want)
				}
			}
		}
	}
	base := []byte("abcdefghijklmnopqrstuvwxyz0123")
	for c := range 256 {
		for off := range len(base) {
			b := append([]byte(nil), base...)
			b[off] = byte(c)
			check(b)
		}
	}
	interesting := []byte{0, 1, '\t', '\n', '\r', 0x1f, ' ', '!', 'a', 0x7e, 0x7f, 0x80, 0x81, 0xff}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = interesting[rng.IntN(len(interesting))]
			} else {
				b[i] = byte(rng.IntN(0x5e) + 0x21)
			}
		}
		check(b)
	}
}
