package uri_match

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The matchers are meant to be plugged into a server as MatchFuncs.
var (
	_ MatchFunc = Exact
	_ MatchFunc = Wildcard
	_ MatchFunc = FnmatchURI
)

func TestExact(t *testing.T) {
	for _, tc := range []struct {
		template, uri string
		want          bool
	}{
		{"/foo", "/foo", true},
		{"", "", true},
		{"/foo", "/foo/", false},
		{"/foo/", "/foo", false},
		{"/foo", "/fo", false},
		{"/foo", "/Foo", false},
		{"/foo*", "/foobar", false},
		{"/foo?", "/foo", false},
		{"/foo?", "/foo?", true},
		{"*", "/x", false},
	} {
		if got := Exact(tc.template, tc.uri); got != tc.want {
			t.Errorf("Exact(%q, %q) = %v, want %v", tc.template, tc.uri, got, tc.want)
		}
	}
}

type wildcardCase struct {
	template, uri string
	want          bool
}

// Every example given in ESP-IDF's documentation of
// httpd_uri_match_wildcard.
var wildcardDocCases = []wildcardCase{
	{"*", "", true},
	{"*", "/", true},
	{"*", "/foo", true},
	{"*", "/foo/bar?x", true},

	{"/foo/?", "/foo", true},
	{"/foo/?", "/foo/", true},
	{"/foo/?", "/foo/bar", false},
	{"/foo/?", "/fo", false},
	{"/foo/?", "/foox", false},

	{"/foo/*", "/foo/", true},
	{"/foo/*", "/foo/bar", true},
	{"/foo/*", "/foo/bar/baz", true},
	{"/foo/*", "/foo", false},
	{"/foo/*", "/fo", false},
	{"/foo/*", "/foox", false},

	{"/foo/?*", "/foo/", true},
	{"/foo/?*", "/foo/bar", true},
	{"/foo/?*", "/foo", true},
	{"/foo/?*", "/foox", false},
	{"/foo/?*", "/fo", false},

	{"/foo/*?", "/foo/", true},
	{"/foo/*?", "/foo/bar", true},
	{"/foo/*?", "/foo", true},
	{"/foo/*?", "/foox", false},
	{"/foo/*?", "/fo", false},
}

// Cases the documentation does not spell out, derived from ESP-IDF's
// arithmetic in httpd_uri.c.
var wildcardEdgeCases = []wildcardCase{
	// No special suffix: plain equality.
	{"", "", true},
	{"", "/", false},
	{"/foo", "/foo", true},
	{"/foo", "/foo/", false},
	{"/foo", "/fo", false},
	{"/foo", "/Foo", false},

	// Too short for the byte the suffix refers to: never matches.
	{"?", "", false},
	{"?", "?", false},
	{"?", "a", false},
	{"?*", "", false},
	{"?*", "?", false},
	{"?*", "?*", false},
	{"*?", "", false},
	{"*?", "*", false},
	{"*?", "*?", false},

	// One byte before a two-byte suffix: it alone is optional.
	{"a?", "", true},
	{"a?", "a", true},
	{"a?", "b", false},
	{"a?", "aa", false},
	{"a?*", "", true},
	{"a?*", "a", true},
	{"a?*", "abc", true},
	{"a?*", "b", false},
	{"a*?", "", true},
	{"a*?", "axyz", true},
	{"a*?", "x", false},

	// Only the last two bytes count; earlier '?' and '*' are literal.
	{"**", "*", true},
	{"**", "*x", true},
	{"**", "", false},
	{"**", "x", false},
	{"??", "", true},
	{"??", "?", true},
	{"??", "a", false},
	{"??", "??", false},
	{"/a*b", "/a*b", true},
	{"/a*b", "/axb", false},
	{"/a?b", "/ab", false},
	{"/a?b", "/a?b", true},
	{"/?/x*", "/?/xyz", true},
	{"/?/x*", "/a/xyz", false},
	{"/*/x", "/a/x", false},

	// "***" is two literal stars and a wildcard: only a trailing '?' makes
	// anything optional.
	{"/***", "/**", true},
	{"/***", "/**x", true},
	{"/***", "/", false},
	{"/***", "/*", false},

	// A '*' or '?' right before a two-byte suffix is the optional byte.
	{"/?*?", "/", true},
	{"/?*?", "/?", true},
	{"/?*?", "/?anything", true},
	{"/?*?", "/x", false},
	{"/*?*", "/", true},
	{"/*?*", "/*x", true},
	{"/*?*", "/x", false},
	{"/a??", "/a", true},
	{"/a??", "/a?", true},
	{"/a??", "/ab", false},
	{"/a*?*", "/a", true},
	{"/a*?*", "/a*", true},
	{"/a*?*", "/a*b", true},
	{"/a*?*", "/ab", false},

	// With "?*" the tail may only follow the optional byte, not replace it.
	{"/foo/?*", "/foo?", false},
	{"/foo/?*", "/foobar", false},

	// Bytes are compared as they are.
	{"/\x00?", "/", true},
	{"/\x00?", "/\x00", true},
	{"/\x00?", "/x", false},
	{"/caf\xc3\xa9*", "/caf\xc3\xa9/x", true},
	{"/caf\xc3\xa9*", "/caf\xc3", false},
}

