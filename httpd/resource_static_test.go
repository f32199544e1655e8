package httpd

import "testing"

// TestAcceptsEncoding pins the Accept-Encoding rules the static resource
// and the file server share: a named coding decides over "*".
func TestAcceptsEncoding(t *testing.T) {
	for _, tc := range []struct {
		accept, enc string
		want        bool
	}{
		{"", "gzip", false},
		{"gzip", "gzip", true},
		{"x-gzip", "gzip", true},
		{"x-gzip", "br", false},
		{"br;q=0.5", "br", true},
		{"gzip;q=0", "gzip", false},
		{"gzip;q=0, *", "gzip", false},
		{"*;q=0, gzip", "gzip", true},
		{"*", "br", true},
		{"*;q=0", "br", false},
		{"gzip;q=x", "gzip", false},
		{"deflate, GZIP ; Q=0.1", "gzip", true},
	} {
		if got := acceptsEncoding(tc.accept, tc.enc); got != tc.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v, want %v", tc.accept, tc.enc, got, tc.want)
		}
	}
}
