package httpd

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// FileServer returns a HandlerFunc serving the files of fsys (os.DirFS,
// embed.FS, os.Root.FS, any fs.FS) under the URI prefix, e.g. "/static".
// Register it for the subtree with the wildcard matcher:
//
//	cfg.URIMatchFn = uri_match.Wildcard
//	h.RegisterURIHandler(&httpd.URI{URI: "/static/*", Method: httpd.ANY,
//		Handler: httpd.FileServer(os.DirFS("www"), "/static")})
//
// GET and HEAD are served; other methods get 405 with Allow. What it does:
//
//   - Content-Type from the file name's extension (mime.TypeByExtension),
//     sniffed from the content when the extension is unknown.
//   - ETag (from modification time and size, or from a hash of the
//     content when the file system has no times, as embed.FS) and
//     Last-Modified; If-None-Match and If-Modified-Since answer 304.
//   - Range with one or several ranges (206, multipart/byteranges for
//     several), 416 when none is satisfiable, If-Range; more than 32 ranges
//     or ranges adding up to more than the file get the whole file.
//   - A precompressed NAME.gz next to NAME is sent with Content-Encoding:
//     gzip to clients whose Accept-Encoding allows gzip, with Vary:
//     Accept-Encoding; a NAME.gz without NAME is 406 to the others.
//   - A directory is served by its index.html; a directory path without
//     its trailing slash is redirected (301) to it, so that relative links
//     work. There is no directory listing (404).
//   - The path is percent-decoded once and must then be a clean relative
//     path: "..", ".", empty segments, backslashes, NUL and invalid UTF-8
//     are 400 in any encoding. On a file system that reports symbolic
//     links (fs.ReadLinkFS, as os.DirFS), a link is followed only when its
//     target stays inside the root; others are 403. The check and the open
//     are separate steps, so for a tree that others can change while it is
//     served, use os.Root.FS, which the kernel keeps inside the root.
//
// Files up to 1 MiB go out with Content-Length; larger ones are streamed
// in chunks (DATA frames on HTTP/2), each read on the worker.
func FileServer(fsys fs.FS, prefix string) HandlerFunc {
	s := &fileServer{fsys: fsys, prefix: strings.TrimSuffix(prefix, "/")}
	return s.serve
}

type fileServer struct {
	fsys   fs.FS
	prefix string
	hashes sync.Map // name -> ETag, for files without a modification time
}

// indexFile is what a directory request serves.
const indexFile = "index.html"

// errEscapes is a symbolic link leading out of the root.
var errEscapes = errors.New("symbolic link leads outside the root")

func (s *fileServer) serve(r *Req) error {
	if r.Method != GET && r.Method != HEAD {
		if err := r.RespSetHdr("Allow", "GET, HEAD"); err != nil {
			return err
		}
		return r.RespSendErr(Code405MethodNotAllowed, "")
	}
	target := pathOf(r.URI)
	rest, ok := strings.CutPrefix(target, s.prefix)
	if !ok || (rest != "" && rest[0] != '/') {
		return r.RespSend404()
	}
	name, wantDir, msg := cleanFilePath(rest)
	if msg != "" {
		return r.RespSendErr(Code400BadRequest, msg)
	}
	f, err := s.open(name)
	if errors.Is(err, fs.ErrNotExist) && !wantDir {
		return s.serveFile(r, name, nil) // NAME.gz alone may exist
	}
	if err != nil {
		return s.openFailed(r, err)
	}
	isDir := f.info.IsDir()
	if isDir && !wantDir {
		f.file.Close()
		return redirect(r, target+"/")
	}
	if isDir {
		f.file.Close()
		name = path.Join(name, indexFile)
		if f, err = s.open(name); err != nil {
			return s.openFailed(r, err)
		}
	}
	f.file.Close()
	if wantDir && !isDir || !f.info.Mode().IsRegular() {
		return r.RespSend404()
	}
	return s.serveFile(r, name, f.info)
}

// openedFile is an open file with its stat.
type openedFile struct {
	file fs.File
	info fs.FileInfo
}

