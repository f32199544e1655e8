package main

import (
	"log/slog"
	"strconv"
	"time"
)

// keepAliveConfig is wss_keep_alive_config_t.
type keepAliveConfig struct {
	// maxClients bounds the clients watched at once (max_clients).
	maxClients int
	// period is how long a client may stay silent before it is pinged
	// (keep_alive_period_ms).
	period time.Duration
	// notAliveAfter is how long a client may stay silent, pings
	// unanswered, before it is given up (not_alive_after_ms).
	notAliveAfter time.Duration
	// checkAlive is called for a client due a ping (check_client_alive_cb).
	checkAlive func(fd int) bool
	// notAlive is called once for a client given up (client_not_alive_cb).
	notAlive func(fd int) bool
	// log prints the engine's own lines (tag wss_keep_alive).
	log *slog.Logger
}

// keepAliveActionType is client_fd_action_type_t.
type keepAliveActionType int

const (
	clientAdd keepAliveActionType = iota
	clientRemove
	clientUpdate
)

// keepAliveAction is one message to the keep-alive task.
type keepAliveAction struct {
	typ      keepAliveActionType
	fd       int
	lastSeen time.Time
}

// watchedClient is a client the task watches.
type watchedClient struct {
	lastSeen  time.Time
	nextCheck time.Time
	givenUp   bool // notAlive ran: wait for the close to remove it
}

// keepAlive is the example's keep-alive engine (keep_alive.c): a task of
// its own that learns about clients through a queue, pings those it has not
// heard from for a period, and gives up on those silent for longer than
// notAliveAfter.
type keepAlive struct {
	cfg     keepAliveConfig
	actions chan keepAliveAction
	stop    chan struct{}
	done    chan struct{}
}

// maxCheckDelay is how long the task sleeps when no client is due (the C
// task's 30 s "max delay, no need to check anyone").
const maxCheckDelay = 30 * time.Second

// retryDelay is how soon a client that was pinged is checked again: the C
// task's 1 s minimum delay, shortened to the period when that is shorter,
// so that short test periods keep their proportions.
func (k *keepAlive) retryDelay() time.Duration {
	return min(time.Second, k.cfg.period)
}

// startKeepAlive starts the task (wss_keep_alive_start).
func startKeepAlive(cfg keepAliveConfig) *keepAlive {
	k := &keepAlive{
		cfg: cfg,
		// The C queue holds max_clients/2 actions and senders never wait;
		// a larger queue keeps a burst of connections from losing adds.
		actions: make(chan keepAliveAction, 4*cfg.maxClients),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go k.run()
	return k
}

// Stop ends the task and waits for it (wss_keep_alive_stop).
func (k *keepAlive) Stop() {
	close(k.stop)
	<-k.done
}

// send queues an action without waiting, as xQueueSendToBack with no ticks
// to wait does; it reports whether the action was queued.
func (k *keepAlive) send(a keepAliveAction) bool {
	select {
	case k.actions <- a:
		return true
	default:
		return false
	}
}

// AddClient starts watching fd (wss_keep_alive_add_client).
func (k *keepAlive) AddClient(fd int) bool {
	return k.send(keepAliveAction{typ: clientAdd, fd: fd, lastSeen: time.Now()})
}

// RemoveClient stops watching fd (wss_keep_alive_remove_client).
func (k *keepAlive) RemoveClient(fd int) bool {
	return k.send(keepAliveAction{typ: clientRemove, fd: fd})
}

// ClientIsActive records that fd answered (wss_keep_alive_client_is_active).
func (k *keepAlive) ClientIsActive(fd int) bool {
	return k.send(keepAliveAction{typ: clientUpdate, fd: fd, lastSeen: time.Now()})
}

// run is keep_alive_task. Unlike the C task, which only checks clients when
// its queue stays quiet for the whole delay, it checks due clients after
// every wake-up, so that other clients' pongs cannot postpone a silent
// client's check for ever.
func (k *keepAlive) run() {
	defer close(k.done)
	clients := make(map[int]*watchedClient, k.cfg.maxClients)
	timer := time.NewTimer(maxCheckDelay)
	defer timer.Stop()
	for {
		select {
		case <-k.stop:
			return
		case a := <-k.actions:
			k.apply(clients, a)
		case <-timer.C:
		}
		now := time.Now()
		next := now.Add(maxCheckDelay)
		for fd, c := range clients {
			if !c.givenUp && !now.Before(c.nextCheck) {
				k.check(fd, c, now)
			}
			if !c.givenUp && c.nextCheck.Before(next) {
				next = c.nextCheck
			}
		}
		timer.Reset(next.Sub(now))
	}
}

// apply performs one queued action, logging what the C task logs when it
// cannot.
func (k *keepAlive) apply(clients map[int]*watchedClient, a keepAliveAction) {
	log := k.cfg.log
	switch a.typ {
	case clientAdd:
		// A session id is reused only after its session closed, so an
		// entry left for fd (its removal lost to a full queue) is stale.
		if _, stale := clients[a.fd]; !stale && len(clients) >= k.cfg.maxClients {
			log.Error("Cannot add new client")
			return
		}
		clients[a.fd] = &watchedClient{lastSeen: a.lastSeen, nextCheck: a.lastSeen.Add(k.cfg.period)}
	case clientRemove:
		if _, ok := clients[a.fd]; !ok {
			log.Error("Cannot remove client fd:" + strconv.Itoa(a.fd))
			return
		}
		delete(clients, a.fd)
	case clientUpdate:
		c, ok := clients[a.fd]
		if !ok {
			log.Error("Cannot find client fd:" + strconv.Itoa(a.fd))
			return
		}
		c.lastSeen = a.lastSeen
		c.nextCheck = a.lastSeen.Add(k.cfg.period)
	}
}

// check pings a client that has been silent for a period, or gives it up
// when it has been silent for notAliveAfter.
func (k *keepAlive) check(fd int, c *watchedClient, now time.Time) {
	log := k.cfg.log
	log.Debug("Haven't seen the client (fd=" + strconv.Itoa(fd) + ") for a while")
	if !now.Before(c.lastSeen.Add(k.cfg.notAliveAfter)) {
		log.Error("Client (fd=" + strconv.Itoa(fd) + ") not alive!")
		c.givenUp = true
		k.cfg.notAlive(fd)
		return
	}
	k.cfg.checkAlive(fd)
	c.nextCheck = now.Add(k.retryDelay())
}
