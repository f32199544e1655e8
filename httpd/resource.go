package httpd

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/uri_match"
)

// Zephyr's HTTP server describes what it serves as resources of a service;
// these files build that model on the handle: a Zephyr service is one
// Handle (ServiceConfig), and RegisterResource turns each resource
// description into one URI handler. The resource files use the exported
// Req API only, so a resource behaves the same over every protocol.

// MethodSet is a set of methods, Zephyr's bitmask_of_supported_http_methods.
type MethodSet uint64

// Methods returns the set of the given methods (BIT(HTTP_GET) | ...).
func Methods(ms ...Method) MethodSet {
	var s MethodSet
	for _, m := range ms {
		if m >= 0 && m < 64 {
			s |= 1 << uint(m)
		}
	}
	return s
}

// Has reports whether m is in the set.
func (s MethodSet) Has(m Method) bool { return m >= 0 && m < 64 && s&(1<<uint(m)) != 0 }

// ResourceDetail is what every resource type has (http_resource_detail).
type ResourceDetail struct {
	// Methods are the methods served; others get 405. Static resources
	// default to GET (and HEAD with it).
	Methods MethodSet
	// ContentEncoding is the encoding of static content, e.g. "gzip".
	ContentEncoding string
	// ContentType is sent as Content-Type; "" sends text/html.
	ContentType string
}

// ServiceConfig returns the config of a Zephyr service (HTTP_SERVICE_DEFINE
// with host, port, concurrent clients and backlog) on top of the ESP-IDF
// defaults, with fnmatch wildcards for resource paths (Zephyr's
// CONFIG_HTTP_SERVER_RESOURCE_WILDCARD) and room for 32 resources. Port 0
// picks an ephemeral port, reported by Handle.Port as Zephyr writes it back.
// As in Zephyr, clients beyond concurrent wait in the backlog rather than
// purging others (LRU purge off), and a client idle for 10 seconds is
// closed (CONFIG_HTTP_SERVER_CLIENT_INACTIVITY_TIMEOUT's default), so idle
// clients cannot keep the others out for long.
func ServiceConfig(host string, port uint16, concurrent, backlog int) Config {
	cfg := DefaultConfig()
	cfg.Host, cfg.ServerPort = host, port
	cfg.MaxOpenSockets, cfg.BacklogConn = concurrent, backlog
	cfg.LRUPurgeEnable = false
	cfg.IdleTimeout = 10 * time.Second
	cfg.URIMatchFn = uri_match.FnmatchURI
	cfg.MaxURIHandlers = 32
	return cfg
}

// RegisterResource serves detail, a *StaticResource, *StaticFSResource,
// *DynamicResource or *WebsocketResource, at path (HTTP_RESOURCE_DEFINE).
// With a fnmatch matcher (ServiceConfig) path may be a pattern such as
// "/foo*". Each path takes one URI handler slot. A path may hold one
// WebSocket resource next to one other resource, as Zephyr's sample serves
// its page and its WebSocket at "/": upgrade requests go to the WebSocket
// resource, the others to the other one.
func (h *Handle) RegisterResource(path string, detail any) error {
	serve, isWS, err := resourceHandler(detail)
	if err != nil {
		return err
	}
	for attempt := 0; attempt < 2; attempt++ {
		if rt := h.resourceRoute(path); rt != nil {
			return rt.add(serve, isWS)
		}
		rt := new(resourceRoute)
		rt.add(serve, isWS)
		err = h.RegisterURIHandler(&URI{URI: path, Method: ANY, Handler: rt.serve, UserCtx: rt})
		if !errors.Is(err, ErrHandlerExists) {
			return err
		}
		// Registered by another goroutine meanwhile: join its route.
	}
	return err
}

// SetFallbackResource serves detail (any resource type RegisterResource
// takes) for every path no resource matches, Zephyr 4.x's per-service
// res_fallback. It takes the place of the 404 error handler; nil removes
// the fallback again.
func (h *Handle) SetFallbackResource(detail any) error {
	if detail == nil {
		return h.RegisterErrHandler(Code404NotFound, nil)
	}
	serve, _, err := resourceHandler(detail)
	if err != nil {
		return err
	}
	return h.RegisterErrHandler(Code404NotFound, func(r *Req, _ ErrCode) error { return serve(r) })
}

// resourceHandler builds the handler of a resource description; isWS
// reports a WebSocket resource.
func resourceHandler(detail any) (serve HandlerFunc, isWS bool, err error) {
	switch d := detail.(type) {
	case *StaticResource:
		s, err := newStatic(d)
		if err != nil {
			return nil, false, err
		}
		return s.serve, false, nil
	case *StaticFSResource:
		s, err := newStaticFS(d)
		if err != nil {
			return nil, false, err
		}
		return s, false, nil
	case *DynamicResource:
		dy, err := newDynamic(d)
		if err != nil {
			return nil, false, err
		}
		return dy.serve, false, nil
	case *WebsocketResource:
		if d.Callback == nil {
			return nil, false, fmt.Errorf("%w: WebsocketResource.Callback is nil", ErrInvalidArg)
		}
		return (&websocketResource{d: d}).serve, true, nil
	}
	return nil, false, fmt.Errorf("%w: resource detail of type %T", ErrInvalidArg, detail)
}

// resourceRoute is the URI handler of one resource path: a resource, a
// WebSocket resource, or one of each. Resources may be registered while the
// worker serves the path, hence the atomics.
type resourceRoute struct {
	http, ws atomic.Pointer[HandlerFunc]
}

// add sets the route's HTTP or WebSocket resource, once each.
func (rt *resourceRoute) add(serve HandlerFunc, isWS bool) error {
	slot := &rt.http
	if isWS {
		slot = &rt.ws
	}
	if !slot.CompareAndSwap(nil, &serve) {
		return fmt.Errorf("%w: the path already has a resource of this kind", ErrHandlerExists)
	}
	return nil
}

func (rt *resourceRoute) serve(r *Req) error {
	httpServe, wsServe := rt.http.Load(), rt.ws.Load()
	if wsServe != nil && (httpServe == nil || wantsWebsocket(r)) {
		return (*wsServe)(r)
	}
	return (*httpServe)(r)
}

// wantsWebsocket reports a request asking to upgrade to WebSocket.
func wantsWebsocket(r *Req) bool {
	up, err := r.HdrValueStr("Upgrade")
	return err == nil && strings.Contains(strings.ToLower(up), "websocket")
}

// resourceRoute finds the route registered for exactly this path.
func (h *Handle) resourceRoute(path string) *resourceRoute {
	for _, u := range *h.uris.Load() {
		if rt, ok := u.UserCtx.(*resourceRoute); ok && u.URI == path {
			return rt
		}
	}
	return nil
}

// methodAllowed answers 405 for a method the resource does not serve.
func methodAllowed(r *Req, allowed MethodSet) bool {
	if allowed.Has(r.Method) {
		return true
	}
	r.RespSendErr(Code405MethodNotAllowed, "")
	return false
}
