package main

import (
	"fmt"
	"html"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/esphttpd/esphttpd/httpd"
)

// listDir is http_resp_dir_html: the upload form and a table of the
// folder's entries, sent in chunks as it is read. p is the raw URI path
// (links are built on it, as the original builds them on req->uri).
func (s *fileServer) listDir(r *httpd.Req, p, decoded, name string) error {
	dir, err := s.root.Open(name)
	var entries []fsEntry
	if err == nil {
		entries, err = readEntries(dir)
		dir.Close()
	}
	if err != nil {
		s.errorf("Failed to stat dir : %s", s.fullPath(decoded))
		return sendErr(r, httpd.Code404NotFound, "Directory does not exist")
	}
	send := func(chunk string) error { return r.RespSendStrChunk(chunk) }
	if err := send("<!DOCTYPE html><html><body>"); err != nil {
		return err
	}
	// Add file upload form and script which on execution sends a POST
	// request to /upload.
	if err := r.RespSendChunk(uploadScript); err != nil {
		return err
	}
	if err := send(`<table class="fixed" border="1">` +
		`<col width="800px" /><col width="300px" /><col width="300px" /><col width="100px" />` +
		`<thead><tr><th>Name</th><th>Type</th><th>Size (Bytes)</th><th>Delete</th></tr></thead>` +
		`<tbody>`); err != nil {
		return err
	}
	for _, e := range entries {
		entryType := "file"
		if e.isDir {
			entryType = "directory"
		}
		info, err := s.root.Stat(path.Join(name, e.name))
		if err != nil {
			s.errorf("Failed to stat %s : %s", entryType, e.name)
			continue
		}
		s.logf("Found %s : %s (%d bytes)", entryType, e.name, info.Size())
		// Names are escaped for the URL and for the page: the original
		// writes them as they are.
		href := p + url.PathEscape(e.name)
		if e.isDir {
			href += "/"
		}
		row := fmt.Sprintf(`<tr><td><a href="%s">%s</a></td><td>%s</td><td>%d</td><td>`+
			`<form method="post" action="/delete%s"><button type="submit">Delete</button></form></td></tr>`+"\n",
			html.EscapeString(href), html.EscapeString(e.name), entryType, info.Size(),
			html.EscapeString(strings.TrimSuffix(href, "/")))
		if err := send(row); err != nil {
			return err
		}
	}
	if err := send("</tbody></table>"); err != nil {
		return err
	}
	if err := send("</body></html>"); err != nil {
		return err
	}
	return send("")
}

// fsEntry is a directory entry: its name and whether it is a folder
// (d_type == DT_DIR).
type fsEntry struct {
	name  string
	isDir bool
}

// readEntries lists an open folder, sorted by name (readdir's order
// depends on the file system).
func readEntries(dir *os.File) ([]fsEntry, error) {
	list, err := dir.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	entries := make([]fsEntry, len(list))
	for i, e := range list {
		entries[i] = fsEntry{e.Name(), e.IsDir()}
	}
	slices.SortFunc(entries, func(a, b fsEntry) int { return strings.Compare(a.name, b.name) })
	return entries, nil
}
