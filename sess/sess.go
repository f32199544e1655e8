// Package sess is the session table of an httpd handle: a fixed number of
// slots, small integer ids that play the part of ESP-IDF's sockfd, LRU
// stamps, and the user and transport contexts of each session with their
// free functions.
//
// The table does no I/O and takes no locks: its owner (the httpd worker
// goroutine) is the only one that changes it.
package sess

import (
	"errors"
	"reflect"
	"sync/atomic"
)

// FreeFunc releases a context. It is called exactly once for every context
// that is replaced or left behind when a session closes (httpd_free_ctx_fn_t).
type FreeFunc func(ctx any)

// ErrFull is returned by Table.Open when every slot is taken.
var ErrFull = errors.New("sess: all sessions in use")

// FirstID is the id of the first slot. Ids start above zero so that the zero
// value of an int never names a live session, and -1 stays "invalid" as in
// ESP-IDF.
const FirstID = 1

// Session is one open connection's bookkeeping. T is the owner's own
// per-session state.
type Session[T any] struct {
	id   int
	lru  atomic.Uint64 // stamped from any goroutine: see Touch
	Data T

	userCtx       any
	userFree      FreeFunc
	transportCtx  any
	transportFree FreeFunc

	// IgnoreCtxChanges mirrors httpd_req_t.ignore_sess_ctx_changes as it was
	// left by the last handler.
	IgnoreCtxChanges bool
}

// ID returns the session's id (its "sockfd").
func (s *Session[T]) ID() int { return s.id }

// Ctx returns the user context and its free function.
func (s *Session[T]) Ctx() (any, FreeFunc) { return s.userCtx, s.userFree }

// Freeable is a context taken out of a session that must now be released.
// The table hands it back instead of calling the free function itself, so
// that its owner can run user code outside its locks and recover panics.
type Freeable struct {
	Ctx  any
	Free FreeFunc
}

// Release calls the free function, if there is a context and a function.
func (f Freeable) Release() {
	if f.Ctx != nil && f.Free != nil {
		f.Free(f.Ctx)
	}
}

// SetCtx replaces the user context. It returns the previous context for
// release unless it is the same value, as httpd_sess_set_ctx does.
func (s *Session[T]) SetCtx(ctx any, free FreeFunc) Freeable {
	var old Freeable
	if !Same(s.userCtx, ctx) {
		old = Freeable{s.userCtx, s.userFree}
	}
	s.userCtx, s.userFree = ctx, free
	return old
}

// AdoptCtx takes over the context a request handler left in its request,
// following ESP-IDF's rule: a changed context releases the old one unless
// the previous handler asked to ignore changes.
func (s *Session[T]) AdoptCtx(ctx any, free FreeFunc, ignoreChanges bool) Freeable {
	var old Freeable
	if !Same(s.userCtx, ctx) {
		if !s.IgnoreCtxChanges {
			old = Freeable{s.userCtx, s.userFree}
		}
		s.userCtx = ctx
	}
	s.userFree = free
	s.IgnoreCtxChanges = ignoreChanges
	return old
}

// TransportCtx returns the transport context.
func (s *Session[T]) TransportCtx() any { return s.transportCtx }

// SetTransportCtx replaces the transport context and returns a different
// previous one for release.
func (s *Session[T]) SetTransportCtx(ctx any, free FreeFunc) Freeable {
	var old Freeable
	if !Same(s.transportCtx, ctx) {
		old = Freeable{s.transportCtx, s.transportFree}
	}
	s.transportCtx, s.transportFree = ctx, free
	return old
}

// Same reports whether a and b are the same context. Contexts of types that
// Go cannot compare (slices, maps, funcs) are never the same as another
// value, so comparing them cannot panic.
func Same(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) || !ta.Comparable() {
		return false
	}
	return a == b
}

// Table holds at most a fixed number of sessions.
type Table[T any] struct {
	slots []*Session[T]
	n     int
	clock atomic.Uint64
}

// NewTable returns a table with room for capacity sessions.
func NewTable[T any](capacity int) *Table[T] {
	return &Table[T]{slots: make([]*Session[T], capacity)}
}

// Cap returns the number of slots.
func (t *Table[T]) Cap() int { return len(t.slots) }

// Len returns the number of open sessions.
func (t *Table[T]) Len() int { return t.n }

// Open takes the lowest free slot, as a POSIX descriptor table would, and
// stamps it as the most recently used session.
func (t *Table[T]) Open(data T) (*Session[T], error) {
	for i, s := range t.slots {
		if s == nil {
			s = &Session[T]{id: i + FirstID, Data: data}
			t.slots[i] = s
			t.n++
			t.Touch(s)
			return s, nil
		}
	}
	return nil, ErrFull
}

// Get returns the session with the given id, or nil.
func (t *Table[T]) Get(id int) *Session[T] {
	i := id - FirstID
	if i < 0 || i >= len(t.slots) {
		return nil
	}
	return t.slots[i]
}

// Touch marks s as the most recently used session. It is safe from any
// goroutine: a session's reader stamps it on every request without the
// owner's lock.
func (t *Table[T]) Touch(s *Session[T]) {
	s.lru.Store(t.clock.Add(1))
}

// LeastRecentlyUsed returns the open session with the oldest stamp among
// those skip does not exclude, or nil. skip may be nil.
func (t *Table[T]) LeastRecentlyUsed(skip func(*Session[T]) bool) *Session[T] {
	var oldest *Session[T]
	for _, s := range t.slots {
		if s == nil || (skip != nil && skip(s)) {
			continue
		}
		if oldest == nil || s.lru.Load() < oldest.lru.Load() {
			oldest = s
		}
	}
	return oldest
}

// Close removes s from the table and hands back its user and transport
// contexts, in the order ESP-IDF frees them. ok is false when s was not in
// the table (closed already), so each context is handed back exactly once.
func (t *Table[T]) Close(s *Session[T]) (user, transport Freeable, ok bool) {
	i := s.id - FirstID
	if i < 0 || i >= len(t.slots) || t.slots[i] != s {
		return Freeable{}, Freeable{}, false
	}
	t.slots[i] = nil
	t.n--
	user = Freeable{s.userCtx, s.userFree}
	transport = Freeable{s.transportCtx, s.transportFree}
	s.userCtx, s.userFree, s.transportCtx, s.transportFree = nil, nil, nil, nil
	return user, transport, true
}

// AppendIDs appends the ids of the open sessions, lowest first.
func (t *Table[T]) AppendIDs(dst []int) []int {
	for _, s := range t.slots {
		if s != nil {
			dst = append(dst, s.id)
		}
	}
	return dst
}

// All calls yield for each open session, lowest id first, until yield
// returns false. Sessions may be closed from inside yield.
func (t *Table[T]) All(yield func(*Session[T]) bool) {
	for _, s := range t.slots {
		if s != nil && !yield(s) {
			return
		}
	}
}
