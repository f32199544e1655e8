package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esphttpd/esphttpd/examples/internal/espconsole"
	"github.com/esphttpd/esphttpd/httpd"
	"github.com/esphttpd/esphttpd/httpd_ssl"
)

// maxClients is the C example's max_clients: open sockets, and clients the
// keep-alive engine watches.
const maxClients = 4

// helloMessage is what every WebSocket client receives every hello
// interval.
const helloMessage = "Hello client"

// maxLoggedMessage caps how much of a received message is logged, so that a
// large message does not flood the console.
const maxLoggedMessage = 128

// options are the example's command-line choices.
type options struct {
	host     string
	port     uint16
	cert     []byte
	key      []byte
	timing   timing
	httpdLog *slog.Logger // the server's own lines; nil means log's, tagged esp_https_server
}

// timing holds the C example's fixed delays, made flags so tests can
// shorten them.
type timing struct {
	keepAlivePeriod time.Duration // KEEP_ALIVE_CONFIG_DEFAULT's keep_alive_period_ms: 5 s
	notAliveAfter   time.Duration // KEEP_ALIVE_CONFIG_DEFAULT's not_alive_after_ms: 10 s
	helloInterval   time.Duration // wss_server_send_messages' delay: 10 s
}

// defaultTiming is the C example's.
var defaultTiming = timing{keepAlivePeriod: 5 * time.Second, notAliveAfter: 10 * time.Second, helloInterval: 10 * time.Second}

// server is the running example: the HTTPS server, its keep-alive engine
// and the task sending hello messages.
type server struct {
	log       *slog.Logger
	h         *httpd.Handle
	keepAlive *keepAlive
	// handle is h for the keep-alive task, set once the server is ready
	// (wss_keep_alive_set_user_ctx): sessions may open before that.
	handle atomic.Pointer[httpd.Handle]

	stopHello chan struct{}
	helloDone sync.WaitGroup
	stopOnce  sync.Once
}

// wsHandler is ws_handler: called once for the handshake (GET) and once per
// frame, control frames included (HandleWSControlFrames).
func (s *server) wsHandler(r *httpd.Req) error {
	log := s.log
	if r.Method == httpd.GET {
		log.Info("Handshake done, the new connection was opened")
		return nil
	}
	var pkt httpd.WSFrame
	// First the frame's length, then its payload, as the C example does.
	if err := r.WSRecvFrame(&pkt, 0); err != nil {
		log.Error("httpd_ws_recv_frame failed to get frame len with " + err.Error())
		return err
	}
	log.Info("frame len is " + strconv.Itoa(pkt.Len))
	if pkt.Len > 0 {
		if err := r.WSRecvFrame(&pkt, pkt.Len); err != nil {
			log.Error("httpd_ws_recv_frame failed with " + err.Error())
			return err
		}
	}
	fd := r.Sockfd()
	switch pkt.Type {
	case httpd.WSTypePong:
		log.Debug("Received PONG message")
		if !s.keepAlive.ClientIsActive(fd) {
			return fmt.Errorf("keep-alive queue full: pong from fd %d not recorded", fd)
		}
		return nil
	case httpd.WSTypeText:
		log.Info("Received packet with message: " + capped(pkt.Payload))
	case httpd.WSTypePing:
		log.Info("Got a WS PING frame, Replying PONG")
		pkt.Type = httpd.WSTypePong
	case httpd.WSTypeClose:
		// Answer with a close frame without payload; the server ends the
		// session after a close frame.
		pkt.Len, pkt.Payload = 0, nil
	default:
		// Binary and continuation frames are not echoed, as in the C source.
		return nil
	}
	err := r.WSSendFrame(&pkt)
	if err != nil {
		log.Error("httpd_ws_send_frame failed with " + err.Error())
	}
	log.Info(fmt.Sprintf("ws_handler: httpd_handle_t=%p, sockfd=%d, client_info:%d", r.Handle, fd, r.Handle.WSGetFDInfo(fd)))
	return err
}

// capped returns the message for the log, cut to maxLoggedMessage bytes.
func capped(msg []byte) string {
	if len(msg) <= maxLoggedMessage {
		return string(msg)
	}
	return fmt.Sprintf("%s... (%d bytes)", msg[:maxLoggedMessage], len(msg))
}

