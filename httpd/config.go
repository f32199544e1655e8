package httpd

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/esphttpd/esphttpd/sess"
	"github.com/esphttpd/esphttpd/uri_match"
)

// FreeCtxFunc releases a context (httpd_free_ctx_fn_t). nil means the
// context needs no release: Go's garbage collector takes the part of free().
type FreeCtxFunc = sess.FreeFunc

// OpenFunc is called on the worker right after a connection is accepted,
// before anything is read (httpd_open_func_t). A non-nil error ends the
// session at once; as on ESP-IDF, whose httpd_sess_delete runs close_fn,
// the close callback then runs for it too, so a transport set up halfway is
// torn down.
type OpenFunc func(h *Handle, sockfd int) error

// CloseFunc is called on the worker for every session that ends, before its
// contexts are freed and before its socket is closed (httpd_close_func_t).
// Unlike ESP-IDF, it need not close the socket: the server always does.
type CloseFunc func(h *Handle, sockfd int)

// Config is httpd_config_t. Start from DefaultConfig and change only what
// the use case needs; the zero Config is not valid.
type Config struct {
	// Host is the address to listen on; "" listens on every interface, as
	// ESP-IDF does. The examples use 127.0.0.1.
	Host string
	// ServerPort is the TCP port (server_port). 0 picks an ephemeral port,
	// which Handle.Port reports.
	ServerPort uint16
	// CtrlPort is kept for source compatibility with httpd_config_t. The Go
	// server signals its worker through a channel, not a UDP socket, so the
	// port is never opened.
	CtrlPort uint16
	// Listener, when set, is used instead of listening on Host:ServerPort.
	// Stop closes it.
	Listener net.Listener
	// ReusePort sets SO_REUSEPORT on the listening socket (Linux only;
	// elsewhere Start fails), so that several handles can listen on one
	// Host:ServerPort and the kernel spreads new connections over them.
	// Each handle has its own worker goroutine, sessions and limits
	// (MaxOpenSockets is per handle), which is how a server uses more than
	// one core. Every handle on the port must set it; register the same
	// handlers on each. Not with Listener.
	ReusePort bool

	// MaxOpenSockets bounds the sessions open at once (max_open_sockets).
	MaxOpenSockets int
	// MaxURIHandlers bounds the registered URI handlers (max_uri_handlers).
	MaxURIHandlers int
	// MaxRespHeaders bounds the additional response headers a handler may
	// set with RespSetHdr (max_resp_headers).
	MaxRespHeaders int
	// BacklogConn is the listen backlog (backlog_conn). Connections beyond
	// MaxOpenSockets wait there when LRUPurgeEnable is off.
	BacklogConn int
	// LRUPurgeEnable closes the least recently used session when a new
	// connection arrives and every session is in use (lru_purge_enable).
	// On by default, unlike ESP-IDF: with it off, MaxOpenSockets idle
	// keep-alive connections (a browser opens six per origin) lock every
	// new client out for as long as they stay open.
	LRUPurgeEnable bool

	// RecvWaitTimeout bounds every receive (recv_wait_timeout, in seconds
	// on ESP-IDF). A request head, and a body up to MaxBufferedBody, must
	// arrive completely within it once its first byte is in; each Req.Recv
	// call gets the full timeout again.
	RecvWaitTimeout time.Duration
	// SendWaitTimeout bounds every send (send_wait_timeout).
	SendWaitTimeout time.Duration

	// MaxURILen bounds the request target in bytes (CONFIG_HTTPD_MAX_URI_LEN);
	// longer ones are answered 414. The default is 8 KiB, as nginx's and
	// Apache's request-line limits, not ESP-IDF's 512 bytes: see
	// ESPIDFDefaultConfig.
	MaxURILen int
	// MaxReqHdrLen bounds the header section in bytes
	// (CONFIG_HTTPD_MAX_REQ_HDR_LEN); larger ones are answered 431. The
	// default is 8 KiB, as nginx serves, not ESP-IDF's 512 bytes: a
	// browser's request head is about 650 bytes before it carries any
	// cookie.
	MaxReqHdrLen int
	// MaxBufferedBody is the largest body, announced by Content-Length,
	// that is read in full before the handler runs, so that a slow client
	// cannot hold the worker. Larger bodies stream through Req.Recv.
	MaxBufferedBody int

	// MinBodyRate is the slowest average rate, in bytes per second, at which
	// a client may send a body that a handler reads through Recv, after a
	// first RecvWaitTimeout of grace; slower, Recv times out. A handler
	// reading a body holds the worker, so without it a client sending a
	// byte just before each timeout would hold the server for ever. 0
	// disables the check (ESP-IDF's behaviour).
	MinBodyRate int

	// HTTP2 serves HTTP/2 on the same port: clients that open with the
	// HTTP/2 preface (prior knowledge, or TLS with ALPN "h2" through
	// httpd_ssl) and HTTP/1.1 requests asking to upgrade to h2c. On by
	// default: HTTP/1.1 clients never see a difference.
	HTTP2 bool
	// HTTP2MaxConcurrentStreams bounds the open streams of one HTTP/2
	// connection (Zephyr's CONFIG_HTTP_SERVER_MAX_STREAMS); more are
	// refused with RST_STREAM REFUSED_STREAM.
	HTTP2MaxConcurrentStreams int
	// HTTP2MaxFrameSize is the largest frame payload accepted.
	HTTP2MaxFrameSize int
	// HTTP2MaxHeaderListSize bounds a request's decoded header list; a
	// larger one is answered 431.
	HTTP2MaxHeaderListSize int

	// WSMaxMessageLen bounds a WebSocket message, all its fragments
	// together; a longer one fails the connection with close code 1009.
	// 0 means no limit.
	WSMaxMessageLen int
	// WSCloseTimeout is how long the server waits for the client's close
	// frame after sending its own before it closes the connection.
	WSCloseTimeout time.Duration

	// KeepAliveEnable turns on TCP keep-alive probes (keep_alive_enable)
	// with the idle time, interval and count below.
	KeepAliveEnable   bool
	KeepAliveIdle     time.Duration
	KeepAliveInterval time.Duration
	KeepAliveCount    int

	// EnableSoLinger sets SO_LINGER with LingerTimeout on every session
	// socket (enable_so_linger, linger_timeout).
	EnableSoLinger bool
	LingerTimeout  time.Duration

	// GlobalUserCtx is returned by Handle.GetGlobalUserCtx; its free
	// function runs when the server stops.
	GlobalUserCtx       any
	GlobalUserCtxFreeFn FreeCtxFunc
	// GlobalTransportCtx is returned by Handle.GetGlobalTransportCtx (for
	// example httpd_ssl's TLS configuration); freed when the server stops.
	GlobalTransportCtx       any
	GlobalTransportCtxFreeFn FreeCtxFunc

	// OpenFn and CloseFn are the session open and close callbacks.
	OpenFn  OpenFunc
	CloseFn CloseFunc

	// URIMatchFn matches request paths against registered URI templates
	// and finds duplicates at registration (uri_match_fn). nil is the exact
	// match; uri_match.Wildcard is ESP-IDF's wildcard matcher.
	URIMatchFn uri_match.MatchFunc

	// Logger receives the server's log lines; nil discards them. ESP_LOGE,
	// ESP_LOGW, ESP_LOGI and ESP_LOGD map to slog's Error, Warn, Info and
	// Debug levels.
	Logger *slog.Logger

	// EventHandler receives the server events ESP-IDF posts to its event
	// loop (HTTP_SERVER_EVENT_*). See Event for where it runs.
	EventHandler func(Event)

	// MaxReqBodySize bounds request bodies (ESP-IDF has no such limit; 0,
	// the default, keeps it that way). A request announcing a longer
	// Content-Length is answered 413 before its handler runs and without
	// its body being read; a body without a length (chunked, or HTTP/2
	// DATA) that grows past it fails Req.Recv with ErrContentTooLarge, and
	// the client gets 413 if the handler sent nothing. URI.MaxBodySize
	// overrides it per handler.
	MaxReqBodySize int64

	// IdleTimeout closes a session that has waited this long for a request
	// (its first, or the next on a keep-alive connection), as Zephyr's
	// CONFIG_HTTP_SERVER_CLIENT_INACTIVITY_TIMEOUT does. 0, the default and
	// ESP-IDF's behaviour, waits for ever: LRU purge makes room instead.
	IdleTimeout time.Duration

	// AccessLog, when set, receives one Info record per HTTP response (not
	// per WebSocket frame) after its handler returns, with the method,
	// URI, status (0 for a raw Send), body bytes sent, duration, protocol
	// and session id. nil, the default, logs nothing and costs nothing.
	AccessLog *slog.Logger
}

