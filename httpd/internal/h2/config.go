package h2

import (
	"time"

	"golang.org/x/net/http2"
)

// ErrCode is an HTTP/2 error code (RFC 9113 section 7).
type ErrCode = http2.ErrCode

// Defaults applied by Config fields left zero.
const (
	// DefaultMaxConcurrentStreams matches Zephyr's
	// CONFIG_HTTP_SERVER_MAX_STREAMS default. esphttpd runs every handler on
	// one worker, so streams of a connection are served one after the other
	// anyway: more concurrency only buys buffered request bodies (up to
	// InitialWindowSize each), not throughput.
	DefaultMaxConcurrentStreams = 10
	DefaultMaxFrameSize         = 16384    // RFC 9113 minimum and initial value
	DefaultMaxHeaderListSize    = 16 << 10 // decoded header list, RFC size (name+value+32 per field)
	DefaultHeaderTableSize      = 4096     // RFC 7541 initial value
	DefaultInitialWindowSize    = 65535    // RFC 9113 initial value
)

// Rate is a token bucket: Burst events at once, refilled at PerSecond.
type Rate struct {
	Burst     int
	PerSecond float64
}

// Config holds the limits of a connection. Zero fields take the defaults.
type Config struct {
	// MaxConcurrentStreams is advertised in SETTINGS; a HEADERS frame that
	// would open one more stream is answered with RST_STREAM REFUSED_STREAM.
	MaxConcurrentStreams uint32
	// MaxPendingStreams bounds streams handed to the worker and not yet
	// released with StreamDone, including ones the peer reset (default
	// 4*MaxConcurrentStreams). Exceeding it is the rapid reset attack
	// (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM.
	MaxPendingStreams int
	// MaxFrameSize is the largest frame payload we accept (advertised).
	MaxFrameSize uint32
	// MaxHeaderListSize bounds a request's decoded header list (advertised).
	// A larger list is reported as EventHeaderTooLarge so the caller can
	// answer 431 (RFC 9113 10.5.1). The compressed header block (HEADERS plus
	// CONTINUATION frames) may not exceed 2*MaxHeaderListSize+MaxFrameSize
	// bytes, counting 256 bytes per frame: beyond that, GOAWAY
	// ENHANCE_YOUR_CALM (CONTINUATION flood, CVE-2024-27316). A single
	// header string longer than MaxHeaderListSize ends the connection
	// (GOAWAY ENHANCE_YOUR_CALM) because HPACK cannot skip it.
	MaxHeaderListSize uint32
	// HeaderTableSize is our HPACK decoder's dynamic table size (advertised).
	HeaderTableSize uint32
	// InitialWindowSize is each stream's receive window (advertised); it
	// bounds the request body bytes buffered per stream. Streams opened
	// before the peer acknowledges our SETTINGS get at least the RFC's
	// 65535, which the peer may still assume.
	InitialWindowSize uint32
	// ConnWindowSize is the connection's receive window (raised from 65535
	// with a WINDOW_UPDATE at start; default MaxConcurrentStreams *
	// InitialWindowSize, so every stream can fill its window at once). It
	// is credited back as DATA arrives: memory is bounded by the stream
	// windows, at most MaxConcurrentStreams * InitialWindowSize buffered.
	ConnWindowSize uint32

	// ResetRate limits RST_STREAM frames from the peer (default burst 200,
	// 100 per second). More: GOAWAY ENHANCE_YOUR_CALM.
	ResetRate Rate
	// PingRate limits PING frames (default burst 50, 10 per second).
	PingRate Rate
	// SettingsRate limits SETTINGS frames (default burst 50, 10 per second).
	SettingsRate Rate
	// EmptyFrameRate limits frames that carry nothing: DATA without payload
	// nor END_STREAM, CONTINUATION without payload, unknown frame types and
	// PRIORITY frames (default burst 500, 100 per second).
	EmptyFrameRate Rate
}

func (c Config) withDefaults() Config {
	if c.MaxConcurrentStreams == 0 {
		c.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	if c.MaxPendingStreams <= 0 {
		c.MaxPendingStreams = 4 * int(c.MaxConcurrentStreams)
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = DefaultMaxFrameSize
	}
	c.MaxFrameSize = min(max(c.MaxFrameSize, 16384), 1<<24-1)
	if c.MaxHeaderListSize == 0 {
		c.MaxHeaderListSize = DefaultMaxHeaderListSize
	}
	if c.HeaderTableSize == 0 {
		c.HeaderTableSize = DefaultHeaderTableSize
	}
	if c.InitialWindowSize == 0 {
		c.InitialWindowSize = DefaultInitialWindowSize
	}
	c.InitialWindowSize = min(c.InitialWindowSize, maxWindow)
	if c.ConnWindowSize == 0 {
		c.ConnWindowSize = uint32(min(int64(c.MaxConcurrentStreams)*int64(c.InitialWindowSize), maxWindow))
	}
	c.ConnWindowSize = min(max(c.ConnWindowSize, 65535), maxWindow)
	c.ResetRate = c.ResetRate.or(200, 100)
	c.PingRate = c.PingRate.or(50, 10)
	c.SettingsRate = c.SettingsRate.or(50, 10)
	c.EmptyFrameRate = c.EmptyFrameRate.or(500, 100)
	return c
}

func (r Rate) or(burst int, perSecond float64) Rate {
	if r.Burst <= 0 {
		r.Burst = burst
	}
	if r.PerSecond <= 0 {
		r.PerSecond = perSecond
	}
	return r
}

const maxWindow = 1<<31 - 1

// bucket is a token bucket; used by the reader goroutine only.
type bucket struct {
	rate   Rate
	tokens float64
	last   time.Time
}

func newBucket(r Rate) bucket { return bucket{rate: r, tokens: float64(r.Burst)} }

// take spends one token; false means the limit is exceeded.
func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(float64(b.rate.Burst), b.tokens+now.Sub(b.last).Seconds()*b.rate.PerSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