// openFD is wss_open_fd: every new session is watched by the keep-alive
// engine.
func (s *server) openFD(_ *httpd.Handle, fd int) error {
	s.log.Info("New client connected " + strconv.Itoa(fd))
	if !s.keepAlive.AddClient(fd) {
		return fmt.Errorf("keep-alive queue full: cannot watch fd %d", fd)
	}
	return nil
}

// closeFD is wss_close_fd. The server closes the socket itself.
func (s *server) closeFD(_ *httpd.Handle, fd int) {
	s.log.Info("Client disconnected " + strconv.Itoa(fd))
	s.keepAlive.RemoveClient(fd)
}

// clientNotAlive is client_not_alive_cb.
func (s *server) clientNotAlive(fd int) bool {
	s.log.Error("Client not alive, closing fd " + strconv.Itoa(fd))
	h := s.handle.Load()
	return h != nil && h.SessTriggerClose(fd) == nil
}

// checkClientAlive is check_client_alive_cb: it has the server's worker send
// the client a ping.
func (s *server) checkClientAlive(fd int) bool {
	s.log.Debug("Checking if client (fd=" + strconv.Itoa(fd) + ") is alive")
	h := s.handle.Load()
	return h != nil && h.QueueWork(func() {
		// A session that is not a WebSocket (yet) cannot be pinged; it
		// stays silent and is given up like one that does not answer.
		h.WSSendFrameAsync(fd, &httpd.WSFrame{Type: httpd.WSTypePing})
	}) == nil
}

// sendHello is send_hello, run on the worker.
func (s *server) sendHello(fd int) {
	s.h.WSSendFrameAsync(fd, &httpd.WSFrame{Type: httpd.WSTypeText, Payload: []byte(helloMessage)})
}

// sendMessages is wss_server_send_messages: every interval, a hello to every
// client that is an open WebSocket.
func (s *server) sendMessages(interval time.Duration) {
	defer s.helloDone.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-s.stopHello:
			return
		case <-ticker.C:
		}
		for _, fd := range s.h.GetClientList() {
			if s.h.WSGetFDInfo(fd) != httpd.WSClientWebsocket {
				continue
			}
			s.log.Info("Active client (fd=" + strconv.Itoa(fd) + ") -> sending async message")
			if err := s.h.QueueWork(func() { s.sendHello(fd) }); err != nil {
				s.log.Error("httpd_queue_work failed!")
				return
			}
		}
	}
}

// startWssEchoServer is start_wss_echo_server plus the hello task app_main
// runs: the keep-alive engine, then the HTTPS server with /ws.
func startWssEchoServer(o options, log *slog.Logger) (*server, error) {
	s := &server{log: log, stopHello: make(chan struct{})}
	s.keepAlive = startKeepAlive(keepAliveConfig{
		maxClients:    maxClients,
		period:        o.timing.keepAlivePeriod,
		notAliveAfter: o.timing.notAliveAfter,
		checkAlive:    s.checkClientAlive,
		notAlive:      s.clientNotAlive,
		log:           espconsole.WithTag(log, "wss_keep_alive"),
	})

	log.Info("Starting server")
	conf := httpd_ssl.DefaultConfig()
	conf.Httpd.Host = o.host
	conf.Httpd.MaxOpenSockets = maxClients
	conf.Httpd.OpenFn = s.openFD
	conf.Httpd.CloseFn = s.closeFD
	conf.Httpd.Logger = o.httpdLog
	if conf.Httpd.Logger == nil {
		conf.Httpd.Logger = espconsole.WithTag(log, "esp_https_server")
	}
	conf.PortSecure = o.port
	conf.ServerCert, conf.PrivateKey = o.cert, o.key
	h, err := httpd_ssl.Start(conf)
	if err != nil {
		log.Info("Error starting server!", "err", err)
		s.keepAlive.Stop()
		return nil, err
	}
	s.h = h

	log.Info("Registering URI handlers")
	err = h.RegisterURIHandler(&httpd.URI{URI: "/ws", Method: httpd.GET, Handler: s.wsHandler,
		IsWebsocket: true, HandleWSControlFrames: true})
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.handle.Store(h)
	s.helloDone.Add(1)
	go s.sendMessages(o.timing.helloInterval)
	return s, nil
}

// Stop stops the hello task, the keep-alive engine and the server.
func (s *server) Stop() error {
	var err error
	s.stopOnce.Do(func() {
		close(s.stopHello)
		s.helloDone.Wait()
		// The server first: its close callbacks still queue removals.
		err = httpd_ssl.Stop(s.h)
		s.keepAlive.Stop()
	})
	return err
}
