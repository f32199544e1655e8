package browser

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/esphttpd/esphttpd/httpd/httpdtest/exttool"
)

// pageTimeout bounds loading one page and waiting for its text.
const pageTimeout = 20 * time.Second

// newBrowser starts headless Chromium with a fresh profile and returns a
// context for it; the browser is closed when the test ends. The test is
// skipped (failed under CI) when chromium is not installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := exttool.Require(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // runs as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		// Nothing but the page under test: no QUIC, no background fetches
		// to the network, no component or sync updates.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers have a small /dev/shm; Chromium then crashes tabs.
		chromedp.Flag("disable-dev-shm-usage", true),
		// The examples serve self-signed certificates.
		chromedp.Flag("ignore-certificate-errors", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser process to exit
	})
	// The first Do starts the browser and ties it to its context's life, so
	// that context must be the browser's own, not one with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// page is one page a browser loads and what it must show.
type page struct {
	path   string
	status int
	// text must appear in the rendered text (document.body.innerText),
	// within pageTimeout: scripts on the page may still be writing it.
	text string
}

// loaded is what the browser reports for a page it loaded.
type loaded struct {
	Status   int    `json:"status"`
	Protocol string `json:"protocol"`
	Text     string `json:"text"`
}

// reportJS reads what the browser shows for the page in a tab: the
// Navigation Timing entry's status and protocol, and the rendered text.
const reportJS = `(() => {
	const nav = performance.getEntriesByType("navigation")[0] || {};
	return {status: nav.responseStatus || 0, protocol: nav.nextHopProtocol || "",
		text: document.body ? document.body.innerText : ""};
})()`

// expectPage loads url in a new tab and checks that it renders p.text
// with p.status, served over protocol ("http/1.1", "h2") as the browser's
// Navigation Timing entry reports it. The text may come later than the
// load event (a script writes it), so it is read again until it appears.
func expectPage(t *testing.T, browser context.Context, url string, p page, protocol string) {
	t.Helper()
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	retry := time.NewTicker(20 * time.Millisecond)
	defer retry.Stop()
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[loaded](reportJS))
		if err == nil && strings.Contains(got.Text, p.text) {
			if got.Status != p.status || got.Protocol != protocol {
				t.Errorf("GET %s: status %d over %q, want %d over %q; text %q", url, got.Status, got.Protocol, p.status, protocol, got.Text)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s: %q did not appear within %v; the browser shows %d %q over %q (%v)",
				url, p.text, pageTimeout, got.Status, got.Text, got.Protocol, err)
		case <-retry.C:
		}
	}
}
