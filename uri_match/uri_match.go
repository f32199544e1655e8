// Package uri_match holds the URI matchers a server can be configured with:
// ESP-IDF's default exact comparison, ESP-IDF's httpd_uri_match_wildcard, and
// POSIX fnmatch(3) as used by Zephyr's HTTP server for wildcard resources.
//
// All matchers are pure functions of their arguments and work on bytes, as
// the C implementations do in the "C" locale: a URI path is percent-encoded
// ASCII on the wire, so there is nothing to gain from decoding UTF-8 and a
// matcher that never decodes cannot disagree with the C one about invalid
// sequences. A NUL byte is an ordinary byte here; C strings cannot carry one,
// so no C caller could observe a difference.
package uri_match

// MatchFunc reports whether uri (a request path, the query already removed by
// the server) matches template.
//
// It maps ESP-IDF's httpd_uri_match_func_t. The C type takes an extra
// match_upto length because ESP-IDF hands the matcher the raw request target
// and a length that stops before the query; the server here slices the path
// out first, so the length would always be len(uri).
type MatchFunc func(template, uri string) bool

// Exact is ESP-IDF's default matcher, used when no uri_match_fn is
// configured: the registered URI must equal the request path byte for byte.
// ESP-IDF spells it as a length check plus strncmp up to the query, which is
// plain equality once the query is gone.
func Exact(template, uri string) bool {
	return template == uri
}

// Wildcard is ESP-IDF's httpd_uri_match_wildcard, reproducing its results
// for every input, including malformed templates.
//
// Only the last one or two bytes of template are special:
//
//   - "*" at the end lets anything follow the part before it;
//   - "?" at the end makes the byte before it optional;
//   - "?*" or "*?" at the end do both: the byte before them is optional,
//     and if it is present anything may follow it.
//
// A '?' or '*' anywhere else is a literal byte. So "*" matches every path,
// "/foo/?" matches "/foo" and "/foo/", "/foo/*" matches "/foo/" and
// "/foo/bar" but not "/foo", and "/foo/?*" matches "/foo", "/foo/" and
// "/foo/bar" but not "/foox".
//
// The edge cases follow from ESP-IDF's arithmetic rather than from the prose
// above, and are kept because handlers registered on an ESP32 must resolve
// the same way here: the empty template matches only the empty path; a
// template that is too short to have the byte its suffix refers to ("?",
// "?*", "*?") matches nothing; "**" is a literal '*' followed by a wildcard;
// "??" matches "" and "?".
func Wildcard(template, uri string) bool {
	n := len(template)
	var last, prev byte
	if n > 0 {
		last = template[n-1]
	}
	if n > 1 {
		prev = template[n-2]
	}
	// The two suffix flags are computed independently, exactly as ESP-IDF
	// does, so "*?" and "?*" both set both of them.
	anyTail := last == '*' || (prev == '*' && last == '?')
	optional := last == '?' || (prev == '?' && last == '*')

	// ESP-IDF counts the optional byte together with the '?' it belongs to,
	// which is why an optional suffix costs two bytes of template.
	suffix := 0
	if anyTail {
		suffix++
	}
	if optional {
		suffix += 2
	}
	if n < suffix {
		return false
	}
	fixed := n - suffix
	if len(uri) < fixed {
		return false
	}
	if !optional {
		if !anyTail && len(uri) != fixed {
			return false
		}
		return uri[:fixed] == template[:fixed]
	}
	// The optional byte sits right after the fixed part of the template.
	if len(uri) > fixed && uri[fixed] != template[fixed] {
		return false
	}
	if uri[:fixed] != template[:fixed] {
		return false
	}
	// Without the optional byte the path must end where the fixed part does,
	// even when a '*' is present: ESP-IDF only lets the tail follow the
	// optional byte, not replace it.
	return anyTail || len(uri) <= fixed+1
}

// FnmatchURI is the matcher Zephyr's HTTP server applies to resources when
// CONFIG_HTTP_SERVER_RESOURCE_WILDCARD is enabled.
//
// Zephyr's get_resource_detail (subsys/net/lib/http/http_server_core.c)
// calls fnmatch(resource, path, FNM_PATHNAME | FNM_LEADING_DIR), so this is
// Fnmatch with PathName|LeadingDir. PathName keeps '*', '?' and bracket
// expressions inside one path segment, so "/api/*" cannot be satisfied by
// swallowing slashes at random; LeadingDir then lets a resource that matches
// a leading run of segments own everything below it, which is how a single
// "/static/*" resource serves "/static/css/site.css".
//
// Zephyr also compares the resource literally (compare_strings) when the
// pattern does not match, so a resource whose name happens to contain '[',
// '\' or other pattern syntax is still reachable by its own name. FnmatchURI
// keeps that fallback as template == uri. Zephyr's literal comparison also
// stops at a '?' in either string; that only serves to cut the query off a
// raw target, which the caller of a MatchFunc has already done.
//
// Quirks of Zephyr's NetBSD-derived fnmatch are deliberately not reproduced:
// it reports no match once '*' recursion is 64 deep, and when a well-formed
// bracket expression fails to match a '[' in the path it matches that '['
// literally instead. Fnmatch follows POSIX; the difference only shows on
// patterns that no sensible resource table contains.
func FnmatchURI(template, uri string) bool {
	return Fnmatch(template, uri, PathName|LeadingDir) || template == uri
}
