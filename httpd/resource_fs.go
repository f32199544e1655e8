package httpd

import (
	"fmt"
	"io/fs"
)

// StaticFSResource serves files of a file system (Zephyr 4.x's
// http_resource_detail_static_fs, with an fs.FS in place of fs_path, so
// os.DirFS, os.Root.FS and embed.FS all work). As in Zephyr the request
// path is the file's path in FS ("/" serves index.html); register it with
// a pattern such as "/*" or "/static/*" to serve a tree. Files are served
// by FileServer: Content-Type by extension, ETag with If-None-Match (and
// Last-Modified), ranges, NAME.gz chosen by Accept-Encoding, and no path
// that leads out of FS.
type StaticFSResource struct {
	ResourceDetail
	// FS is the directory served.
	FS fs.FS
	// Prefix is taken off the request path before it is looked up in FS:
	// with Prefix "/static", "/static/app.js" is FS's "app.js". Zephyr
	// has no such field: its paths are looked up whole.
	Prefix string
}

func newStaticFS(d *StaticFSResource) (HandlerFunc, error) {
	if d.FS == nil {
		return nil, fmt.Errorf("%w: StaticFSResource.FS is nil", ErrInvalidArg)
	}
	allowed := staticMethods(d.Methods)
	files := FileServer(d.FS, d.Prefix)
	return func(r *Req) error {
		if !methodAllowed(r, allowed) {
			return nil
		}
		return files(r)
	}, nil
}
