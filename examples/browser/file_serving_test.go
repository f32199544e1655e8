package browser

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestFileServing uses file_serving's page as a person would: choose a
// file in the upload form and press Upload, find it in the listing the
// page then shows, download it (the page's own fetch of its link) byte
// for byte, and press its Delete button. The server's console must show
// the C example's line for each step, and its folder the file, then not.
func TestFileServing(t *testing.T) {
	browser := newBrowser(t)
	storage := t.TempDir()
	run := exampleRun{dir: "file_serving", args: []string{"-dir", storage}, servers: []server{{portFlag: "-port", scheme: "http", pages: []page{
		{path: "/", status: http.StatusOK, text: "esphttpd File Server"},
	}}}}
	bases, out := startExample(t, run)
	base := bases[0]

	// Binary content, under the example's 200KB limit: every byte value
	// must survive the upload and the download.
	content := make([]byte, 150<<10)
	rand.Read(content)
	const name = "photo.bin"
	local := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(local, content, 0o600); err != nil {
		t.Fatal(err)
	}

	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 3*pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("newfile")),
		chromedp.SetUploadFiles(chromedp.ID("newfile"), []string{local}),
	); err != nil {
		t.Fatalf("choosing the file: %v", err)
	}
	// The form's onchange fills the server path with the file's name.
	waitJS(t, ctx, `document.getElementById("filepath").value == "`+name+`"`, "the path field shows the chosen file's name")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("upload"))); err != nil {
		t.Fatalf("pressing Upload: %v", err)
	}
	// The script writes the listing the server redirected to.
	row := `document.querySelector('a[href="/` + name + `"]')`
	waitJS(t, ctx, row+` != null && document.body.innerText.includes("`+name+`\tfile\t`+strconv.Itoa(len(content))+`")`,
		"the listing shows the uploaded file with its size")
	out.Expect(t, "File reception complete")
	if stored, err := os.ReadFile(filepath.Join(storage, name)); err != nil || !bytes.Equal(stored, content) {
		t.Fatalf("stored file: %d bytes (%v), want the %d uploaded", len(stored), err, len(content))
	}

	// Download through the link's own URL, from the page.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+row+`.href)
		.then(r => r.ok ? r.arrayBuffer() : Promise.reject(new Error("status " + r.status)))
		.then(b => { let s = ""; for (const c of new Uint8Array(b)) s += String.fromCharCode(c); return btoa(s); })`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("downloading %s: %v", name, err)
	}
	if downloaded, err := base64.StdEncoding.DecodeString(got); err != nil || !bytes.Equal(downloaded, content) {
		t.Fatalf("downloaded %d bytes (%v), not the %d uploaded", len(downloaded), err, len(content))
	}
	out.Expect(t, "File sending complete")

	// Delete with the row's button: a form POST, answered with the listing.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/delete/`+name+`"] button`))); err != nil {
		t.Fatalf("pressing Delete: %v", err)
	}
	waitJS(t, ctx, `document.getElementById("upload") != null && `+row+` == null`, "the listing no longer shows the file")
	out.Expect(t, "Deleting file : ")
	if _, err := os.Stat(filepath.Join(storage, name)); !os.IsNotExist(err) {
		t.Errorf("the file is still in the storage folder: %v", err)
	}
}

// waitJS evaluates cond in the tab until it is true, across the page
// loads a click may cause, failing the test when ctx ends first.
func waitJS(t *testing.T, ctx context.Context, cond, what string) {
	t.Helper()
	retry := time.NewTicker(20 * time.Millisecond)
	defer retry.Stop()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			// The tab may have closed with ctx (a tab lives as long as the
			// context of its first action): bound the read for the
			// message, or a failing test hangs instead of failing.
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			text, _ := chromedp.Run(last, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			cancel()
			t.Fatalf("%s: not so before the deadline (%v); the page shows %.500q", what, err, text)
		case <-retry.C:
		}
	}
}
