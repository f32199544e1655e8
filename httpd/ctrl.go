package httpd

// ctrlMsg is what ESP-IDF sends over its UDP control socket: work to run on
// the worker, a session to close, an async request that completed.
type ctrlMsg struct {
	work      func()
	closeFD   int
	closeConn *conn // close this session if it is still open (no id reuse)
	asyncDone *Req
	asyncFail bool // asyncDone ends as a failed handler would
}

// post queues m for the worker without ever blocking, so that handlers on
// the worker itself can queue work and trigger closes.
func (h *Handle) post(m ctrlMsg) error {
	select {
	case <-h.quit:
		return ErrFail
	default:
	}
	h.ctrlMu.Lock()
	if len(h.ctrlQ) >= maxQueuedCtrl {
		h.ctrlMu.Unlock()
		return ErrFail
	}
	h.ctrlQ = append(h.ctrlQ, m)
	h.ctrlPosted.Store(true)
	h.ctrlMu.Unlock()
	h.wake()
	return nil
}

// runCtrl runs the queued control messages in the order they were posted.
func (h *Handle) runCtrl() {
	h.ctrlMu.Lock()
	q := h.ctrlQ
	h.ctrlQ = nil
	h.ctrlPosted.Store(false)
	h.ctrlMu.Unlock()
	for i := range q {
		m := &q[i]
		switch {
		case m.work != nil:
			h.guard("work function", m.work)
		case m.asyncDone != nil:
			h.finishAsync(m.asyncDone, m.asyncFail)
		case m.closeConn != nil:
			h.closeSession(m.closeConn)
		default:
			if s := h.sessions.Get(m.closeFD); s != nil {
				h.closeSession(s.Data)
			}
		}
	}
}

// QueueWork runs fn on the worker goroutine, after the handler or callback
// it is currently running (httpd_queue_work). fn may use every session API.
// It is safe to call from any goroutine, including the worker. It fails with
// ErrFail when the server has stopped or too much work is queued.
func (h *Handle) QueueWork(fn func()) error {
	if fn == nil {
		return ErrInvalidArg
	}
	return h.post(ctrlMsg{work: fn})
}

// SessTriggerClose asks the worker to close the session (httpd_sess_trigger_close).
// Called from the session's own handler, the session closes after the
// handler returns. Safe from any goroutine.
func (h *Handle) SessTriggerClose(sockfd int) error {
	h.mu.Lock()
	s := h.sessions.Get(sockfd)
	h.mu.Unlock()
	if s == nil {
		return ErrNotFound
	}
	return h.post(ctrlMsg{closeFD: sockfd})
}
