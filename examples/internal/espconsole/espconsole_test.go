package espconsole

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTest(level slog.Leveler) (*bytes.Buffer, *slog.Logger) {
	var buf bytes.Buffer
	return &buf, slog.New(NewHandler(&buf, "example", &Options{Level: level, Start: time.Now()}))
}

func lines(buf *bytes.Buffer) []string {
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestLineFormat(t *testing.T) {
	buf, log := newTest(LevelVerbose)
	log.Error("e")
	log.Warn("w")
	log.Info("Found header => Host: localhost")
	log.Debug("d")
	log.Log(t.Context(), LevelVerbose, "v")

	re := regexp.MustCompile(`^([EWIDV]) \((\d+)\) example: (.*)$`)
	want := []struct{ letter, msg string }{
		{"E", "e"}, {"W", "w"}, {"I", "Found header => Host: localhost"}, {"D", "d"}, {"V", "v"},
	}
	got := lines(buf)
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), buf)
	}
	for i, w := range want {
		m := re.FindStringSubmatch(got[i])
		if m == nil {
			t.Fatalf("line %q is not in ESP-IDF console form", got[i])
		}
		if m[1] != w.letter || m[3] != w.msg {
			t.Errorf("line %d = %q, want letter %s and message %q", i, got[i], w.letter, w.msg)
		}
	}
}

func TestTimestampCountsMillisecondsFromStart(t *testing.T) {
	var buf bytes.Buffer
	start := time.Now().Add(-1500 * time.Millisecond)
	log := slog.New(NewHandler(&buf, "t", &Options{Start: start}))
	log.Info("x")
	var ms int
	if _, err := fmt.Sscanf(buf.String(), "I (%d) t: x", &ms); err != nil {
		t.Fatalf("parse %q: %v", buf.String(), err)
	}
	if ms < 1500 || ms > 60_000 {
		t.Errorf("timestamp %d ms, want about 1500", ms)
	}
}

func TestLevelFilter(t *testing.T) {
	buf, log := newTest(nil) // Info by default
	log.Debug("hidden")
	log.Info("shown")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "shown") {
		t.Errorf("output %q: Debug must be filtered at the default level", got)
	}
	var lv slog.LevelVar
	lv.Set(slog.LevelError)
	buf, log = newTest(&lv)
	log.Warn("hidden")
	lv.Set(slog.LevelWarn)
	log.Warn("shown")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "W (") {
		t.Errorf("output %q: a LevelVar must be honoured as it changes", got)
	}
}

func TestTagAndAttrs(t *testing.T) {
	buf, log := newTest(nil)
	httpdLog := WithTag(log, "httpd")
	httpdLog.Info("Started server", "port", 8080)
	log.Info("own line")
	log.Info("per call", TagKey, "other")
	log.With("fd", 3).WithGroup("req").Info("grouped", "uri", "/hello world", slog.Group("g", "k", true))
	log.Info("error attr", "err", errors.New("boom"), "empty", "")

	want := []string{
		`httpd: Started server port=8080`,
		`example: own line`,
		`other: per call`,
		`example: grouped fd=3 req.uri="/hello world" req.g.k=true`,
		`example: error attr err=boom empty=""`,
	}
	got := lines(buf)
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), buf)
	}
	for i := range want {
		if !strings.HasSuffix(got[i], ") "+want[i]) {
			t.Errorf("line %d = %q, want it to end in %q", i, got[i], want[i])
		}
	}
}

func TestColor(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(&buf, "c", &Options{Color: true, Level: slog.LevelDebug}))
	log.Info("i")
	log.Debug("d")
	got := lines(&buf)
	if !strings.HasPrefix(got[0], "\033[0;32mI (") || !strings.HasSuffix(got[0], "\033[0m") {
		t.Errorf("info line %q lacks ESP-IDF's green", got[0])
	}
	if !strings.HasPrefix(got[1], "D (") {
		t.Errorf("debug line %q must be uncoloured", got[1])
	}
}

// TestConcurrentLinesStayWhole checks, under -race, that lines from several
// goroutines and derived loggers never interleave.
func TestConcurrentLinesStayWhole(t *testing.T) {
	buf, log := newTest(nil)
	other := WithTag(log, "httpd")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if g%2 == 0 {
					log.Info("line", "g", g, "i", i)
				} else {
					other.Info("line", "g", g, "i", i)
				}
			}
		})
	}
	wg.Wait()
	re := regexp.MustCompile(`^I \(\d+\) (example|httpd): line g=\d i=\d+$`)
	got := lines(buf)
	if len(got) != 400 {
		t.Fatalf("got %d lines, want 400", len(got))
	}
	for _, l := range got {
		if !re.MatchString(l) {
			t.Fatalf("mangled line %q", l)
		}
	}
}
