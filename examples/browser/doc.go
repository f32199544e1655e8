// Package browser holds the browser test of the examples: headless Debian
// Chromium, driven through the DevTools protocol with chromedp, loads every
// page the examples serve and checks the text it renders, the status and
// the protocol it used.
//
// It is a module of its own, as examples/bench is, so that chromedp stays
// out of the library's go.mod. Run it with
//
//	cd examples/browser && go test -count=1 ./...
//
// Each example's binary is built from the root module and run on an
// ephemeral port of 127.0.0.1, as a user runs it. Pages are loaded over
// HTTP/1.1 and, where the example serves TLS, over HTTPS with its
// self-signed certificate (--ignore-certificate-errors), where Chromium
// negotiates HTTP/2 through ALPN. Browsers do not speak h2c (neither prior
// knowledge nor the Upgrade from HTTP/1.1), so on a plain-HTTP port that
// also serves h2c the test checks that Chromium was served over HTTP/1.1;
// h2c is covered by curl, nghttp and h2spec in the examples' own tests.
//
// To add an example, add one row to the examples table in
// examples_test.go, or, for a page that needs a script to finish (as the
// WebSocket echo does), one small file calling startExample and
// expectPage.
//
// Without chromium in PATH the tests skip, naming it; with the
// environment variable CI set they fail instead (.ci/run installs it).
package browser
