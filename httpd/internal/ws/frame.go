// Package ws is the RFC 6455 frame codec under httpd's WebSocket support:
// frame headers, masking, the handshake's accept key, close codes and
// incremental UTF-8 validation. It knows nothing about sessions or handlers.
package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Opcodes (RFC 6455 section 5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Close status codes the server itself sends.
const (
	CloseNormal              = 1000
	CloseGoingAway           = 1001
	CloseProtocolError       = 1002
	CloseInvalidPayload      = 1007
	CloseMessageTooBig       = 1009
	CloseInternalError       = 1011
	MaxControlPayload        = 125
	maxHeaderLen             = 14
	payloadLen16             = 126
	payloadLen64             = 127
	finBit              byte = 0x80
	maskBit             byte = 0x80
)

// IsControl reports whether op is a control opcode (close, ping, pong).
func IsControl(op byte) bool { return op&0x8 != 0 }

// Header is a parsed frame header.
type Header struct {
	Fin    bool
	RSV    byte // the three reserved bits, right-aligned; must be 0 without extensions
	Opcode byte
	Masked bool
	Key    [4]byte
	Length int64
}

// ErrIncomplete means b does not yet hold a whole frame header.
var ErrIncomplete = errors.New("ws: incomplete frame header")

// Error is a protocol violation and the close code to answer it with.
type Error struct {
	Code   uint16
	Reason string
}

// Error returns "ws: " and the reason.
func (e *Error) Error() string { return "ws: " + e.Reason }

// ParseHeader parses the frame header at the start of b and returns it with
// its length in bytes. It checks what the header alone can show: reserved
// bits, opcodes, control frame rules, length encoding, masking of client
// frames (when requireMask).
func ParseHeader(b []byte, requireMask bool) (h Header, n int, err error) {
	if len(b) < 2 {
		return h, 0, ErrIncomplete
	}
	h.Fin = b[0]&finBit != 0
	h.RSV = (b[0] >> 4) & 0x7
	h.Opcode = b[0] & 0xF
	h.Masked = b[1]&maskBit != 0
	n = 2
	switch l := int64(b[1] &^ maskBit); l {
	case payloadLen16:
		if len(b) < n+2 {
			return h, 0, ErrIncomplete
		}
		h.Length = int64(binary.BigEndian.Uint16(b[n:]))
		n += 2
		if h.Length < payloadLen16 {
			return h, 0, &Error{CloseProtocolError, "non-minimal 16-bit payload length"}
		}
	case payloadLen64:
		if len(b) < n+8 {
			return h, 0, ErrIncomplete
		}
		u := binary.BigEndian.Uint64(b[n:])
		n += 8
		if u>>63 != 0 {
			return h, 0, &Error{CloseProtocolError, "payload length with the most significant bit set"}
		}
		if u <= 0xFFFF {
			return h, 0, &Error{CloseProtocolError, "non-minimal 64-bit payload length"}
		}
		h.Length = int64(u)
	default:
		h.Length = l
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrIncomplete
		}
		copy(h.Key[:], b[n:n+4])
		n += 4
	}
	switch {
	case h.RSV != 0:
		return h, 0, &Error{CloseProtocolError, "reserved bits set"}
	case h.Opcode > OpBinary && h.Opcode < OpClose, h.Opcode > OpPong:
		return h, 0, &Error{CloseProtocolError, "reserved opcode"}
	case IsControl(h.Opcode) && !h.Fin:
		return h, 0, &Error{CloseProtocolError, "fragmented control frame"}
	case IsControl(h.Opcode) && h.Length > MaxControlPayload:
		return h, 0, &Error{CloseProtocolError, "control frame payload over 125 bytes"}
	case requireMask && !h.Masked:
		return h, 0, &Error{CloseProtocolError, "unmasked client frame"}
	}
	return h, n, nil
}

// AppendHeader appends the header of an unmasked frame, as servers send.
func AppendHeader(dst []byte, fin bool, op byte, length int) []byte {
	b0 := op & 0xF
	if fin {
		b0 |= finBit
	}
	switch {
	case length < payloadLen16:
		return append(dst, b0, byte(length))
	case length <= 0xFFFF:
		return append(dst, b0, payloadLen16, byte(length>>8), byte(length))
	default:
		dst = append(dst, b0, payloadLen64)
		return binary.BigEndian.AppendUint64(dst, uint64(length))
	}
}

// acceptGUID is RFC 6455's fixed handshake GUID.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ValidKey reports whether a Sec-WebSocket-Key is the base64 of 16 bytes.
func ValidKey(key string) bool {
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

// ValidCloseCode reports whether a peer may send code in a close frame
// (RFC 6455 section 7.4).
func ValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
