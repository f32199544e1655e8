package uri_match

import "strings"

// Flags select fnmatch(3) options. Only the names follow <fnmatch.h>; the
// values are this package's own, because the C values differ between libcs
// and nothing here is passed to C.
type Flags uint

const (
	// NoEscape is FNM_NOESCAPE: '\' is an ordinary byte instead of quoting
	// the byte after it, for patterns written by people who never meant to
	// quote anything.
	NoEscape Flags = 1 << iota

	// PathName is FNM_PATHNAME: a '/' in name is matched only by a '/' in
	// pattern, never by '*', '?' or a bracket expression, so a wildcard stays
	// inside one path segment. POSIX leaves a '/' inside a bracket expression
	// unspecified; here, as in the BSDs, it stops the brackets from being a
	// bracket expression at all, and the '[' is then a literal byte.
	PathName

	// Period is FNM_PERIOD: a leading '.' in name (its first byte, and with
	// PathName also the byte after every '/') must be matched by a literal
	// '.' in pattern, so wildcards do not pick up hidden files. As in glibc,
	// musl and the BSDs, a '*' at that position fails even though it could
	// have matched nothing: "*.txt" does not match ".txt".
	Period

	// LeadingDir is FNM_LEADING_DIR, a GNU and BSD extension: pattern may
	// match just a leading part of name that is followed by a '/', so
	// "/foo*" matches "/foobar/baz". This is what lets one pattern own a
	// whole subtree of paths.
	LeadingDir

	// CaseFold is FNM_CASEFOLD, a GNU and BSD extension: letters match
	// regardless of case in literals, ranges and character classes alike.
	// Only ASCII letters fold, because matching is on bytes.
	CaseFold
)

// Fnmatch reports whether name matches the shell wildcard pattern, with the
// semantics of POSIX fnmatch(3) in the "C" locale, one byte per character:
//
//   - '*' matches any run of bytes, '?' any single byte;
//   - "[...]" is a bracket expression: single bytes, ranges such as "a-z"
//     (by byte value; a reversed range is empty), character classes such as
//     "[:alpha:]" (alnum, alpha, blank, cntrl, digit, graph, lower, print,
//     punct, space, upper, xdigit, with their ASCII meaning), and the
//     single-byte forms "[.c.]" and "[=c=]"; a leading '!' or '^' negates
//     it, and a ']' right after the opening bracket (and negation) is a
//     member rather than the end;
//   - '\' makes the next byte literal, also inside brackets, unless
//     NoEscape is given.
//
// Malformed syntax is not an error, because fnmatch(3) has no way to report
// one for a pattern that merely fails to parse: a '[' that does not open a
// well-formed bracket expression (unterminated, unknown class name, a class
// used as a range end, or a '/' inside under PathName) is a literal '[', and
// a '\' at the very end of pattern is a literal '\' (as in musl). These are
// the corners POSIX leaves open, and libcs differ in them: glibc instead
// fails the whole match on an unknown class name, on a trailing '\' and on
// a '/' inside brackets under PathName. Outside them, Fnmatch agrees with
// glibc's fnmatch.
//
// Matching never recurses and never allocates. Each '*' remembers one resume
// point and only the most recent one is ever resumed, which is enough because
// a later '*' can absorb whatever an earlier one would have; the cost is
// therefore bounded by len(pattern)*len(name) and is usually linear, where a
// naive backtracking matcher is exponential in the number of stars.
func Fnmatch(pattern, name string, flags Flags) bool {
	if flags&PathName == 0 {
		ok, _, _ := matchSegment(pattern, 0, name, 0, len(name), flags)
		return ok
	}
	// With PathName no wildcard can cross a '/', so each '/'-separated part
	// of pattern must match the corresponding part of name on its own. Doing
	// them one at a time confines backtracking to a single segment.
	pi, si := 0, 0
	for {
		end := len(name)
		if k := strings.IndexByte(name[si:], '/'); k >= 0 {
			end = si + k
		}
		ok, next, more := matchSegment(pattern, pi, name, si, end, flags)
		switch {
		case !ok:
			return false
		case !more:
			// The pattern is used up; whatever follows in name is a
			// trailing directory, acceptable only with LeadingDir.
			return end == len(name) || flags&LeadingDir != 0
		case end == len(name):
			// The pattern wants another segment that name does not have.
			return false
		}
		pi, si = next, end+1
	}
}

