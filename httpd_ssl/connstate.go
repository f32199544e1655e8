package httpd_ssl

import "crypto/tls"

// ConnectionState returns the session's TLS state. Exported on the
// transport context (Handle.SessGetTransportCtx) so that code holding only
// an *httpd.Handle, such as httpd.FromHTTP filling http.Request.TLS, can
// read it without importing this package.
func (s *session) ConnectionState() tls.ConnectionState { return s.conn.ConnectionState() }
