package httpd

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// StaticResource is content fixed at registration (http_resource_detail_static).
type StaticResource struct {
	ResourceDetail
	Data []byte
}

// static serves a StaticResource.
type static struct {
	d       *StaticResource
	allowed MethodSet
	etag    string
	decoded []byte // the content without its encoding, for clients that do not accept it
}

func newStatic(d *StaticResource) (*static, error) {
	s := &static{d: d, allowed: staticMethods(d.Methods)}
	sum := sha256.Sum256(d.Data)
	s.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if enc := d.ContentEncoding; enc != "" && !strings.EqualFold(enc, "identity") {
		if strings.EqualFold(enc, "gzip") {
			zr, err := gzip.NewReader(bytes.NewReader(d.Data))
			if err != nil {
				return nil, fmt.Errorf("%w: StaticResource.Data is not gzip: %v", ErrInvalidArg, err)
			}
			if s.decoded, err = io.ReadAll(zr); err != nil {
				return nil, fmt.Errorf("%w: StaticResource.Data is not gzip: %v", ErrInvalidArg, err)
			}
		}
	}
	return s, nil
}

// staticMethods is the method set of a static resource: GET when none is
// given, and HEAD wherever GET is served.
func staticMethods(m MethodSet) MethodSet {
	if m == 0 {
		m = Methods(GET)
	}
	if m.Has(GET) {
		m |= Methods(HEAD)
	}
	return m
}

func (s *static) serve(r *Req) error {
	if !methodAllowed(r, s.allowed) {
		return nil
	}
	if inm, err := r.HdrValueStr("If-None-Match"); err == nil && etagListMatches(inm, s.etag) {
		return r.sendNotModified(s.etag)
	}
	body := s.d.Data
	if enc := s.d.ContentEncoding; enc != "" && !strings.EqualFold(enc, "identity") {
		r.RespSetHdr("Vary", "Accept-Encoding")
		accept, _ := r.HdrValueStr("Accept-Encoding")
		switch {
		case acceptsEncoding(accept, enc):
			r.RespSetHdr("Content-Encoding", enc)
		case s.decoded != nil:
			body = s.decoded
		default:
			r.RespSetStatus("406 Not Acceptable")
			return r.RespSendStr("Content is only available as " + enc)
		}
	}
	r.RespSetHdr("ETag", s.etag)
	if s.d.ContentType != "" {
		r.RespSetType(s.d.ContentType)
	}
	return r.RespSend(body)
}

// sendNotModified answers 304 with the entity tag: a 304 has neither body
// nor Content-Length (the framing decision leaves both out).
func (r *Req) sendNotModified(etag string) error {
	r.RespSetStatus("304 Not Modified")
	r.RespSetHdr("ETag", etag)
	return r.RespSend(nil)
}

// acceptsEncoding reports whether an Accept-Encoding value allows enc (a
// listed token, or "*", with a q-value above 0). An absent header allows
// anything (RFC 9110 section 12.5.3), but clients that omit it rarely
// decode, so like most servers we send the identity form then.
func acceptsEncoding(accept, enc string) bool {
	for _, item := range strings.Split(accept, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(token, enc) && token != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
