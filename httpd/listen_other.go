//go:build !linux

package httpd

import (
	"fmt"
	"net"
)

// setBacklog is a no-op where a listening socket's backlog cannot be
// changed after Go created it; the system default applies.
func setBacklog(ln net.Listener, backlog int) {}

// setReusePort fails: only Linux's SO_REUSEPORT spreads the connections
// of one port over several listening sockets. Elsewhere the option either
// does not exist or (on the BSDs and macOS) lets only the last socket
// bound receive connections, which would silently starve the others.
func setReusePort(*net.ListenConfig) error {
	return fmt.Errorf("%w: Config.ReusePort needs Linux (SO_REUSEPORT load balancing)", ErrInvalidArg)
}
