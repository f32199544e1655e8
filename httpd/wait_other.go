//go:build !unix

package httpd

import "time"

const canWaitReadable = false

// waitReadable is never called where canWaitReadable is false: the reader
// blocks in its first read instead.
func (c *conn) waitReadable(time.Time) error { return nil }

func (c *conn) peekReadable(fd uintptr) bool { return true }

func (c *conn) readIdle(time.Time) *readFailure { return nil }

func (c *conn) readIdleFD(fd uintptr) bool { return true }

func (c *conn) tryRecvIdle(time.Time) (*readFailure, bool) { return nil, false }

func (c *conn) tryRecvFD(uintptr) bool { return true }
