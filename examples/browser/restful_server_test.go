package browser

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRestfulServer loads restful_server's front end: its script must
// show the system info the API returns (the server is built by the same
// toolchain on the same machine, so its Go version and core count are
// this test's) and a temperature reading; moving the sliders and pressing
// "Set brightness" must post the colour, show the server's answer, and
// put the C example's log line on the server's console.
func TestRestfulServer(t *testing.T) {
	browser := newBrowser(t)
	run := exampleRun{dir: "restful_server", servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/", status: http.StatusOK, text: "esphttpd RESTful server"},
	}}}}
	bases, out := startExample(t, run)

	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 2*pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(bases[0]+"/")); err != nil {
		t.Fatalf("GET /: %v", err)
	}
	text := func(id string) string { return `document.getElementById("` + id + `").textContent` }
	waitJS(t, ctx, text("version")+` == "`+runtime.Version()+`" && `+text("cores")+` == "`+strconv.Itoa(runtime.NumCPU())+`"`,
		"the page shows the server's Go version and cores")
	waitJS(t, ctx, `/^\d+$/.test(`+text("temp")+`) && Number(`+text("temp")+`) < 20`, "the page shows a raw temperature")

	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("red"), "10"),
		chromedp.SetValue(chromedp.ID("green"), "200"),
		chromedp.SetValue(chromedp.ID("blue"), "33"),
		chromedp.Click(chromedp.CSS(`#light button[type="submit"]`)),
	); err != nil {
		t.Fatalf("setting the brightness: %v", err)
	}
	waitJS(t, ctx, text("result")+` == "Post control value successfully"`, "the page shows the server's answer")
	out.Expect(t, "Light control: red = 10, green = 200, blue = 33")
}
