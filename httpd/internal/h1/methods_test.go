package h1

import (
	"strings"
	"testing"
)

func TestLookupMethod(t *testing.T) {
	longest := 0
	for id, name := range MethodNames {
		if name == "" {
			t.Fatalf("method %d has no name", id)
		}
		got, ok := LookupMethod([]byte(name))
		if !ok || got != id {
			t.Errorf("LookupMethod(%q) = %d, %v; want %d", name, got, ok, id)
		}
		if !ValidFieldName(name) {
			t.Errorf("%q is not a token", name)
		}
		longest = max(longest, len(name))
		if lower := strings.ToLower(name); lower != name {
			if _, ok := LookupMethod([]byte(lower)); ok {
				t.Errorf("LookupMethod(%q) matched: methods are case-sensitive", lower)
			}
		}
	}
	if longest != maxMethodLen {
		t.Errorf("maxMethodLen = %d, longest name is %d", maxMethodLen, longest)
	}
	for _, s := range []string{"", "GE", "GETS", "MSEARCH", "BREW", "G\x00T", "GET "} {
		if id, ok := LookupMethod([]byte(s)); ok {
			t.Errorf("LookupMethod(%q) = %d", s, id)
		}
	}
}

// TestMethodIDs pins the ids to http_parser's enum: httpd exposes them as
// ESP-IDF's HTTP_* values.
func TestMethodIDs(t *testing.T) {
	for _, tc := range []struct {
		id   int
		want int
	}{
		{MethodDelete, 0}, {MethodGet, 1}, {MethodHead, 2}, {MethodPost, 3},
		{MethodPut, 4}, {MethodConnect, 5}, {MethodOptions, 6}, {MethodTrace, 7},
		{MethodCopy, 8}, {MethodUnlock, 15}, {MethodBind, 16}, {MethodAcl, 19},
		{MethodReport, 20}, {MethodMerge, 23}, {MethodMsearch, 24},
		{MethodUnsubscribe, 27}, {MethodPatch, 28}, {MethodPurge, 29},
		{MethodMkcalendar, 30}, {MethodLink, 31}, {MethodUnlink, 32},
		{MethodSource, 33}, {NumMethods, 34},
	} {
		if tc.id != tc.want {
			t.Errorf("id %d, want %d", tc.id, tc.want)
		}
	}
}
