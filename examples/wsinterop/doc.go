// Package wsinterop holds tests only: the WebSocket conformance cases of
// examples/internal/wsconform run against an independent server
// (gorilla/websocket), and esphttpd's echo server is driven by independent
// clients. It is a module of its own so that the library's go.mod does not
// require gorilla/websocket.
package wsinterop