// matchSegment matches pattern from pi against name[si:end]. Under PathName
// the pattern part ends at the next separator, and more reports that one was
// found, with next the index just past it. Without PathName the whole of
// name is a single segment.
func matchSegment(pattern string, pi int, name string, si, end int, flags Flags) (ok bool, next int, more bool) {
	if flags&Period != 0 && si < end && name[si] == '.' && !literalDot(pattern, pi, flags) {
		return false, 0, false
	}
	// A LeadingDir match can stop at any '/' when PathName is off; with
	// PathName the caller has already cut name at the '/'.
	stopAtSlash := flags&(PathName|LeadingDir) == LeadingDir
	starP, starS := -1, 0
	for {
		if stop, n, m := segmentEnd(pattern, pi, flags); stop {
			if si == end || (stopAtSlash && name[si] == '/') {
				return true, n, m
			}
		} else if pattern[pi] == '*' {
			for pi < len(pattern) && pattern[pi] == '*' {
				pi++
			}
			starP, starS = pi, si
			continue
		} else if si < end {
			if hit, w := matchOne(pattern, pi, name[si], flags); hit {
				pi += w
				si++
				continue
			}
		}
		// Mismatch: let the most recent '*' take one more byte and retry
		// what follows it. Earlier stars stay as they are; anything they
		// could have taken, the later star can take instead.
		if starP < 0 || starS == end {
			return false, 0, false
		}
		starS++
		pi, si = starP, starS
	}
}

// segmentEnd reports whether the pattern part being matched ends at pi, and
// where the next part starts. An escaped "\/" is a separator too: it can
// only ever match the '/' that separates segments of name.
func segmentEnd(pattern string, pi int, flags Flags) (stop bool, next int, more bool) {
	switch {
	case pi == len(pattern):
		return true, pi, false
	case flags&PathName == 0:
		return false, 0, false
	case pattern[pi] == '/':
		return true, pi + 1, true
	case pattern[pi] == '\\' && flags&NoEscape == 0 && pi+1 < len(pattern) && pattern[pi+1] == '/':
		return true, pi + 2, true
	}
	return false, 0, false
}

// literalDot reports whether the pattern element at pi is a literal '.',
// quoted or not, the only thing Period lets match a leading '.'.
func literalDot(pattern string, pi int, flags Flags) bool {
	if pi < len(pattern) && pattern[pi] == '.' {
		return true
	}
	return flags&NoEscape == 0 && pi+1 < len(pattern) && pattern[pi] == '\\' && pattern[pi+1] == '.'
}

// matchOne matches the single-byte pattern element at pi (anything but '*'
// and a separator) against c, and returns the element's width in pattern.
func matchOne(pattern string, pi int, c byte, flags Flags) (hit bool, width int) {
	switch pattern[pi] {
	case '?':
		return true, 1
	case '[':
		if in, w, ok := bracket(pattern, pi, c, flags); ok {
			return in, w
		}
	case '\\':
		if flags&NoEscape == 0 && pi+1 < len(pattern) {
			return sameByte(pattern[pi+1], c, flags), 2
		}
	}
	return sameByte(pattern[pi], c, flags), 1
}

