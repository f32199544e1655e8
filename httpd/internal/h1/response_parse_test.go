package h1

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int // 0: the whole input
		want Response
		err  error
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", n: 64,
			want: Response{Code: 200, Fields: []Field{{"Content-Type", "text/plain"}}, ContentLength: 5}},
		{name: "chunked wins", in: "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\nX-A:  v \r\n\r\n",
			want: Response{Code: 201, Fields: []Field{{"X-A", "v"}}, ContentLength: -1, Chunked: true}},
		{name: "no reason, connection fields dropped", in: "HTTP/1.0 204\r\nConnection: close\r\nKeep-Alive: 5\r\nUpgrade: x\r\n\r\n",
			want: Response{Code: 204, ContentLength: -1}},
		{name: "incomplete", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", err: ErrIncompleteResponse},
		{name: "not http", in: "HTTP/2 200\r\n\r\n", err: ErrMalformedResponse},
		{name: "bad code", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: ErrMalformedResponse},
		{name: "code below 100", in: "HTTP/1.1 099 OK\r\n\r\n", err: ErrMalformedResponse},
		{name: "two lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", err: ErrMalformedResponse},
		{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: ErrMalformedResponse},
		{name: "unrelayable coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", err: ErrMalformedResponse},
		{name: "no colon", in: "HTTP/1.1 200 OK\r\nX-A\r\n\r\n", err: ErrMalformedResponse},
		{name: "bad name", in: "HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n", err: ErrMalformedResponse},
		{name: "control byte in value", in: "HTTP/1.1 200 OK\r\nX-A: 1\x00\r\n\r\n", err: ErrMalformedResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Response
			n, err := ParseResponse([]byte(tc.in), &r)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			want := tc.n
			if want == 0 {
				want = len(tc.in)
			}
			if n != want {
				t.Errorf("n = %d, want %d", n, want)
			}
			if diff := cmp.Diff(tc.want, r, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
