// Package h2 is esphttpd's HTTP/2 server connection engine (RFC 9113, HPACK
// per RFC 7541). It is transport agnostic and knows nothing of httpd's
// handlers: frames are read from an io.Reader and written to an io.Writer
// given at construction (httpd's recv and send functions), encoded and decoded
// by golang.org/x/net/http2's Framer and golang.org/x/net/http2/hpack. The
// connection and stream state machines, flow control, SETTINGS, PING, GOAWAY,
// RST_STREAM handling and the flood limits are this package's.
//
// So is what every request costs: the payloads of HEADERS, CONTINUATION
// and WINDOW_UPDATE frames are parsed here (the Framer still reads and
// checks their headers), request header blocks are decoded by this
// package's HPACK decoder (x/net's makes a string per literal; this one
// interns them per connection), and stream structs with their header
// lists are recycled per connection. A GET whose header block repeats an
// earlier one allocates nothing.
//
// # Ways in
//
//   - Prior knowledge and TLS with ALPN "h2": NewServerConn writes the server
//     SETTINGS and reads the client preface.
//   - h2c upgrade: the HTTP/1.1 layer parses the request, reads its whole
//     body, answers 101 itself, then calls NewUpgradedConn with the decoded
//     HTTP2-Settings payload and the request; stream 1 is opened half-closed
//     (remote) and the first ReadFrame returns its Request event.
//
// # Concurrency contract
//
// A Conn is used by exactly two goroutines, which may run at the same time:
//
//   - The reader (one goroutine, the session's reader) owns ingress. It calls
//     ReadFrame in a loop. ReadFrame reads frames until it has an Event for
//     the caller (a request to hand to the worker, a peer reset, a peer
//     GOAWAY) or the connection is over (a non-nil error; the caller then
//     closes the transport and calls Close). SETTINGS, PING, WINDOW_UPDATE,
//     PRIORITY, RST_STREAM, DATA and protocol errors are handled inside
//     ReadFrame, which writes the ACKs, RST_STREAM and GOAWAY frames itself.
//     NewServerConn and NewUpgradedConn also run on the reader.
//   - The worker (one goroutine at a time; any goroutine that is serving a
//     stream) owns egress for the streams it was handed: ReadData,
//     WriteHeaders, WriteData, ResetStream, StreamDone, GoAway. These may be
//     called while ReadFrame is blocked in a read, and they block only on flow
//     control or the peer (until the deadline they are given) and on the
//     transport's Write.
//
// Close, Streams and Alive may be called from any goroutine.
//
// Internally one mutex guards the stream table and the windows, and a second
// one serialises frame writes (and the HPACK encoder, whose state must follow
// the order of HEADERS frames on the wire). The state mutex is never held
// while writing or while taking the write mutex; the reader holds the write
// mutex across applying a SETTINGS frame and writing its ACK, so nothing
// sent under new settings precedes the ACK. Waiters (ReadData for DATA, WriteData for window) sleep on a
// channel that is closed on every change, so deadlines are plain timers.
//
// Every write is one Write call of one frame on the io.Writer; deadlines for
// those writes are the transport's business (httpd sets its send timeout on
// the socket). A failed write poisons the connection: later calls return the
// write error.
//
// # Stream life
//
// A stream enters the table when its request headers arrive and ReadFrame
// returns EventRequest (or EventHeaderTooLarge) for it; it leaves when it is
// closed on both sides (or reset) and the worker has called StreamDone. So
// the worker must call StreamDone exactly once for every stream it was
// handed, even one the peer has reset. Streams that are open or half-closed
// count toward MaxConcurrentStreams (more get RST_STREAM REFUSED_STREAM);
// streams handed but not yet done count toward MaxPendingStreams (more is
// the rapid-reset attack and gets GOAWAY ENHANCE_YOUR_CALM).
//
// # Wiring into httpd (sketch)
//
//   - Detection: the session's reader sees the 24-byte preface in its
//     buffer ("PRI * HTTP/2.0..."), TLS negotiated ALPN "h2", or the h1
//     parser returned a request with "Upgrade: h2c" and "HTTP2-Settings"
//     (then httpd reads the whole body, sends 101 and calls
//     NewUpgradedConn). The io.Reader must first replay the bytes httpd
//     already buffered, then call the recv function; wrap it in a
//     bufio.Reader (the Framer reads the 9-byte header and the payload
//     separately). The io.Writer sets the send timeout and calls the send
//     function until the whole frame is written.
//   - Reader goroutine: set the receive timeout for the preface, construct,
//     then loop on ReadFrame without a read deadline (or the keep-alive
//     idle timeout). EventRequest and EventHeaderTooLarge go on a per-session
//     FIFO the worker drains in arrival order; the reader must never block on
//     the worker (it must keep reading WINDOW_UPDATE frames a handler is
//     waiting for). On an error: if it is a *ConnError, half-close the
//     socket (CloseWrite) and drain reads for about a second so the peer
//     sees the GOAWAY instead of a TCP reset; then Close and close the
//     session through the worker.
//   - Worker: for each queued event, skip the handler when !Alive(stream),
//     else build a Req on the stream (method/path/authority from the Event,
//     header accessors over Event.Header, joining repeated cookie fields
//     with "; "), run the handler, finish an unfinished response, and call
//     StreamDone. Req.Recv -> ReadData with RecvWaitTimeout; RespSend ->
//     WriteHeaders + WriteData(endStream) with SendWaitTimeout;
//     RespSendChunk -> WriteHeaders once, then WriteData per chunk, an empty
//     chunk -> WriteData(nil, true). Stop -> GoAway(ErrCodeNo), finish the
//     queued streams within a bound, then close.
package h2
