package httpd

import (
	"errors"
	"net"
)

// WebsocketFunc takes over a WebSocket connection after the upgrade
// (http_resource_websocket_cb_t). It runs on the worker: start a goroutine
// for the connection and return. A non-nil error closes the connection.
// NewWebsocketConn speaks WebSocket on conn.
type WebsocketFunc func(conn net.Conn, userData any) error

// WebsocketResource hands upgraded connections to the application
// (http_resource_detail_websocket). The server answers the handshake and
// then neither reads nor writes the connection: the application speaks
// WebSocket on it (as Zephyr's callback receives the socket). The session
// still counts toward MaxOpenSockets until the application closes conn.
type WebsocketResource struct {
	ResourceDetail
	Callback WebsocketFunc
	UserData any
}

var errWSRefused = errors.New("httpd: not a WebSocket handshake")

// websocketResource serves a WebsocketResource.
type websocketResource struct {
	d *WebsocketResource
}

func (wr *websocketResource) serve(r *Req) error {
	d := wr.d
	allowed := d.Methods
	if allowed == 0 {
		allowed = Methods(GET)
	}
	if !methodAllowed(r, allowed) {
		return nil
	}
	key, code, ok := wsUpgradeKey(r)
	if !ok {
		r.Handle.refuseWSUpgrade(r, code)
		return errWSRefused
	}
	if _, err := r.Send(appendWSAccept(nil, key, "")); err != nil {
		return err
	}
	conn, err := r.Hijack()
	if err != nil {
		return err
	}
	var cbErr error
	if !r.Handle.guard("websocket resource callback", func() { cbErr = d.Callback(conn, d.UserData) }) || cbErr != nil {
		conn.Close()
		if cbErr == nil {
			cbErr = errors.New("httpd: websocket resource callback panicked")
		}
		return cbErr
	}
	return nil
}