// open opens name after checking that no symbolic link on its way leads
// out of the root.
func (s *fileServer) open(name string) (openedFile, error) {
	if err := s.checkLinks(name); err != nil {
		return openedFile{}, err
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		return openedFile{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return openedFile{}, err
	}
	return openedFile{f, fi}, nil
}

// openFailed answers a failed open: 403 for an escape, 404 otherwise, so
// that what exists outside the root is not revealed.
func (s *fileServer) openFailed(r *Req, err error) error {
	if errors.Is(err, errEscapes) {
		return r.RespSendErr(Code403Forbidden, "")
	}
	return r.RespSend404()
}

// cleanFilePath decodes the part of the path after the prefix into a name
// for fs.FS, or returns why it is refused.
func cleanFilePath(rest string) (name string, dir bool, refused string) {
	if strings.IndexByte(rest, '\\') >= 0 {
		return "", false, "Backslash in path"
	}
	dec, err := url.PathUnescape(rest)
	if err != nil {
		return "", false, "Malformed percent-encoding in path"
	}
	if !utf8.ValidString(dec) || strings.ContainsAny(dec, "\\\x00") {
		return "", false, "Invalid character in path"
	}
	dir = rest == "" || strings.HasSuffix(dec, "/")
	name = strings.TrimSuffix(strings.TrimPrefix(dec, "/"), "/")
	if name == "" {
		return ".", dir, ""
	}
	if !fs.ValidPath(name) {
		return "", false, "Path is not clean"
	}
	return name, dir, ""
}

// maxLinkHops bounds symbolic-link resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

// checkLinks resolves the symbolic links on name's way, on file systems
// that report them, and fails with errEscapes when one leads outside.
func (s *fileServer) checkLinks(name string) error {
	lfs, ok := s.fsys.(fs.ReadLinkFS)
	if !ok || name == "." {
		return nil
	}
	hops := 0
	done, todo := ".", strings.Split(name, "/")
	for len(todo) > 0 {
		cur := path.Join(done, todo[0])
		todo = todo[1:]
		fi, err := lfs.Lstat(cur)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = cur
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("%s: too many links: %w", name, errEscapes)
		}
		dest, err := lfs.ReadLink(cur)
		if err != nil {
			return err
		}
		if path.IsAbs(dest) || strings.IndexByte(dest, '\\') >= 0 {
			return errEscapes
		}
		joined := path.Join(done, dest)
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return errEscapes
		}
		// Resolve the link's target from the root again: it may hold
		// links of its own.
		done = "."
		if joined != "." {
			todo = append(strings.Split(joined, "/"), todo...)
		}
	}
	return nil
}

// pathOf is the request target without query and fragment.
func pathOf(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		return uri[:i]
	}
	return uri
}

// redirect answers 301 to location, keeping the query.
func redirect(r *Req, location string) error {
	if q, err := r.URLQueryStr(); err == nil {
		location += "?" + q
	}
	if err := r.RespSetStatus("301 Moved Permanently"); err != nil {
		return err
	}
	if err := r.RespSetHdr("Location", location); err != nil {
		return err
	}
	return r.RespSendStr("")
}

// variant is the file chosen to answer: the original or its .gz.
type variant struct {
	name     string
	info     fs.FileInfo
	encoding string // "gzip" or ""
	vary     bool   // a .gz sibling exists: the answer depends on Accept-Encoding
}

// serveFile answers with name or its precompressed sibling. orig is name's
// stat, a regular file, or nil when name does not exist.
func (s *fileServer) serveFile(r *Req, name string, orig fs.FileInfo) error {
	v, code := s.chooseVariant(r, name, orig)
	if code != 0 {
		if code == http.StatusNotAcceptable {
			r.RespSetStatus("406 Not Acceptable")
			r.RespSetHdr("Vary", "Accept-Encoding")
			return r.RespSendStr("Only a gzip-encoded version is available")
		}
		return r.RespSend404()
	}
	f, err := s.open(v.name)
	if err != nil {
		return s.openFailed(r, err)
	}
	defer f.file.Close()

	w := newResponseWriter(r, r.Method.String())
	h := w.header
	etag := s.etag(v, f.file)
	if etag != "" {
		h.Set("ETag", etag)
	}
	if mt := v.info.ModTime(); !mt.IsZero() && mt.Unix() > 0 {
		h.Set("Last-Modified", mt.UTC().Format(http.TimeFormat))
	}
	if v.vary {
		h.Set("Vary", "Accept-Encoding")
	}
	if notModified(r, etag, v.info.ModTime()) {
		w.WriteHeader(http.StatusNotModified)
		return w.finish()
	}
	h.Set("Accept-Ranges", "bytes")
	ctype := contentTypeOf(name, v.encoding == "", f.file)
	size := v.info.Size()
	if v.encoding != "" {
		h.Set("Content-Encoding", v.encoding)
	}
	ranges, status := requestedRanges(r, etag, v.info.ModTime(), size)
	switch {
	case status == http.StatusRequestedRangeNotSatisfiable:
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "Range Not Satisfiable")
		return w.finish()
	case len(ranges) == 1:
		rg := ranges[0]
		h.Set("Content-Type", ctype)
		h.Set("Content-Range", rg.contentRange(size))
		h.Set("Content-Length", fmt.Sprint(rg.length))
		w.WriteHeader(http.StatusPartialContent)
		if err := copyRange(w, f.file, rg); err != nil {
			return w.abort(err)
		}
	case len(ranges) > 1:
		if err := writeMultipart(w, f.file, ranges, ctype, size); err != nil {
			return w.abort(err)
		}
	default:
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", fmt.Sprint(size))
		w.WriteHeader(http.StatusOK)
		if r.Method != HEAD {
			if _, err := io.CopyN(w, f.file, size); err != nil {
				return w.abort(err)
			}
		}
	}
	return w.finish()
}