func TestWildcard(t *testing.T) {
	for _, cases := range [][]wildcardCase{wildcardDocCases, wildcardEdgeCases} {
		for _, tc := range cases {
			if got := Wildcard(tc.template, tc.uri); got != tc.want {
				t.Errorf("Wildcard(%q, %q) = %v, want %v", tc.template, tc.uri, got, tc.want)
			}
			if got := refWildcard(tc.template, tc.uri); got != tc.want {
				t.Errorf("reference(%q, %q) = %v, want %v: the reference is wrong", tc.template, tc.uri, got, tc.want)
			}
		}
	}
}

// TestWildcardExhaustive compares Wildcard with the reference on every short
// template and path over an alphabet that contains both special bytes.
func TestWildcardExhaustive(t *testing.T) {
	templates := allStrings("a/?*", 5)
	uris := allStrings("ab/?*", 4)
	for _, tpl := range templates {
		for _, uri := range uris {
			if got, want := Wildcard(tpl, uri), refWildcard(tpl, uri); got != want {
				t.Fatalf("Wildcard(%q, %q) = %v, reference says %v", tpl, uri, got, want)
			}
		}
	}
}

// allStrings lists every string over alphabet of length at most n.
func allStrings(alphabet string, n int) []string {
	out := []string{""}
	level := []string{""}
	for i := 0; i < n; i++ {
		var next []string
		for _, s := range level {
			for j := 0; j < len(alphabet); j++ {
				next = append(next, s+alphabet[j:j+1])
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// wildcardAlt is one way a template can be satisfied: the path equals s, or
// with prefix set, merely starts with s.
type wildcardAlt struct {
	s      string
	prefix bool
}

// refWildcard restates ESP-IDF's wildcard rules as an explicit list of
// alternatives per template shape, so that it shares no arithmetic with
// Wildcard.
func refWildcard(template, uri string) bool {
	for _, alt := range expandWildcard(template) {
		if alt.prefix && strings.HasPrefix(uri, alt.s) || !alt.prefix && uri == alt.s {
			return true
		}
	}
	return false
}

func expandWildcard(t string) []wildcardAlt {
	n := len(t)
	switch {
	case strings.HasSuffix(t, "?*") || strings.HasSuffix(t, "*?"):
		// Optional byte, and if present anything after it.
		if n < 3 {
			return nil
		}
		base := t[:n-3]
		return []wildcardAlt{{base, false}, {t[:n-2], true}}
	case strings.HasSuffix(t, "*"):
		return []wildcardAlt{{t[:n-1], true}}
	case strings.HasSuffix(t, "?"):
		if n < 2 {
			return nil
		}
		return []wildcardAlt{{t[:n-2], false}, {t[:n-1], false}}
	default:
		return []wildcardAlt{{t, false}}
	}
}

type fnmatchCase struct {
	pattern, name string
	flags         Flags
	want          bool
}

var fnmatchCases = []fnmatchCase{
	// Literals, '?' and '*'.
	{"", "", 0, true},
	{"", "a", 0, false},
	{"a", "", 0, false},
	{"abc", "abc", 0, true},
	{"abc", "abd", 0, false},
	{"abc", "ab", 0, false},
	{"abc", "abcd", 0, false},
	{"?", "a", 0, true},
	{"?", "", 0, false},
	{"?", "ab", 0, false},
	{"a?c", "abc", 0, true},
	{"a?c", "ac", 0, false},
	{"??", "\xff\x00", 0, true},
	{"*", "", 0, true},
	{"*", "anything at all", 0, true},
	{"a*", "a", 0, true},
	{"a*", "abc", 0, true},
	{"a*", "ba", 0, false},
	{"*a", "bca", 0, true},
	{"*a", "ab", 0, false},
	{"a*c", "ac", 0, true},
	{"a*c", "abbbc", 0, true},
	{"a*c", "abcd", 0, false},
	{"a*b*c", "aXbYbZc", 0, true},
	{"a*b*c", "aXcYb", 0, false},
	{"*a*b*", "xxaxbxx", 0, true},
	{"***", "x", 0, true},
	{"a**b", "ab", 0, true},
	{"*?", "", 0, false},
	{"*?", "a", 0, true},
	{"?*?", "a", 0, false},
	{"?*?", "ab", 0, true},
	{"*.go", "main.go", 0, true},
	{"*.go", "main.go.bak", 0, false},
	{"*ab", "aab", 0, true},
	{"*aab", "aaab", 0, true},
	{"*abab", "ababab", 0, true},

	// Without PathName a '/' is an ordinary byte.
	{"*", "a/b", 0, true},
	{"a?b", "a/b", 0, true},
	{"a[/]b", "a/b", 0, true},
	{"a[!x]b", "a/b", 0, true},
	{"/api/*", "/api/v1/users", 0, true},

	// Bracket expressions.
	{"[abc]", "a", 0, true},
	{"[abc]", "c", 0, true},
	{"[abc]", "d", 0, false},
	{"[abc]", "", 0, false},
	{"[a-z]", "m", 0, true},
	{"[a-z]", "a", 0, true},
	{"[a-z]", "z", 0, true},
	{"[a-z]", "M", 0, false},
	{"[a-cx-z]", "y", 0, true},
	{"[a-cx-z]", "d", 0, false},
	{"[z-a]", "m", 0, false},
	{"[z-a]", "z", 0, false},
	{"[!a-z]", "m", 0, false},
	{"[!a-z]", "M", 0, true},
	{"[^a-z]", "M", 0, true},
	{"[^a-z]", "m", 0, false},
	{"[!x]", "", 0, false},
	{"[]]", "]", 0, true},
	{"[]]", "a", 0, false},
	{"[]a]", "a", 0, true},
	{"[!]]", "]", 0, false},
	{"[!]]", "a", 0, true},
	{"[^]]", "a", 0, true},
	{"[]-a]", "^", 0, true},
	{"[a-]", "-", 0, true},
	{"[a-]", "b", 0, false},
	{"[-a]", "-", 0, true},
	{"[!-]", "-", 0, false},
	{"[!-]", "a", 0, true},
	{"[a-c-e]", "-", 0, true},
	{"[a-c-e]", "d", 0, false},
	{"[%--]", ",", 0, true},
	{"[!]", "!", 0, false},
	{"[!]", "[!]", 0, true},
	{"[*]", "*", 0, true},
	{"[*]", "a", 0, false},
	{"[?]", "?", 0, true},
	{"[?]", "a", 0, false},
	{"[[]", "[", 0, true},
	{"[a[]", "[", 0, true},
	{"x[ab]y", "xby", 0, true},
	{"x[ab]y", "xcy", 0, false},
	{"*[0-9]", "file7", 0, true},
	{"*[0-9]", "file", 0, false},
	{"[\x80-\xff]", "\xc3", 0, true},
	{"[\x80-\xff]", "a", 0, false},

	// Character classes.
	{"[[:alpha:]]", "q", 0, true},
	{"[[:alpha:]]", "Q", 0, true},
	{"[[:alpha:]]", "1", 0, false},
	{"[[:alpha:]]", "\xe9", 0, false},
	{"[[:digit:]]", "7", 0, true},
	{"[[:digit:]]", "x", 0, false},
	{"[[:alnum:]]", "7", 0, true},
	{"[[:alnum:]]", "_", 0, false},
	{"[[:upper:]]", "A", 0, true},
	{"[[:upper:]]", "a", 0, false},
	{"[[:lower:]]", "a", 0, true},
	{"[[:lower:]]", "A", 0, false},
	{"[[:space:]]", "\t", 0, true},
	{"[[:space:]]", "\v", 0, true},
	{"[[:space:]]", "x", 0, false},
	{"[[:blank:]]", " ", 0, true},
	{"[[:blank:]]", "\n", 0, false},
	{"[[:punct:]]", "~", 0, true},
	{"[[:punct:]]", "$", 0, true},
	{"[[:punct:]]", "a", 0, false},
	{"[[:punct:]]", " ", 0, false},
	{"[[:xdigit:]]", "F", 0, true},
	{"[[:xdigit:]]", "g", 0, false},
	{"[[:cntrl:]]", "\x7f", 0, true},
	{"[[:cntrl:]]", " ", 0, false},
	{"[[:print:]]", " ", 0, true},
	{"[[:print:]]", "\x01", 0, false},
	{"[[:graph:]]", "!", 0, true},
	{"[[:graph:]]", " ", 0, false},
	{"[![:digit:]]", "a", 0, true},
	{"[![:digit:]]", "5", 0, false},
	{"[[:digit:][:upper:]x]", "x", 0, true},
	{"[[:digit:][:upper:]x]", "B", 0, true},
	{"[[:digit:][:upper:]x]", "b", 0, false},
	{"[a[:digit:]]", "3", 0, true},
	// An unknown class makes the outer '[' literal; the inner brackets are
	// then a set of ':', 'f' and 'o', followed by a literal ']'.
	{"[[:foo:]]", "f", 0, false},
	{"[[:foo:]]", "[o]", 0, true},
	{"[[:foo:]]", "[[:foo:]]", 0, false},
	// Not class syntax: "[:" without a lowercase name and ":]".
	{"[[:a]", ":", 0, true},
	{"[[:a]", "[", 0, true},
	{"[[:A:]]", "A]", 0, true},
	// A class cannot end a range, which leaves "[a-" literal.
	{"[a-[:digit:]]", "a", 0, false},
	{"[a-[:digit:]]", "[a-t]", 0, true},
	{"[a-[:digit:]]", "[a-[:digit:]]", 0, false},
	// Single-byte collating symbols and equivalence classes.
	{"[[.a.]]", "a", 0, true},
	{"[[.a.]]", ".", 0, false},
	{"[[.-.]]", "-", 0, true},
	{"[[.a.]-c]", "b", 0, true},
	{"[[=e=]]", "e", 0, true},
	{"[[=e=]]", "f", 0, false},
	{"[[.ab.]]", "a", 0, false},

	// Malformed brackets are literal '['.
	{"[", "[", 0, true},
	{"[", "a", 0, false},
	{"[a", "[a", 0, true},
	{"[a", "a", 0, false},
	{"[]", "[]", 0, true},
	{"[!", "[!", 0, true},
	{"a[b-", "a[b-", 0, true},
	{"[*", "[xyz", 0, true},

	// Escapes.
	{`\*`, "*", 0, true},
	{`\*`, "a", 0, false},
	{`\?`, "?", 0, true},
	{`\?`, "a", 0, false},
	{`\[a]`, "[a]", 0, true},
	{`\[a]`, "a", 0, false},
	{`\a`, "a", 0, true},
	{`\\`, `\`, 0, true},
	{`a\`, `a\`, 0, true},
	{`a\`, "a", 0, false},
	{`*\*`, "x*", 0, true},
	{`*\*`, "x", 0, false},
	{`[\]]`, "]", 0, true},
	{`[\!a]`, "!", 0, true},
	{`[\!a]`, "b", 0, false},
	{`[a\-z]`, "-", 0, true},
	{`[a\-z]`, "m", 0, false},
	{`[\a-c]`, "b", 0, true},
	{`[a-\c]`, "b", 0, true},
	{`[\`, `[\`, 0, true},
	{`[\]`, `[]`, 0, true},

	// NoEscape.
	{`\*`, `\x`, NoEscape, true},
	{`\*`, "*", NoEscape, false},
	{`\\`, `\\`, NoEscape, true},
	{`\\`, `\`, NoEscape, false},
	{`a\`, `a\`, NoEscape, true},
	{`[\]`, `\`, NoEscape, true},
	{`[\]]`, `\]`, NoEscape, true},
	{`[\]]`, "]", NoEscape, false},
	{`[\-a]`, "]", NoEscape, true},

	// PathName.
	{"*", "a/b", PathName, false},
	{"*", "ab", PathName, true},
	{"*/*", "a/b", PathName, true},
	{"*/*", "a/b/c", PathName, false},
	{"a?b", "a/b", PathName, false},
	{"a[/]b", "a/b", PathName, false},
	{"a[/]b", "a[/]b", PathName, true},
	{"a[!x]b", "a/b", PathName, false},
	{"a[!x]b", "ayb", PathName, true},
	{"a[%-0]b", "a/b", PathName, false},
	{"a[%-0]b", "a.b", PathName, true},
	{"a[b/c]d", "a[b/c]d", PathName, true},
	{`a[\/]b`, `a[/]b`, PathName, true},
	{"a[[./.]]b", "a[[./.]]b", PathName, true},
	{"a/b", "a/b", PathName, true},
	{`a\/b`, "a/b", PathName, true},
	{"/api/*", "/api/v1", PathName, true},
	{"/api/*", "/api/v1/users", PathName, false},
	{"/api/*/users", "/api/v1/users", PathName, true},
	{"/api/*/users", "/api/v1/x/users", PathName, false},
	{"/*", "/", PathName, true},
	{"a/", "a", PathName, false},
	{"a", "a/", PathName, false},
	{"a/", "a/", PathName, true},
	{"a//b", "a//b", PathName, true},
	{"a/*/b", "a//b", PathName, true},
	{"/*x*/y", "/axbxc/y", PathName, true},
	{"/*x*/y", "/abc/y", PathName, false},
	{"/[a-z]*/?", "/abc/1", PathName, true},
	{"/[a-z]*/?", "/Abc/1", PathName, false},

	// Period.
	{"*", ".profile", Period, false},
	{"?profile", ".profile", Period, false},
	{"[.]profile", ".profile", Period, false},
	{"[!a]profile", ".profile", Period, false},
	{".*", ".profile", Period, true},
	{`\.*`, ".profile", Period, true},
	{"*.txt", ".txt", Period, false},
	{"*", "a.b", Period, true},
	{"a*", "a.b", Period, true},
	{"*", ".profile", 0, true},
	{"a/*", "a/.b", Period, true},
	{"a/*", "a/.b", PathName | Period, false},
	{"a/.*", "a/.b", PathName | Period, true},
	{"a/?b", "a/.b", PathName | Period, false},
	{"a/[.]b", "a/.b", PathName | Period, false},
	{"*/b", ".a/b", PathName | Period, false},
	{"*/b", "a./b", PathName | Period, true},
	{"a*/b", "a.x/b", PathName | Period, true},
	{"*/.*", "a/.b", PathName | Period, true},
	{"a/*", "a/b.", PathName | Period, true},
	{".", ".", Period, true},
	{"", ".", Period, false},

	// LeadingDir.
	{"/foo*", "/foobar/baz", LeadingDir, true},
	{"/foo*", "/foobar/baz", PathName | LeadingDir, true},
	{"/foo*", "/foobar/baz", PathName, false},
	{"/foo", "/foo/bar", LeadingDir, true},
	{"/foo", "/foo/", LeadingDir, true},
	{"/foo", "/foobar", LeadingDir, false},
	{"/foo", "/foo", LeadingDir, true},
	{"/foo", "/fo", LeadingDir, false},
	{"/foo/", "/foo/bar", LeadingDir | PathName, false},
	{"/foo/", "/foo//bar", LeadingDir | PathName, true},
	{"/foo/*", "/foo/bar/baz", LeadingDir | PathName, true},
	{"/foo/*", "/foo", LeadingDir | PathName, false},
	{"", "/x", LeadingDir, true},
	{"", "/x", LeadingDir | PathName, true},
	{"", "x", LeadingDir, false},
	{"a?c", "a/c/d", LeadingDir, true},
	{"a?c", "a/c/d", LeadingDir | PathName, false},
	{"*/c", "a/b/c/d", LeadingDir, true},
	{"*/c", "a/b/c/d", LeadingDir | PathName, false},
	{"*/b", "a/b/c/d", LeadingDir | PathName, true},

	// CaseFold.
	{"abc", "ABC", CaseFold, true},
	{"ABC", "abc", CaseFold, true},
	{"abc", "ABC", 0, false},
	{"a*Z", "AxxZ", CaseFold, true},
	{"[a-c]", "B", CaseFold, true},
	{"[a-c]", "B", 0, false},
	{"[A-C]", "b", CaseFold, true},
	{"[!a-c]", "B", CaseFold, false},
	{"[[:upper:]]", "a", CaseFold, true},
	{"[[:lower:]]", "A", CaseFold, true},
	{"[[:digit:]]", "a", CaseFold, false},
	{`\A`, "a", CaseFold, true},
	{"@", "`", CaseFold, false},
	{"[", "{", CaseFold, false},
	{"\xc9", "\xe9", CaseFold, false},
	{"/Static/*", "/static/CSS", CaseFold | PathName, true},
}

func TestFnmatch(t *testing.T) {
	for _, tc := range fnmatchCases {
		if got := Fnmatch(tc.pattern, tc.name, tc.flags); got != tc.want {
			t.Errorf("Fnmatch(%q, %q, %s) = %v, want %v", tc.pattern, tc.name, flagString(tc.flags), got, tc.want)
		}
		if got := refFnmatch(tc.pattern, tc.name, tc.flags); got != tc.want {
			t.Errorf("reference(%q, %q, %s) = %v, want %v: the reference is wrong",
				tc.pattern, tc.name, flagString(tc.flags), got, tc.want)
		}
	}
}

func TestFnmatchURI(t *testing.T) {
	for _, tc := range []struct {
		template, uri string
		want          bool
	}{
		{"/", "/", true},
		{"/", "/index.html", false},
		{"/", "//", true},
		{"", "/anything", true},
		{"/index.html", "/index.html", true},
		{"/index.html", "/index.htm", false},
		{"/static/*", "/static/site.css", true},
		{"/static/*", "/static/css/site.css", true},
		{"/static/*", "/static", false},
		{"/static/*", "/staticx/a", false},
		{"/api/*/status", "/api/v1/status", true},
		{"/api/*/status", "/api/v1/x/status", false},
		{"/api/*/status", "/api/v1/status/detail", true},
		{"/foo*", "/foobar/baz", true},
		{"/files/[0-9]*", "/files/42/raw", true},
		{"/files/[0-9]*", "/files/x42", false},
		{"/.well-known/*", "/.well-known/acme", true},
		{"/*", "/.hidden", true},
		{"/a?c", "/a/c", false},
		{"/API", "/api", false},
		// Zephyr also falls back to comparing the resource literally.
		{"/a[b]", "/a[b]", true},
		{"/a[b]", "/ab", true},
		{`/a\b`, `/a\b`, true},
		{`/a\b`, "/ab", true},
	} {
		if got := FnmatchURI(tc.template, tc.uri); got != tc.want {
			t.Errorf("FnmatchURI(%q, %q) = %v, want %v", tc.template, tc.uri, got, tc.want)
		}
	}
}

// TestFnmatchAgainstReference cross-checks Fnmatch with the reference on
// random short inputs drawn from the bytes that carry meaning, so that the
// interplay of features is covered beyond the hand-written table.
func TestFnmatchAgainstReference(t *testing.T) {
	const patternBytes = `ab.-/*?[]!^\:`
	rng := rand.New(rand.NewSource(1))
	pick := func(alphabet string, maxLen int) string {
		b := make([]byte, rng.Intn(maxLen+1))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	n := 200000
	if testing.Short() {
		n = 20000
	}
	for i := 0; i < n; i++ {
		pattern := pick(patternBytes, 8)
		if rng.Intn(8) == 0 {
			pattern = strings.Replace(pattern, "[", "[[:alpha:]", 1)
		}
		name := pick("aAb./-[]\\", 8)
		flags := Flags(rng.Intn(int(allFlags) + 1))
		if got, want := Fnmatch(pattern, name, flags), refFnmatch(pattern, name, flags); got != want {
			t.Fatalf("Fnmatch(%q, %q, %s) = %v, reference says %v", pattern, name, flagString(flags), got, want)
		}
	}
}

// TestFnmatchLinear guards against exponential backtracking: each of these
// would take longer than the universe's age with a naive recursive matcher.
func TestFnmatchLinear(t *testing.T) {
	as := strings.Repeat("a", 10000)
	for _, tc := range []fnmatchCase{
		{"*a*a*a*a*a*b", as, 0, false},
		{"*a*a*a*a*a*b", as, PathName, false},
		{"*a*a*a*a*a*b", as, CaseFold | Period | LeadingDir, false},
		{"*a*a*a*a*a*", as, 0, true},
		{"*a*a*a*a*a*b", as + "b", 0, true},
		{strings.Repeat("*a", 50) + "b", as, 0, false},
		{strings.Repeat("*[a]", 50) + "[b]", as, 0, false},
		{strings.Repeat("*a", 50) + "b", strings.Repeat(as[:200]+"/", 50), PathName | LeadingDir, false},
		{"/*a*a*a*b/x", "/" + as + "/x", PathName | LeadingDir, false},
	} {
		start := time.Now()
		if got := Fnmatch(tc.pattern, tc.name, tc.flags); got != tc.want {
			t.Errorf("Fnmatch(%.20q..., %d bytes, %s) = %v, want %v", tc.pattern, len(tc.name), flagString(tc.flags), got, tc.want)
		}
		// Generous enough for the race detector on a loaded machine, and
		// still many orders of magnitude below exponential behaviour.
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Fnmatch(%.20q..., %d bytes) took %v", tc.pattern, len(tc.name), d)
		}
	}
}

// matchSink keeps the compiler from dropping calls whose results a test
// does not otherwise use.
var matchSink bool

func TestFnmatchDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		// != evaluates every call, where && would stop at the first false.
		matchSink = Fnmatch("/static/[[:alpha:]]*/?*.[cj]s", "/static/css/site.css", PathName|LeadingDir|CaseFold) !=
			FnmatchURI("/api/*", "/api/v1/x") != Wildcard("/foo/?*", "/foo/bar")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func BenchmarkFnmatchPathological(b *testing.B) {
	as := strings.Repeat("a", 10000)
	for b.Loop() {
		Fnmatch("*a*a*a*a*a*b", as, 0)
	}
}

func BenchmarkFnmatchURI(b *testing.B) {
	for b.Loop() {
		FnmatchURI("/static/*", "/static/css/site.css")
	}
}

func BenchmarkWildcard(b *testing.B) {
	for b.Loop() {
		Wildcard("/static/?*", "/static/css/site.css")
	}
}

const allFlags = NoEscape | PathName | Period | LeadingDir | CaseFold

func flagString(f Flags) string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, n := range []struct {
		f    Flags
		name string
	}{{NoEscape, "NoEscape"}, {PathName, "PathName"}, {Period, "Period"}, {LeadingDir, "LeadingDir"}, {CaseFold, "CaseFold"}} {
		if f&n.f != 0 {
			parts = append(parts, n.name)
		}
	}
	return strings.Join(parts, "|")
}

// refFnmatch is a deliberately simple matcher for cross-checking Fnmatch:
// it walks pattern and name together and tries every extent of every '*'
// recursively, deciding the flags at each byte rather than per segment. The
// memo only keeps fuzzing fast; it does not change any answer.
func refFnmatch(pattern, name string, flags Flags) bool {
	r := &refMatcher{p: pattern, s: name, flags: flags, memo: map[[2]int]bool{}}
	return r.match(0, 0)
}

type refMatcher struct {
	p, s  string
	flags Flags
	memo  map[[2]int]bool
}

func (r *refMatcher) has(f Flags) bool { return r.flags&f != 0 }

func (r *refMatcher) match(pi, si int) bool {
	key := [2]int{pi, si}
	if v, ok := r.memo[key]; ok {
		return v
	}
	v := r.step(pi, si)
	r.memo[key] = v
	return v
}

// wild reports whether a wildcard ('?', '*' or brackets) may consume the
// name byte at si.
func (r *refMatcher) wild(si int) bool {
	c := r.s[si]
	if c == '/' && r.has(PathName) {
		return false
	}
	leading := si == 0 || (r.has(PathName) && r.s[si-1] == '/')
	return !(c == '.' && leading && r.has(Period))
}

func (r *refMatcher) step(pi, si int) bool {
	p, s := r.p, r.s
	if pi == len(p) {
		return si == len(s) || (r.has(LeadingDir) && s[si] == '/')
	}
	lit, next := p[pi], pi+1
	switch p[pi] {
	case '*':
		if si < len(s) && !r.wild(si) && s[si] == '.' {
			// A leading period is refused even to an empty '*'.
			return false
		}
		for k := si; ; k++ {
			if r.match(pi+1, k) {
				return true
			}
			if k == len(s) || !r.wild(k) {
				return false
			}
		}
	case '?':
		return si < len(s) && r.wild(si) && r.match(pi+1, si+1)
	case '[':
		if set, end, ok := refBracket(p, pi+1, r.flags); ok {
			return si < len(s) && r.wild(si) && set[s[si]] && r.match(end, si+1)
		}
	case '\\':
		if !r.has(NoEscape) && pi+1 < len(p) {
			lit, next = p[pi+1], pi+2
		}
	}
	return si < len(s) && refSame(lit, s[si], r.flags) && r.match(next, si+1)
}

func refSame(a, b byte, flags Flags) bool {
	if a == b {
		return true
	}
	return flags&CaseFold != 0 && a < 0x80 && b < 0x80 && strings.EqualFold(string(rune(a)), string(rune(b)))
}

type refTerm struct {
	lo, hi byte
	class  string
}

// refBracket parses the bracket expression whose body starts at p[i] into a
// membership table; end is the index after the closing ']'.
func refBracket(p string, i int, flags Flags) (set [256]bool, end int, ok bool) {
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	var terms []refTerm
	for first := true; ; first = false {
		if i >= len(p) {
			return set, 0, false
		}
		if p[i] == ']' && !first {
			break
		}
		lo, class, n := refTermAt(p, i, flags)
		if n == 0 {
			return set, 0, false
		}
		i += n
		if class != "" {
			terms = append(terms, refTerm{class: class})
			continue
		}
		hi := lo
		if strings.HasPrefix(p[i:], "-") && !strings.HasPrefix(p[i:], "-]") && i+1 < len(p) {
			h, hclass, hn := refTermAt(p, i+1, flags)
			if hn == 0 || hclass != "" {
				return set, 0, false
			}
			hi = h
			i += 1 + hn
		}
		terms = append(terms, refTerm{lo: lo, hi: hi})
	}
	for c := 0; c < 256; c++ {
		variants := []byte{byte(c)}
		if flags&CaseFold != 0 && c < 0x80 {
			variants = append(variants, byte(unicode.ToUpper(rune(c))), byte(unicode.ToLower(rune(c))))
		}
		in := false
		for _, v := range variants {
			for _, t := range terms {
				if t.class != "" && refClass(t.class, v) || t.class == "" && t.lo <= v && v <= t.hi {
					in = true
				}
			}
		}
		set[c] = in != negate
	}
	return set, i + 1, true
}

// refTermAt reads one bracket term; n == 0 marks a malformed expression.
func refTermAt(p string, i int, flags Flags) (b byte, class string, n int) {
	rest := p[i:]
	b, n = rest[0], 1
	switch {
	case strings.HasPrefix(rest, "[:"):
		if k := strings.Index(rest[2:], ":]"); k >= 0 && strings.Trim(rest[2:2+k], "abcdefghijklmnopqrstuvwxyz") == "" {
			name := rest[2 : 2+k]
			if !slices.Contains(refClassNames, name) {
				return 0, "", 0
			}
			return 0, name, k + 4
		}
	case len(rest) >= 5 && (rest[1] == '.' || rest[1] == '=') && rest[0] == '[' && rest[3] == rest[1] && rest[4] == ']':
		b, n = rest[2], 5
	case rest[0] == '\\' && flags&NoEscape == 0:
		if len(rest) == 1 {
			return 0, "", 0
		}
		b, n = rest[1], 2
	}
	if b == '/' && flags&PathName != 0 {
		return 0, "", 0
	}
	return b, "", n
}

var refClassNames = strings.Fields("alnum alpha blank cntrl digit graph lower print punct space upper xdigit")

// refClass defines the "C" locale classes through package unicode, which is
// a different route to the same ASCII sets.
func refClass(name string, c byte) bool {
	if c >= 0x80 {
		return false
	}
	r := rune(c)
	switch name {
	case "alnum":
		return unicode.IsLetter(r) || unicode.IsDigit(r)
	case "alpha":
		return unicode.IsLetter(r)
	case "blank":
		return r == ' ' || r == '\t'
	case "cntrl":
		return unicode.IsControl(r)
	case "digit":
		return unicode.IsDigit(r)
	case "graph":
		return unicode.IsGraphic(r) && r != ' '
	case "lower":
		return unicode.IsLower(r)
	case "print":
		return unicode.IsPrint(r)
	case "punct":
		return unicode.IsPunct(r) || unicode.IsSymbol(r)
	case "space":
		return unicode.IsSpace(r)
	case "upper":
		return unicode.IsUpper(r)
	case "xdigit":
		return strings.ContainsRune("0123456789abcdefABCDEF", r)
	}
	return false
}

func FuzzWildcard(f *testing.F) {
	for _, cases := range [][]wildcardCase{wildcardDocCases, wildcardEdgeCases} {
		for _, tc := range cases {
			f.Add(tc.template, tc.uri)
		}
	}
	f.Fuzz(func(t *testing.T, template, uri string) {
		if got, want := Wildcard(template, uri), refWildcard(template, uri); got != want {
			t.Errorf("Wildcard(%q, %q) = %v, reference says %v", template, uri, got, want)
		}
	})
}

func FuzzFnmatch(f *testing.F) {
	for _, tc := range fnmatchCases {
		f.Add(tc.pattern, tc.name, uint8(tc.flags))
	}
	f.Fuzz(func(t *testing.T, pattern, name string, flags uint8) {
		// The reference is polynomial only thanks to its memo; keep the
		// inputs short enough for it to stay quick.
		if len(pattern) > 64 || len(name) > 64 {
			return
		}
		for _, fl := range []Flags{0, PathName, Flags(flags) & allFlags} {
			if got, want := Fnmatch(pattern, name, fl), refFnmatch(pattern, name, fl); got != want {
				t.Errorf("Fnmatch(%q, %q, %s) = %v, reference says %v", pattern, name, flagString(fl), got, want)
			}
		}
	})
}
