package uri_match_test

import (
	"fmt"

	"github.com/esphttpd/esphttpd/uri_match"
)

func ExampleWildcard() {
	for _, tc := range []struct{ template, uri string }{
		{"/foo/?", "/foo"},
		{"/foo/?", "/foo/"},
		{"/foo/*", "/foo/bar"},
		{"/foo/*", "/foo"},
		{"/foo/?*", "/foo"},
		{"/foo/?*", "/foo/bar"},
		{"/foo/?*", "/foox"},
		{"/a*b", "/axb"}, // '*' is only special at the end
	} {
		fmt.Printf("%-8s %-9s %v\n", tc.template, tc.uri, uri_match.Wildcard(tc.template, tc.uri))
	}
	// Output:
	// /foo/?   /foo      true
	// /foo/?   /foo/     true
	// /foo/*   /foo/bar  true
	// /foo/*   /foo      false
	// /foo/?*  /foo      true
	// /foo/?*  /foo/bar  true
	// /foo/?*  /foox     false
	// /a*b     /axb      false
}

func ExampleFnmatch() {
	fmt.Println(uri_match.Fnmatch("*.[ch]", "main.c", 0))
	fmt.Println(uri_match.Fnmatch("img/*.png", "img/icons/a.png", 0))
	fmt.Println(uri_match.Fnmatch("img/*.png", "img/icons/a.png", uri_match.PathName))
	fmt.Println(uri_match.Fnmatch("*", ".hidden", uri_match.Period))
	fmt.Println(uri_match.Fnmatch("/static", "/static/css/site.css", uri_match.LeadingDir))
	fmt.Println(uri_match.Fnmatch("[[:upper:]]*", "Readme", 0))
	// Output:
	// true
	// true
	// false
	// false
	// true
	// true
}

func ExampleFnmatchURI() {
	for _, uri := range []string{"/static/site.css", "/static/css/site.css", "/static", "/staticx"} {
		fmt.Println(uri, uri_match.FnmatchURI("/static/*", uri))
	}
	// Output:
	// /static/site.css true
	// /static/css/site.css true
	// /static false
	// /staticx false
}