// chooseVariant picks the original (orig, nil when absent) or NAME.gz by
// Accept-Encoding. code is 404 when neither exists, 406 when only the .gz
// does and the client refuses gzip.
func (s *fileServer) chooseVariant(r *Req, name string, orig fs.FileInfo) (variant, int) {
	gz, gzErr := s.statRegular(name + ".gz")
	hasGz := gzErr == nil
	ae, _ := r.HdrValueStr("Accept-Encoding")
	if hasGz && acceptsEncoding(ae, "gzip") {
		return variant{name: name + ".gz", info: gz, encoding: "gzip", vary: true}, 0
	}
	if orig != nil {
		return variant{name: name, info: orig, vary: hasGz}, 0
	}
	if hasGz {
		return variant{}, http.StatusNotAcceptable
	}
	return variant{}, http.StatusNotFound
}

// statRegular stats name (links checked) and requires a regular file.
func (s *fileServer) statRegular(name string) (fs.FileInfo, error) {
	f, err := s.open(name)
	if err != nil {
		return nil, err
	}
	f.file.Close()
	if !f.info.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	return f.info, nil
}

// etag returns a strong entity tag for the variant: from its time and size
// when it has a time, else from a hash of its content, computed once.
func (s *fileServer) etag(v variant, f fs.File) string {
	suffix := ""
	if v.encoding != "" {
		suffix = "-" + v.encoding
	}
	if mt := v.info.ModTime(); !mt.IsZero() {
		return fmt.Sprintf(`"%x-%x%s"`, mt.UnixNano(), v.info.Size(), suffix)
	}
	if tag, ok := s.hashes.Load(v.name); ok {
		return tag.(string)
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return fmt.Sprintf(`"%x%s"`, v.info.Size(), suffix)
	}
	if seeker, ok := f.(io.Seeker); !ok {
		return "" // cannot rewind: no tag rather than a wrong body
	} else if _, err := seeker.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	tag := `"` + hex.EncodeToString(sum.Sum(nil)[:12]) + suffix + `"`
	s.hashes.Store(v.name, tag)
	return tag
}

// notModified evaluates If-None-Match, or else If-Modified-Since (RFC 9110
// 13.2.2).
func notModified(r *Req, etag string, modTime time.Time) bool {
	if inm, err := r.HdrValueStr("If-None-Match"); err == nil {
		return etag != "" && etagListMatches(inm, etag)
	}
	ims, err := r.HdrValueStr("If-Modified-Since")
	if err != nil || modTime.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modTime.Truncate(time.Second).After(t)
}

// etagListMatches is the weak comparison of If-None-Match: "*" or any
// listed tag equal to etag ignoring W/.
func etagListMatches(list, etag string) bool {
	if strings.TrimSpace(list) == "*" {
		return true
	}
	for tag := range strings.SplitSeq(list, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}

// contentTypeOf is the type by extension, else sniffed from the first 512
// bytes when they can be re-read; a compressed variant is never sniffed.
func contentTypeOf(name string, sniff bool, f fs.File) string {
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		return ct
	}
	seeker, ok := f.(io.Seeker)
	if !sniff || !ok {
		return TypeOctet
	}
	var buf [512]byte
	n, _ := io.ReadFull(f, buf[:])
	if _, err := seeker.Seek(0, io.SeekStart); err != nil {
		return TypeOctet
	}
	return http.DetectContentType(buf[:n])
}

// abort ends a response whose body could not be read: nothing was sent yet
// means a 500; otherwise the session closes, so the client sees a short
// body rather than a wrong one.
func (w *responseWriter) abort(err error) error {
	if !w.streaming && w.err == nil {
		w.r.RespSendErr(Code500InternalServerError, "")
		return nil
	}
	return fmt.Errorf("file server: %w", err)
}
