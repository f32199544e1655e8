package httpd

// EventID names a server event (esp_http_server_event_id_t).
type EventID int

// The events, in ESP-IDF's order.
const (
	EventError        EventID = iota // an error response was sent; Event.ErrCode says which
	EventStart                       // the server started
	EventOnConnected                 // a session opened
	EventOnHeader                    // a request header was received (once per header)
	EventHeadersSent                 // a response head was sent
	EventOnData                      // request body bytes were received; Event.DataLen says how many
	EventSentData                    // response body bytes were sent; Event.DataLen says how many
	EventDisconnected                // a session closed
	EventStop                        // the server stopped
)

var eventNames = [...]string{"ERROR", "START", "ON_CONNECTED", "ON_HEADER", "HEADERS_SENT",
	"ON_DATA", "SENT_DATA", "DISCONNECTED", "STOP"}

// String returns ESP-IDF's name without the HTTP_SERVER_EVENT_ prefix.
func (id EventID) String() string {
	if id < 0 || int(id) >= len(eventNames) {
		return "UNKNOWN"
	}
	return eventNames[id]
}

// Event is what Config.EventHandler receives. ESP-IDF posts events to its
// default event loop; here the handler is called synchronously on the
// goroutine that caused the event: the worker, except for what an async
// request's goroutine does itself (its ON_DATA, HEADERS_SENT, SENT_DATA and
// ERROR events). Keep it short, do not block, and lock what it shares.
type Event struct {
	ID      EventID
	Sockfd  int     // the session, or -1 for START and STOP
	DataLen int     // bytes, for ON_DATA and SENT_DATA
	ErrCode ErrCode // for ERROR
}

func (h *Handle) emit(id EventID, fd, n int) {
	if fn := h.cfg.EventHandler; fn != nil {
		h.guard("event handler", func() { fn(Event{ID: id, Sockfd: fd, DataLen: n}) })
	}
}

func (h *Handle) emitErr(fd int, code ErrCode) {
	if fn := h.cfg.EventHandler; fn != nil {
		h.guard("event handler", func() { fn(Event{ID: EventError, Sockfd: fd, ErrCode: code}) })
	}
}