// bracket matches c against the bracket expression opening at pattern[i].
// It is parsed afresh on every use instead of being compiled, which keeps
// Fnmatch free of allocation; ok is false when it is malformed, and width
// covers everything up to and including the closing ']'.
func bracket(pattern string, i int, c byte, flags Flags) (in bool, width int, ok bool) {
	j := i + 1
	negate := j < len(pattern) && (pattern[j] == '!' || pattern[j] == '^')
	if negate {
		j++
	}
	alt := c
	if flags&CaseFold != 0 {
		alt = otherCase(c)
	}
	found := false
	for first := true; ; first = false {
		if j >= len(pattern) {
			return false, 0, false
		}
		if pattern[j] == ']' && !first {
			break
		}
		lo, class, w := bracketTerm(pattern, j, flags)
		if w == 0 {
			return false, 0, false
		}
		j += w
		if class != nil {
			found = found || class(c) || class(alt)
			continue
		}
		hi := lo
		// A '-' right before the closing ']' is a member, not a range.
		if j+1 < len(pattern) && pattern[j] == '-' && pattern[j+1] != ']' {
			var hiClass func(byte) bool
			hi, hiClass, w = bracketTerm(pattern, j+1, flags)
			if w == 0 || hiClass != nil {
				return false, 0, false
			}
			j += 1 + w
		}
		found = found || (lo <= c && c <= hi) || (lo <= alt && alt <= hi)
	}
	return found != negate, j + 1 - i, true
}

// bracketTerm parses one term of a bracket expression at pattern[j]: either
// a byte (plain, quoted, "[.c.]" or "[=c=]") or a character class. width 0
// means the term makes the whole bracket expression malformed.
func bracketTerm(pattern string, j int, flags Flags) (b byte, class func(byte) bool, width int) {
	b, width = pattern[j], 1
	switch {
	case b == '[' && j+1 < len(pattern) && pattern[j+1] == ':':
		// Like glibc, only give up on the class syntax when the name cannot
		// be one, so "[[:a]" stays a set of plain bytes rather than a
		// malformed class.
		k := j + 2
		for k < len(pattern) && 'a' <= pattern[k] && pattern[k] <= 'z' {
			k++
		}
		if k+1 < len(pattern) && pattern[k] == ':' && pattern[k+1] == ']' {
			class = classes[pattern[j+2:k]]
			if class == nil {
				return 0, nil, 0
			}
			return 0, class, k + 2 - j
		}
	case b == '[' && j+4 < len(pattern) && (pattern[j+1] == '.' || pattern[j+1] == '=') &&
		pattern[j+3] == pattern[j+1] && pattern[j+4] == ']':
		// In the C locale every collating element and equivalence class is
		// a single byte.
		b, width = pattern[j+2], 5
	case b == '\\' && flags&NoEscape == 0:
		if j+1 == len(pattern) {
			return 0, nil, 0
		}
		b, width = pattern[j+1], 2
	}
	if b == '/' && flags&PathName != 0 {
		return 0, nil, 0
	}
	return b, nil, width
}

// classes are the POSIX character classes of the "C" locale.
var classes = map[string]func(byte) bool{
	"alnum":  func(c byte) bool { return isAlpha(c) || isDigit(c) },
	"alpha":  isAlpha,
	"blank":  func(c byte) bool { return c == ' ' || c == '\t' },
	"cntrl":  func(c byte) bool { return c < ' ' || c == 0x7f },
	"digit":  isDigit,
	"graph":  func(c byte) bool { return '!' <= c && c <= '~' },
	"lower":  func(c byte) bool { return 'a' <= c && c <= 'z' },
	"print":  func(c byte) bool { return ' ' <= c && c <= '~' },
	"punct":  func(c byte) bool { return '!' <= c && c <= '~' && !isAlpha(c) && !isDigit(c) },
	"space":  func(c byte) bool { return c == ' ' || ('\t' <= c && c <= '\r') },
	"upper":  func(c byte) bool { return 'A' <= c && c <= 'Z' },
	"xdigit": func(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') },
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func sameByte(p, c byte, flags Flags) bool {
	return p == c || (flags&CaseFold != 0 && otherCase(p) == c)
}

// otherCase swaps the case of an ASCII letter and leaves any other byte alone.
func otherCase(c byte) byte {
	if isAlpha(c) {
		return c ^ 0x20
	}
	return c
}