// DefaultConfig returns HTTPD_DEFAULT_CONFIG() with the changes a server on
// a host needs to serve browsers: MaxURILen and MaxReqHdrLen of 8 KiB, and
// LRUPurgeEnable on so that idle clients cannot lock new ones out.
// ESPIDFDefaultConfig has ESP-IDF's exact values.
func DefaultConfig() Config {
	return Config{
		ServerPort:      80,
		CtrlPort:        32768,
		MaxOpenSockets:  7,
		MaxURIHandlers:  8,
		MaxRespHeaders:  8,
		BacklogConn:     5,
		LRUPurgeEnable:  true,
		RecvWaitTimeout: 5 * time.Second,
		SendWaitTimeout: 5 * time.Second,
		MaxURILen:       8 << 10,
		MaxReqHdrLen:    8 << 10,
		MaxBufferedBody: 16 << 10,
		MinBodyRate:     1024,
		WSMaxMessageLen: 1 << 20,

		HTTP2:                     true,
		HTTP2MaxConcurrentStreams: 10,
		HTTP2MaxFrameSize:         16384,
		HTTP2MaxHeaderListSize:    16 << 10,
		WSCloseTimeout:            time.Second,

		KeepAliveIdle:     5 * time.Second,
		KeepAliveInterval: 5 * time.Second,
		KeepAliveCount:    3,
	}
}

