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
	// Data is the content, encoded as ContentEncoding says.
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

// acceptsEncoding reports whether an Accept-Encoding value allows enc: a
// listed token (x-gzip counting as gzip) with a q-value above 0 decides,
// else a "*" with one does. An absent header allows anything (RFC 9110
// section 12.5.3), but clients that omit it rarely decode, so like most
// servers we send the identity form then.
func acceptsEncoding(accept, enc string) bool {
	wildcard := false
	for item := range strings.SplitSeq(accept, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(item), ";")
		token = strings.TrimSpace(token)
		named := strings.EqualFold(token, enc) ||
			strings.EqualFold(enc, "gzip") && strings.EqualFold(token, "x-gzip")
		if !named && token != "*" {
			continue
		}
		if named {
			return qValue(params) > 0
		}
		wildcard = qValue(params) > 0
	}
	return wildcard
}

// qValue is the weight among an Accept-Encoding item's parameters: 1 when
// absent, 0 when malformed, so that a garbled weight never opts in.
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}
