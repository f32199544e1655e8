package main

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/esphttpd/esphttpd/httpd"
)

// upload is upload_post_handler: the request body becomes the file named by
// the path after /upload, which must not exist yet.
func (s *fileServer) upload(r *httpd.Req) error {
	p, ok := pathFromURI(r.URI, "/upload")
	if !ok {
		return sendErr(r, httpd.Code500InternalServerError, "Filename too long")
	}
	// Filename cannot have a trailing '/'
	if p == "" || strings.HasSuffix(p, "/") {
		s.errorf("Invalid filename : %s", p)
		return sendErr(r, httpd.Code500InternalServerError, "Invalid filename")
	}
	decoded, name, ok := storageName(p)
	if !ok || name == "." {
		return s.invalidPath(r, p)
	}
	if _, err := s.root.Lstat(name); err == nil {
		s.errorf("File already exists : %s", s.fullPath(decoded))
		return sendErr(r, httpd.Code400BadRequest, "File already exists")
	}
	// File cannot be larger than a limit
	if r.ContentLen > maxFileSize {
		s.errorf("File too large : %d bytes", r.ContentLen)
		// Returning failure closes the connection, else the incoming
		// file content would keep the socket busy.
		return sendErr(r, httpd.Code400BadRequest, "File size must be less than "+maxFileSizeStr+"!")
	}
	// O_EXCL: a file created since the check above is not replaced.
	f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		s.errorf("Failed to create file : %s", s.fullPath(decoded))
		return sendErr(r, httpd.Code500InternalServerError, "Failed to create file")
	}
	s.logf("Receiving file : %s...", decoded)
	if fail := s.receive(r, f); fail != nil {
		// Close and delete the unfinished file before answering, so that
		// a client told of the failure never finds the file.
		f.Close()
		s.root.Remove(name)
		return sendErr(r, fail.code, fail.msg)
	}
	if err := f.Close(); err != nil {
		s.root.Remove(name)
		s.errorf("File write failed!")
		return sendErr(r, httpd.Code500InternalServerError, "Failed to write file to storage")
	}
	s.logf("File reception complete")
	// Redirect onto root to see the updated file list
	r.RespSetStatus("303 See Other")
	r.RespSetHdr("Location", "/")
	return r.RespSendStr("File uploaded successfully")
}

// maxRecvTimeouts is how many receive timeouts in a row end an upload.
const maxRecvTimeouts = 3

// failure is an error answer not sent yet.
type failure struct {
	code httpd.ErrCode
	msg  string
}

// receive copies the body into f through the scratch buffer. With a
// Content-Length it reads exactly that, logging what remains before each
// read as the original does; a chunked body is read to its end within
// maxFileSize. A failure is logged and returned for the caller to answer.
func (s *fileServer) receive(r *httpd.Req, f *os.File) *failure {
	_, chunkedErr := r.HdrValueStr("Transfer-Encoding")
	chunked := chunkedErr == nil
	remaining := r.ContentLen
	var total int64
	timeouts := 0
	for chunked || remaining > 0 {
		want := int64(len(s.scratch))
		if !chunked {
			s.logf("Remaining size : %d", remaining)
			want = min(remaining, want)
		}
		n, err := r.Recv(s.scratch[:want])
		if errors.Is(err, httpd.ErrSockTimeout) && n == 0 {
			// Retry if timeout occurred, as the original does, but not
			// for ever: a client that stopped sending would hold the
			// worker, and past Config.MinBodyRate every retry fails at
			// once.
			if timeouts++; timeouts < maxRecvTimeouts {
				continue
			}
		}
		timeouts = 0
		if n > 0 {
			total += int64(n)
			if chunked && total > maxFileSize {
				s.errorf("File too large : %d bytes", total)
				return &failure{httpd.Code400BadRequest, "File size must be less than " + maxFileSizeStr + "!"}
			}
			if _, werr := f.Write(s.scratch[:n]); werr != nil {
				// Couldn't write everything to file! Storage may be full?
				s.errorf("File write failed!")
				return &failure{httpd.Code500InternalServerError, "Failed to write file to storage"}
			}
			remaining -= int64(n)
		}
		if chunked && err == io.EOF {
			return nil
		}
		if err != nil && (err != io.EOF || remaining > 0) {
			s.errorf("File reception failed!")
			return &failure{httpd.Code500InternalServerError, "Failed to receive file"}
		}
	}
	return nil
}

// delete is delete_post_handler: removes the file named by the path after
// /delete.
func (s *fileServer) delete(r *httpd.Req) error {
	p, ok := pathFromURI(r.URI, "/delete")
	if !ok {
		return sendErr(r, httpd.Code500InternalServerError, "Filename too long")
	}
	// Filename cannot have a trailing '/'
	if p == "" || strings.HasSuffix(p, "/") {
		s.errorf("Invalid filename : %s", p)
		return sendErr(r, httpd.Code500InternalServerError, "Invalid filename")
	}
	decoded, name, ok := storageName(p)
	if !ok || name == "." {
		return s.invalidPath(r, p)
	}
	if _, err := s.root.Lstat(name); err != nil {
		s.errorf("File does not exist : %s", decoded)
		return sendErr(r, httpd.Code400BadRequest, "File does not exist")
	}
	s.logf("Deleting file : %s", decoded)
	if err := s.root.Remove(name); err != nil {
		// unlink's result goes unchecked in the original; a folder that
		// is not empty, for one, stays, and the client should know.
		s.errorf("Failed to delete file : %s", s.fullPath(decoded))
		return sendErr(r, httpd.Code500InternalServerError, "Failed to delete file")
	}
	// Redirect onto root to see the updated file list
	r.RespSetStatus("303 See Other")
	r.RespSetHdr("Location", "/")
	return r.RespSendStr("File deleted successfully")
}
