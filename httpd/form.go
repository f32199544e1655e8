package httpd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
)

// FormLimits bounds what ReadForm reads. A zero field takes the default
// given next to it.
type FormLimits struct {
	// MaxBytes bounds the whole body (default 10 MiB). A Content-Length
	// above it is refused before any of the body is read.
	MaxBytes int64
	// MaxFields bounds the fields and parts, files included (default 100).
	MaxFields int
	// MaxFieldBytes bounds one non-file value, which is held in memory
	// (default 64 KiB).
	MaxFieldBytes int64
	// MaxFileBytes bounds one file part, which is streamed (default: no
	// bound beyond MaxBytes).
	MaxFileBytes int64
}

func (l FormLimits) withDefaults() FormLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 10 << 20
	}
	if l.MaxFields <= 0 {
		l.MaxFields = 100
	}
	if l.MaxFieldBytes <= 0 {
		l.MaxFieldBytes = 64 << 10
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = l.MaxBytes
	}
	return l
}

// FormFile is a file part of a multipart/form-data body, handed to the
// ReadForm callback while it streams in.
type FormFile struct {
	// Field is the form field name; FileName the client's file name, as
	// sent: never use it as a path without cleaning it.
	Field, FileName string
	// Header is the part's header (Content-Type...).
	Header textproto.MIMEHeader
	// Reader yields the file's bytes as they arrive, up to
	// FormLimits.MaxFileBytes; reading past the limit fails with a
	// *FormError of status 413.
	io.Reader
}

// FormError is a form ReadForm refused: Status is the HTTP status to
// answer with (400 malformed, 413 over a limit, 415 not a form) and Send
// answers it.
type FormError struct {
	Status int
	Msg    string
	Err    error // the underlying cause, if any
}

// Error returns the message and the cause.
func (e *FormError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("form: %s: %v", e.Msg, e.Err)
	}
	return "form: " + e.Msg
}

// Unwrap returns the cause.
func (e *FormError) Unwrap() error { return e.Err }

// Send answers r with the error's status and message. After a 413 the
// body is left unread, so the session closes once the response is out
// when too much of it remains (ESP-IDF closes too).
func (e *FormError) Send(r *Req) error {
	if err := r.RespSetStatus(fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))); err != nil {
		return err
	}
	r.RespSetType("text/plain; charset=utf-8")
	return r.RespSendStr(e.Msg)
}

func formErr(status int, msg string, err error) *FormError {
	return &FormError{Status: status, Msg: msg, Err: err}
}

// ReadForm reads the request body as a form, application/x-www-form-urlencoded
// or multipart/form-data, and returns its non-file fields. Each file part of
// a multipart body is handed to onFile as it arrives, so a file of any size
// costs no memory: onFile reads what it wants (the rest is skipped) and
// returns nil to go on, or an error to stop, which ReadForm returns. With
// onFile nil, file parts are refused (413: the form was not expected to
// carry files).
//
// The body comes through Req.Recv (ReadForm is for the worker, like the
// handler that calls it); mime/multipart and net/url do the parsing. A
// *FormError says what was wrong with the form; FormError.Send answers it.
// The query string is not read: use URLQueryStr and QueryKeyValue.
func ReadForm(r *Req, limits FormLimits, onFile func(*FormFile) error) (url.Values, error) {
	limits = limits.withDefaults()
	ctype, err := r.HdrValueStr("Content-Type")
	if err != nil {
		return nil, formErr(http.StatusUnsupportedMediaType, "no Content-Type", nil)
	}
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, formErr(http.StatusBadRequest, "malformed Content-Type", err)
	}
	if r.ContentLen > limits.MaxBytes {
		return nil, formErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is over the limit of %d", r.ContentLen, limits.MaxBytes), nil)
	}
	body := &limitedBody{r: r, left: limits.MaxBytes}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		return readURLEncoded(body, limits)
	case "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" {
			return nil, formErr(http.StatusBadRequest, "multipart/form-data without a boundary", nil)
		}
		scan := &closeScanner{r: body, delim: []byte("--" + boundary + "--")}
		return readMultipart(multipart.NewReader(scan, boundary), scan, limits, onFile)
	}
	return nil, formErr(http.StatusUnsupportedMediaType, "Content-Type "+mediaType+" is not a form", nil)
}

