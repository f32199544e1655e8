package httpd_ssl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"strings"

	"github.com/esphttpd/esphttpd/httpd_ssl/internal/certgen"
)

// SelfSigned makes a fresh self-signed certificate and ECDSA P-256 key for
// hosts (DNS names or IP addresses), as PEM for Config.ServerCert and
// Config.PrivateKey. It is for examples and tests: clients must be told to
// trust it (curl --cacert, or -k).
func SelfSigned(hosts ...string) (certPEM, keyPEM []byte) {
	p := certgen.SelfSigned(hosts...)
	return p.CertPEM, p.KeyPEM
}

// Fingerprint returns the SHA-256 fingerprint of the first certificate in a
// PEM block, as colon-separated hex (the form openssl x509 -fingerprint
// prints), or "" when there is none.
func Fingerprint(certPEM []byte) string {
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return ""
	}
	sum := sha256.Sum256(b.Bytes)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}
