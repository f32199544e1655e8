//go:build !linux

package httpd

import "net"

// setBacklog is a no-op where a listening socket's backlog cannot be
// changed after Go created it; the system default applies.
func setBacklog(ln net.Listener, backlog int) {}
