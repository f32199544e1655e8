package h1

import (
	"strings"
	"testing"
)

func TestAppendResponseHead(t *testing.T) {
	for _, tc := range []struct {
		name string
		head ResponseHead
		want string
	}{
		{"plain", ResponseHead{Status: "200 OK", ContentType: "text/html", ContentLength: 5},
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n"},
		{"empty body", ResponseHead{Status: "200 OK", ContentType: "text/plain"},
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"},
		{"no body", ResponseHead{Status: "304 Not Modified", ContentType: "text/html", Framing: FramingNone,
			Fields: []Field{{"ETag", `"x"`}}},
			"HTTP/1.1 304 Not Modified\r\nContent-Type: text/html\r\nETag: \"x\"\r\n\r\n"},
		{"chunked", ResponseHead{Status: "200 OK", ContentType: "application/json", Framing: FramingChunked},
			"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"until close", ResponseHead{Status: "200 OK", ContentType: "text/html", Framing: FramingClose, Connection: ConnClose},
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"},
		{"fields in order, then close", ResponseHead{Status: "404 Not Found", ContentType: "text/html", ContentLength: 1 << 40,
			Fields: []Field{{"X-B", "2"}, {"X-A", ""}, {"Set-Cookie", "a=b; Path=/"}}, Connection: ConnClose},
			"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 1099511627776\r\n" +
				"X-B: 2\r\nX-A: \r\nSet-Cookie: a=b; Path=/\r\nConnection: close\r\n\r\n"},
		{"a said connection replaces the handler's", ResponseHead{Status: "200 OK", ContentType: "text/html",
			Fields: []Field{{"connection", "keep-alive"}, {"X-A", "1"}}, Connection: ConnClose},
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\nX-A: 1\r\nConnection: close\r\n\r\n"},
		{"keep-alive for HTTP/1.0", ResponseHead{Status: "200 OK", ContentType: "text/html", ContentLength: 2, Connection: ConnKeepAlive},
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n"},
		{"unsaid keeps the handler's", ResponseHead{Status: "200 OK", ContentType: "text/html",
			Fields: []Field{{"Connection", "upgrade"}}},
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: upgrade\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte("keep")
			got := AppendResponseHead(prefix, &tc.head)
			if string(got) != "keep"+tc.want {
				t.Errorf("got  %q\nwant %q", got, "keep"+tc.want)
			}
		})
	}
}

func TestAppendChunk(t *testing.T) {
	for _, tc := range []struct {
		data string
		want string
	}{
		{"", "0\r\n\r\n"},
		{"a", "1\r\na\r\n"},
		{strings.Repeat("x", 255), "ff\r\n" + strings.Repeat("x", 255) + "\r\n"},
		{strings.Repeat("x", 4096), "1000\r\n" + strings.Repeat("x", 4096) + "\r\n"},
	} {
		if got := AppendChunk([]byte("p"), []byte(tc.data)); string(got) != "p"+tc.want {
			t.Errorf("AppendChunk(%d bytes) = %.20q", len(tc.data), got)
		}
	}
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "0\r\n"},
		{-7, "0\r\n"},
		{10, "a\r\n"},
		{0xbeef, "beef\r\n"},
		{1<<63 - 1, "7fffffffffffffff\r\n"},
	} {
		if got := AppendChunkHeader(nil, tc.n); string(got) != tc.want {
			t.Errorf("AppendChunkHeader(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestValidField(t *testing.T) {
	for _, tc := range []struct {
		s     string
		name  bool
		value bool
	}{
		{"", false, true},
		{"Content-Type", true, true},
		{"X-!#$%&'*+-.^_`|~09", true, true},
		{"a b", false, true},
		{"a\tb", false, true},
		{"a:b", false, true},
		{"caf\xc3\xa9", false, true},
		{"a\rb", false, false},
		{"a\nb", false, false},
		{"a\x00b", false, false},
		{"a\x1fb", false, false},
		{"a\x7fb", false, false},
		{"(x)", false, true},
		{"\"q\"", false, true},
	} {
		if got := ValidFieldName(tc.s); got != tc.name {
			t.Errorf("ValidFieldName(%q) = %v", tc.s, got)
		}
		if got := ValidFieldValue(tc.s); got != tc.value {
			t.Errorf("ValidFieldValue(%q) = %v", tc.s, got)
		}
	}
}

// TestResponseParsesBack checks that a head with valid fields is a valid
// HTTP/1.1 message: this package's own parser reads it back as a request
// would be read, after swapping the status line for a request line.
func TestResponseParsesBack(t *testing.T) {
	fields := []Field{{"X-A", "1"}, {"Cache-Control", "no-store"}}
	head := AppendResponseHead(nil, &ResponseHead{Status: "200 OK", ContentType: "text/plain", ContentLength: 12, Fields: fields, Connection: ConnClose})
	_, rest, _ := strings.Cut(string(head), "\r\n")
	var p Parser
	var req Request
	in := []byte("GET / HTTP/1.1\r\n" + rest)
	if _, err := p.Parse(in, &req); err != nil {
		t.Fatal(err)
	}
	if req.ContentLength != 12 || !req.Close || len(req.Headers) != 5 {
		t.Fatalf("%+v", viewOf(&req))
	}
}
