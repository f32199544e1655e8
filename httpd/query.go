package httpd

import (
	"net/url"
	"strings"
)

// QueryKeyValue returns the value of key in a query string of the form
// "k1=v1&k2=v2" (httpd_query_key_value), or ErrNotFound. Like ESP-IDF it does
// not decode, and compares keys without regard to case; unlike ESP-IDF's
// parser, a pair without '=' is skipped rather than ending the search. Use
// URLDecode on the result for form-encoded values.
func QueryKeyValue(query, key string) (string, error) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, v, ok := strings.Cut(pair, "=")
		if ok && strings.EqualFold(k, key) {
			return v, nil
		}
	}
	return "", ErrNotFound
}

// CookieKeyValue returns the value of the named cookie in a Cookie header
// value "a=1; b=2" (httpd_cookie_key_value), or ErrNotFound. Like
// ESP-IDF's, it compares names without regard to case; the value is
// returned as sent, quotes included.
func CookieKeyValue(cookies, name string) (string, error) {
	for cookies != "" {
		var pair string
		pair, cookies, _ = strings.Cut(cookies, ";")
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(k, name) {
			return v, nil
		}
	}
	return "", ErrNotFound
}

// URLDecode decodes a form-encoded query component: "%XX" escapes and '+'
// for space. ESP-IDF leaves this to the application (its examples carry an
// example_uri_decode); this is the Go equivalent.
func URLDecode(s string) (string, error) {
	return url.QueryUnescape(s)
}
