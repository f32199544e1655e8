package sess

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// freeLog records every free call so tests can assert "exactly once".
type freeLog []string

func (l *freeLog) fn(name string) FreeFunc {
	return func(ctx any) { *l = append(*l, name+":"+ctx.(string)) }
}

func TestOpenLowestFreeID(t *testing.T) {
	tb := NewTable[int](3)
	a, _ := tb.Open(0)
	b, _ := tb.Open(0)
	c, _ := tb.Open(0)
	if _, err := tb.Open(0); !errors.Is(err, ErrFull) {
		t.Fatalf("Open on full table: err = %v, want ErrFull", err)
	}
	if got := []int{a.ID(), b.ID(), c.ID()}; !cmp.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("ids = %v", got)
	}
	tb.Close(b)
	d, err := tb.Open(0)
	if err != nil || d.ID() != 2 {
		t.Fatalf("reopen: id %d err %v, want lowest free id 2", d.ID(), err)
	}
	if got := tb.AppendIDs(nil); !cmp.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("AppendIDs = %v", got)
	}
	if tb.Get(0) != nil || tb.Get(4) != nil || tb.Get(2) != d {
		t.Fatal("Get does not map ids to slots")
	}
}

func TestLRU(t *testing.T) {
	tb := NewTable[string](3)
	a, _ := tb.Open("a")
	b, _ := tb.Open("b")
	c, _ := tb.Open("c")
	if got := tb.LeastRecentlyUsed(nil); got != a {
		t.Fatalf("LRU = %v, want a", got.Data)
	}
	tb.Touch(a)
	if got := tb.LeastRecentlyUsed(nil); got != b {
		t.Fatalf("after touching a, LRU = %v, want b", got.Data)
	}
	skipB := func(s *Session[string]) bool { return s == b }
	if got := tb.LeastRecentlyUsed(skipB); got != c {
		t.Fatalf("LRU skipping b = %v, want c", got.Data)
	}
	tb.Close(b)
	tb.Close(c)
	tb.Close(a)
	if tb.LeastRecentlyUsed(nil) != nil || tb.Len() != 0 {
		t.Fatal("empty table still reports a session")
	}
}

// closeAndRelease closes s and releases what the table hands back, as httpd does.
func closeAndRelease[T any](tb *Table[T], s *Session[T]) {
	user, transport, _ := tb.Close(s)
	user.Release()
	transport.Release()
}

func TestContextsFreedExactlyOnce(t *testing.T) {
	var log freeLog
	tb := NewTable[int](1)
	s, _ := tb.Open(0)
	s.SetCtx("u1", log.fn("user")).Release()
	s.SetCtx("u1", log.fn("user")).Release() // same value: not freed
	s.SetCtx("u2", log.fn("user")).Release() // replaced: u1 freed
	s.SetTransportCtx("t1", log.fn("transport")).Release()
	closeAndRelease(tb, s)
	if _, _, ok := tb.Close(s); ok {
		t.Fatal("second Close reported ok")
	}
	want := freeLog{"user:u1", "user:u2", "transport:t1"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Fatalf("free calls (-want +got):\n%s", diff)
	}
}

func TestAdoptCtx(t *testing.T) {
	var log freeLog
	tb := NewTable[int](1)
	s, _ := tb.Open(0)
	s.AdoptCtx("a", log.fn("f"), false).Release()
	s.AdoptCtx("b", log.fn("f"), true).Release() // a freed; from now on changes are ignored
	s.AdoptCtx("c", log.fn("f"), false).Release()
	closeAndRelease(tb, s)
	want := freeLog{"f:a", "f:c"}
	if diff := cmp.Diff(want, log); diff != "" {
		t.Fatalf("free calls (-want +got):\n%s", diff)
	}
}

func TestSameNeverPanics(t *testing.T) {
	x := 1
	cases := []struct {
		a, b any
		want bool
	}{
		{nil, nil, true},
		{nil, 1, false},
		{&x, &x, true},
		{[]int{1}, []int{1}, false},
		{map[int]int{}, map[int]int{}, false},
		{"s", "s", true},
		{1, int64(1), false},
	}
	for _, c := range cases {
		if got := Same(c.a, c.b); got != c.want {
			t.Errorf("Same(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
