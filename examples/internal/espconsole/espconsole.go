// Package espconsole is a log/slog handler that prints lines the way an
// ESP-IDF device prints them on its console:
//
//	I (1234) example: Found header => Host: localhost
//
// that is the level letter (E, W, I, D, or V below Debug), the milliseconds
// since start in parentheses, the tag, a colon and the message. Attributes
// follow the message as key=value pairs, so the httpd server's structured
// lines stay readable in the same stream.
//
// The tag is the handler's, and can be changed for a derived logger with the
// attribute TagKey ("tag"): logger.With(espconsole.TagKey, "httpd"), or
// WithTag. The examples log their own lines under their ESP-IDF tag and pass
// a logger tagged "httpd" as httpd.Config.Logger.
package espconsole

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// TagKey is the attribute key that sets the tag of a line instead of being
// printed, whether given to Logger.With or to a single log call.
const TagKey = "tag"

// LevelVerbose is ESP_LOG_VERBOSE: anything below slog.LevelDebug prints as V.
const LevelVerbose = slog.LevelDebug - 4

// processStart is the default zero of the timestamps: "since boot".
var processStart = time.Now()

// Options configures a Handler. The zero value logs Info and above, without
// colour, with timestamps counted from process start.
type Options struct {
	// Level is the lowest level printed; nil means slog.LevelInfo.
	Level slog.Leveler
	// Color wraps E, W and I lines in the ANSI colours ESP-IDF uses
	// (CONFIG_LOG_COLORS).
	Color bool
	// Start is the instant the timestamps count from; the zero Time means
	// the start of the process.
	Start time.Time
}

// output is what every handler derived from one NewHandler call shares: the
// writer and the lock that keeps lines whole.
type output struct {
	mu sync.Mutex
	w  io.Writer
}

// Handler is the slog.Handler. Create it with NewHandler; derive tagged or
// attributed handlers through slog.Logger.With.
type Handler struct {
	out    *output
	level  slog.Leveler
	color  bool
	start  time.Time
	tag    string
	attrs  []byte // preformatted " key=value" pairs from WithAttrs
	prefix string // group prefix for later attributes, "a.b."
}

// NewHandler returns a handler writing ESP-IDF console lines for tag to w.
// opts may be nil.
func NewHandler(w io.Writer, tag string, opts *Options) *Handler {
	h := &Handler{out: &output{w: w}, level: slog.LevelInfo, start: processStart, tag: tag}
	if opts != nil {
		if opts.Level != nil {
			h.level = opts.Level
		}
		h.color = opts.Color
		if !opts.Start.IsZero() {
			h.start = opts.Start
		}
	}
	return h
}

// New returns a logger for tag that prints Info and above to standard
// output, as ESP_LOGx does to the device's UART console.
func New(tag string) *slog.Logger {
	return slog.New(NewHandler(os.Stdout, tag, nil))
}

// WithTag returns a logger whose lines carry tag instead of l's tag. With a
// handler other than this package's it simply adds a "tag" attribute.
func WithTag(l *slog.Logger, tag string) *slog.Logger {
	return l.With(TagKey, tag)
}

// Letter returns ESP-IDF's letter for a level: E, W, I, D or V.
func Letter(l slog.Level) byte {
	switch {
	case l >= slog.LevelError:
		return 'E'
	case l >= slog.LevelWarn:
		return 'W'
	case l >= slog.LevelInfo:
		return 'I'
	case l >= slog.LevelDebug:
		return 'D'
	}
	return 'V'
}

func colorOf(letter byte) string {
	switch letter {
	case 'E':
		return "\033[0;31m"
	case 'W':
		return "\033[0;33m"
	case 'I':
		return "\033[0;32m"
	}
	return ""
}

const colorReset = "\033[0m"

// Enabled reports whether level is at or above the handler's level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// Handle writes one line for r in a single Write.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	tag := h.tag
	var tail []byte
	r.Attrs(func(a slog.Attr) bool {
		if h.prefix == "" && a.Key == TagKey {
			tag = a.Value.Resolve().String()
			return true
		}
		tail = appendAttr(tail, h.prefix, a)
		return true
	})

	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	ms := max(t.Sub(h.start).Milliseconds(), 0)
	letter := Letter(r.Level)

	buf := make([]byte, 0, 64+len(r.Message)+len(h.attrs)+len(tail))
	color := ""
	if h.color {
		color = colorOf(letter)
	}
	buf = append(buf, color...)
	buf = append(buf, letter, ' ', '(')
	buf = strconv.AppendInt(buf, ms, 10)
	buf = append(buf, ") "...)
	buf = append(buf, tag...)
	buf = append(buf, ": "...)
	buf = append(buf, r.Message...)
	buf = append(buf, h.attrs...)
	buf = append(buf, tail...)
	if color != "" {
		buf = append(buf, colorReset...)
	}
	buf = append(buf, '\n')

	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	_, err := h.out.w.Write(buf)
	return err
}

// WithAttrs returns a handler that prints attrs on every line; a top-level
// TagKey attribute replaces the tag instead.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		if h.prefix == "" && a.Key == TagKey {
			h2.tag = a.Value.Resolve().String()
			continue
		}
		h2.attrs = appendAttr(h2.attrs, h.prefix, a)
	}
	return &h2
}

// WithGroup returns a handler that qualifies later attribute keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// appendAttr appends " key=value", flattening groups into dotted keys.
func appendAttr(dst []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return dst
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return dst
		}
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range attrs {
			dst = appendAttr(dst, p, g)
		}
		return dst
	}
	dst = append(dst, ' ')
	dst = appendString(dst, prefix+a.Key)
	dst = append(dst, '=')
	var s string
	switch a.Value.Kind() {
	case slog.KindTime:
		s = a.Value.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			s = err.Error()
		} else {
			s = a.Value.String()
		}
	default:
		s = a.Value.String()
	}
	return appendString(dst, s)
}

// appendString appends s, quoted when it would not read back as one token.
func appendString(dst []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(dst, s)
	}
	return append(dst, s...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b == ' ' || b == '=' || b == '"' || b < 0x20 || b == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
