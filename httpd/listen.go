package httpd

import (
	"context"
	"net"
	"strconv"
)

// listenTCP opens the listening socket cfg describes: Host:ServerPort with
// BacklogConn, and SO_REUSEPORT when ReusePort is set.
func listenTCP(cfg *Config) (net.Listener, error) {
	// Keep-alive probes are per session and off by default, as on ESP-IDF.
	lc := net.ListenConfig{KeepAlive: -1}
	if cfg.ReusePort {
		if err := setReusePort(&lc); err != nil {
			return nil, err
		}
	}
	ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.ServerPort))))
	if err != nil {
		return nil, err
	}
	setBacklog(ln, cfg.BacklogConn)
	return ln, nil
}