// ESPIDFDefaultConfig returns HTTPD_DEFAULT_CONFIG() exactly as ESP-IDF
// has it, for ports that depend on its values: MaxURILen and MaxReqHdrLen
// of 512 bytes (CONFIG_HTTPD_MAX_URI_LEN, CONFIG_HTTPD_MAX_REQ_HDR_LEN) and
// LRU purge off, so that connections beyond MaxOpenSockets wait in the
// listen backlog. Fields that ESP-IDF does not have (HTTP2, MinBodyRate,
// MaxBufferedBody, the WebSocket limits) keep DefaultConfig's values.
func ESPIDFDefaultConfig() Config {
	cfg := DefaultConfig()
	cfg.LRUPurgeEnable = false
	cfg.MaxURILen = 512
	cfg.MaxReqHdrLen = 512
	return cfg
}

// validate reports the first field that cannot work, by name.
func (c *Config) validate() error {
	checks := []struct {
		bad   bool
		field string
		want  string
	}{
		{c.MaxOpenSockets < 1, "MaxOpenSockets", "at least 1"},
		{c.MaxURIHandlers < 1, "MaxURIHandlers", "at least 1"},
		{c.MaxRespHeaders < 0, "MaxRespHeaders", "0 or more"},
		{c.BacklogConn < 0, "BacklogConn", "0 or more"},
		{c.ReusePort && c.Listener != nil, "ReusePort", "false with a Listener (set SO_REUSEPORT on that listener)"},
		{c.RecvWaitTimeout <= 0, "RecvWaitTimeout", "positive"},
		{c.IdleTimeout < 0, "IdleTimeout", "zero (no limit) or positive"},
		{c.SendWaitTimeout <= 0, "SendWaitTimeout", "positive"},
		{c.MaxURILen < 1, "MaxURILen", "at least 1"},
		{c.MaxReqHdrLen < 1, "MaxReqHdrLen", "at least 1"},
		{c.MaxBufferedBody < 0, "MaxBufferedBody", "0 or more"},
		{c.MinBodyRate < 0, "MinBodyRate", "0 or more"},
		{c.WSMaxMessageLen < 0, "WSMaxMessageLen", "0 or more"},
		{c.HTTP2 && c.HTTP2MaxConcurrentStreams < 1, "HTTP2MaxConcurrentStreams", "at least 1"},
		{c.HTTP2 && (c.HTTP2MaxFrameSize < 16384 || c.HTTP2MaxFrameSize > 1<<24-1), "HTTP2MaxFrameSize", "between 16384 and 16777215"},
		{c.HTTP2 && c.HTTP2MaxHeaderListSize < 1, "HTTP2MaxHeaderListSize", "at least 1"},
		{c.WSCloseTimeout <= 0, "WSCloseTimeout", "positive"},
		{c.KeepAliveEnable && (c.KeepAliveIdle <= 0 || c.KeepAliveInterval <= 0 || c.KeepAliveCount < 1),
			"KeepAliveIdle/KeepAliveInterval/KeepAliveCount", "positive when KeepAliveEnable is set"},
		{c.EnableSoLinger && c.LingerTimeout < 0, "LingerTimeout", "0 or more"},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("%w: Config.%s must be %s", ErrInvalidArg, ch.field, ch.want)
		}
	}
	return nil
}
