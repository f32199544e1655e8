package httpd_test

// Fuzz targets for the query and cookie helpers (issue 8). Each checks an
// invariant against a slow reference written here, not just the absence of
// a panic. Seed corpora live in testdata/fuzz/<target>/; .ci/fuzz.sh runs
// every target in the repository for a bounded time.

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/esphttpd/esphttpd/httpd"
)

// refQueryKeyValue is httpd_query_key_value as QueryKeyValue documents it,
// scanned byte by byte: pairs split at '&', a pair without '=' skipped, the
// key compared without regard to case, the first match's value returned
// undecoded.
func refQueryKeyValue(query, key string) (string, bool) {
	for start := 0; start <= len(query); {
		end := start
		for end < len(query) && query[end] != '&' {
			end++
		}
		for eq := start; eq < end; eq++ {
			if query[eq] == '=' {
				if strings.EqualFold(query[start:eq], key) {
					return query[eq+1 : end], true
				}
				break
			}
		}
		start = end + 1
	}
	return "", false
}

func FuzzQueryKeyValue(f *testing.F) {
	f.Add("a=1&b=2", "b")
	f.Add("A=1&a=2", "a")
	f.Add("flag&key=v", "key")
	f.Add("key=a=b&key=c", "KEY")
	f.Add("=empty&x=", "")
	f.Add("&&k=v&&", "k")
	f.Add("k=v%20w+x&q", "k")
	f.Fuzz(func(t *testing.T, query, key string) {
		got, err := httpd.QueryKeyValue(query, key)
		want, ok := refQueryKeyValue(query, key)
		if ok != (err == nil) || got != want {
			t.Fatalf("QueryKeyValue(%q, %q) = %q, %v; reference %q, found %v", query, key, got, err, want, ok)
		}
		if err != nil && !errors.Is(err, httpd.ErrNotFound) {
			t.Fatalf("QueryKeyValue(%q, %q): error %v, want ErrNotFound", query, key, err)
		}
		if err == nil && strings.Contains(got, "&") {
			t.Fatalf("QueryKeyValue(%q, %q) = %q crosses a pair boundary", query, key, got)
		}
		// A pair put first is always the one found.
		if !strings.ContainsAny(key, "&=") {
			v := strings.ReplaceAll(got, "&", "")
			if got2, err := httpd.QueryKeyValue(key+"="+v+"&"+query, key); err != nil || got2 != v {
				t.Fatalf("prepended pair %q=%q: got %q, %v", key, v, got2, err)
			}
		}
	})
}

// refCookieKeyValue is httpd_cookie_key_value as CookieKeyValue documents
// it: pairs split at ';' with surrounding white space ignored, names
// compared without regard to case (strncasecmp, as ESP-IDF), the first
// match's value returned as sent.
func refCookieKeyValue(cookies, name string) (string, bool) {
	for _, part := range strings.Split(cookies, ";") {
		part = strings.TrimSpace(part)
		if i := strings.IndexByte(part, '='); i >= 0 && strings.EqualFold(part[:i], name) {
			return part[i+1:], true
		}
	}
	return "", false
}

func FuzzCookieKeyValue(f *testing.F) {
	f.Add("a=1; b=2", "b")
	f.Add("session=\"quoted value\"; x=y", "session")
	f.Add("A=1; a=2", "a")
	f.Add(" a = 1 ;b=2", "a ")
	f.Add("k=v=w;k=2", "k")
	f.Add("noeq; k=v", "noeq")
	f.Add("k=\t v \t", "k")
	f.Fuzz(func(t *testing.T, cookies, name string) {
		got, err := httpd.CookieKeyValue(cookies, name)
		want, ok := refCookieKeyValue(cookies, name)
		if ok != (err == nil) || got != want {
			t.Fatalf("CookieKeyValue(%q, %q) = %q, %v; reference %q, found %v", cookies, name, got, err, want, ok)
		}
		if err != nil && !errors.Is(err, httpd.ErrNotFound) {
			t.Fatalf("CookieKeyValue(%q, %q): error %v, want ErrNotFound", cookies, name, err)
		}
		// Where net/http parses the header as valid cookies, both agree on
		// every name: same value (quotes kept by ours), same first match,
		// names compared without regard to case.
		parsed, perr := http.ParseCookie(cookies)
		if perr != nil {
			return
		}
		var seen []string
		seenFold := func(name string) bool {
			for _, s := range seen {
				if strings.EqualFold(s, name) {
					return true
				}
			}
			return false
		}
		for _, c := range parsed {
			if seenFold(c.Name) {
				continue
			}
			seen = append(seen, c.Name)
			v := c.Value
			if c.Quoted {
				v = `"` + v + `"`
			}
			if got, err := httpd.CookieKeyValue(cookies, c.Name); err != nil || got != v {
				t.Fatalf("CookieKeyValue(%q, %q) = %q, %v; net/http says %q", cookies, c.Name, got, err, v)
			}
		}
		if !seenFold(name) && err == nil {
			t.Fatalf("CookieKeyValue(%q, %q) = %q; net/http has no such cookie", cookies, name, got)
		}
	})
}

// refURLDecode decodes "%XX" and '+' and nothing else; a '%' without two
// hex digits is an error.
func refURLDecode(s string) (string, bool) {
	unhex := func(c byte) int {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0')
		case 'a' <= c && c <= 'f':
			return int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			return int(c-'A') + 10
		}
		return -1
	}
	var out []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, lo := unhex(s[i+1]), unhex(s[i+2])
			if hi < 0 || lo < 0 {
				return "", false
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		case '+':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return string(out), true
}

func FuzzURLDecode(f *testing.F) {
	f.Add("a%20b+c")
	f.Add("%zz")
	f.Add("%4")
	f.Add("100%")
	f.Add("%E2%82%AC+%e2%82%ac")
	f.Add("%00%0d%0a")
	f.Add("caf\xc3\xa9")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := httpd.URLDecode(s)
		want, ok := refURLDecode(s)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("URLDecode(%q) = %q, %v; reference %q, ok %v", s, got, err, want, ok)
		}
		// Whatever is encoded decodes back to itself.
		enc := url.QueryEscape(s)
		if back, err := httpd.URLDecode(enc); err != nil || back != s {
			t.Fatalf("URLDecode(%q) = %q, %v; want %q", enc, back, err, s)
		}
		if err == nil && utf8.ValidString(s) && !strings.ContainsAny(s, "%+") && got != s {
			t.Fatalf("URLDecode(%q) = %q changed a string with nothing to decode", s, got)
		}
	})
}