func readURLEncoded(body io.Reader, limits FormLimits) (url.Values, error) {
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyErr(err)
	}
	values, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, formErr(http.StatusBadRequest, "malformed urlencoded form", err)
	}
	n := 0
	for _, v := range values {
		n += len(v)
	}
	if n > limits.MaxFields {
		return nil, formErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d fields", limits.MaxFields), nil)
	}
	for k, vs := range values {
		for _, v := range vs {
			if int64(len(v)) > limits.MaxFieldBytes {
				return nil, formErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("field %q is over %d bytes", k, limits.MaxFieldBytes), nil)
			}
		}
	}
	return values, nil
}

func readMultipart(mr *multipart.Reader, scan *closeScanner, limits FormLimits, onFile func(*FormFile) error) (url.Values, error) {
	values := make(url.Values)
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			if !scan.seen {
				// mime/multipart also says io.EOF when the body ends
				// inside a part's header.
				return nil, formErr(http.StatusBadRequest, "malformed multipart body: it ends before the closing boundary", nil)
			}
			return values, nil
		}
		if err != nil {
			return nil, bodyErr(err)
		}
		if n >= limits.MaxFields {
			return nil, formErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d parts", limits.MaxFields), nil)
		}
		name := part.FormName()
		if name == "" {
			return nil, formErr(http.StatusBadRequest, "part without a form-data name", nil)
		}
		if part.FileName() == "" {
			v, err := io.ReadAll(&limitedPart{r: part, left: limits.MaxFieldBytes, what: "field " + name})
			if err != nil {
				return nil, bodyErr(err)
			}
			values.Add(name, string(v))
			continue
		}
		if onFile == nil {
			return nil, formErr(http.StatusRequestEntityTooLarge, "file parts are not accepted here", nil)
		}
		f := &FormFile{Field: name, FileName: part.FileName(), Header: part.Header,
			Reader: &limitedPart{r: part, left: limits.MaxFileBytes, what: "file " + part.FileName()}}
		if err := onFile(f); err != nil {
			return nil, err
		}
		// What the callback left is skipped, still within the limits.
		if _, err := io.Copy(io.Discard, f.Reader); err != nil {
			return nil, bodyErr(err)
		}
	}
}

// bodyErr classifies a read failure: a FormError stays as it is, a
// receive failure is returned as it is (the client is gone or slow), and
// anything else is malformed multipart syntax.
func bodyErr(err error) error {
	var fe *FormError
	var re *recvError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &re):
		return re.err
	}
	return formErr(http.StatusBadRequest, "malformed multipart body", err)
}

// recvError marks an error from Req.Recv, to keep it apart from parse
// errors once it has come back through mime/multipart.
type recvError struct{ err error }

func (e *recvError) Error() string { return e.err.Error() }
func (e *recvError) Unwrap() error { return e.err }

// closeScanner notes whether the close delimiter went by, because
// mime/multipart's NextPart returns a bare io.EOF both at the end of a
// complete body and for a body cut off in a part's header.
type closeScanner struct {
	r     io.Reader
	delim []byte
	tail  []byte // the last len(delim)-1 bytes, for a delimiter split between reads
	seen  bool
}

func (s *closeScanner) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && !s.seen {
		window := append(s.tail, p[:n]...)
		s.seen = bytes.Contains(window, s.delim)
		keep := min(len(window), len(s.delim)-1)
		s.tail = append(s.tail[:0], window[len(window)-keep:]...)
	}
	return n, err
}

// limitedBody reads the body through Recv, at most left bytes.
type limitedBody struct {
	r    *Req
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body at the limit from one over it.
		var one [1]byte
		n, err := b.r.Recv(one[:])
		if n == 0 && err == io.EOF {
			return 0, io.EOF
		}
		if n == 0 && err != nil {
			return 0, &recvError{err}
		}
		return 0, formErr(http.StatusRequestEntityTooLarge, "body is over the limit", nil)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Recv(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		err = &recvError{err}
	}
	return n, err
}

// limitedPart reads a part, failing with 413 past left bytes.
type limitedPart struct {
	r    io.Reader
	left int64
	what string
}

func (l *limitedPart) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		l.left = 0
		return 0, formErr(http.StatusRequestEntityTooLarge, l.what+" is over the limit", nil)
	}
	l.left -= int64(n)
	return n, err
}
