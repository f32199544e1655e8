package h2

import (
	"errors"
	"fmt"
)

var (
	// ErrStreamClosed: the stream is not (or no longer) in the table, or its
	// side of the operation is already finished (response ended).
	ErrStreamClosed = errors.New("h2: stream closed")
	// ErrConnClosed: the connection is over (Close was called, or ReadFrame
	// ended it).
	ErrConnClosed = errors.New("h2: connection closed")
	// ErrBadPreface: the client did not open with the HTTP/2 preface.
	ErrBadPreface = errors.New("h2: bad client preface")
	// ErrHeadersSent: WriteHeaders called twice, or WriteData before it.
	ErrHeadersSent = errors.New("h2: response headers sent twice or not yet")
)

// StreamResetError is returned by ReadData, WriteHeaders and WriteData on a
// stream that was reset, by the peer (Remote) or by us.
type StreamResetError struct {
	Stream uint32
	Code   ErrCode
	Remote bool
}

func (e *StreamResetError) Error() string {
	who := "locally"
	if e.Remote {
		who = "by peer"
	}
	return fmt.Sprintf("h2: stream %d reset %s: %v", e.Stream, who, e.Code)
}

// ConnError is returned by ReadFrame after the engine ended the connection
// with a GOAWAY carrying Code (a connection error, RFC 9113 5.4.1, or a
// flood limit).
type ConnError struct {
	Code   ErrCode
	Reason string
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("h2: connection error %v: %s", e.Code, e.Reason)
}
