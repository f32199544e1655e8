//go:build !unix

package httpd_ssl

import "net"

// readNow has no non-blocking read on this platform: sessions wait as
// every transport under a recv override does.
type readNow struct{}

func (r *readNow) init(net.Conn) bool { return false }

func (r *readNow) read([]byte) (int, error) { return 0, errWouldBlock }
